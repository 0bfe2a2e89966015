import collections
import io
import logging
import os
import pickle
import struct

import numpy as np
import pytest

from mro_core.data.base import DataError
from mro_core.data.safe_pickle import SafeUnpickler, load_pickle


def _write(path, obj, protocol=pickle.DEFAULT_PROTOCOL):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)
    return path


def _py2_pickle(values) -> bytes:
    """What Python 2 + numpy 1.x wrote for ``{'x': float32 vector}`` with protocol 2.

    The array data is a Python 2 ``str`` (BINSTRING), which Python 3 decodes as ASCII by default.
    """
    data = np.asarray(values, "<f4").tobytes()
    arr = (
        b"cnumpy.core.multiarray\n_reconstruct\n" b"cnumpy\nndarray\n" b"K\x00\x85" b"U\x01b" b"\x87R"
        b"(K\x01" + b"K" + bytes([len(values)]) + b"\x85"
        b"cnumpy\ndtype\nU\x02f4K\x00K\x01\x87R"
        b"(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
        b"\x89T" + struct.pack("<I", len(data)) + data + b"tb"
    )
    return b"\x80\x02}U\x01x" + arr + b"s."


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvalEvil:
    def __reduce__(self):
        return (eval, ("1 + 1",))


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_round_trip_of_allowed_content(tmp_path, protocol):
    obj = {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "fortran": np.asfortranarray(np.ones((2, 3))),
        "ids": np.array([[b"v1", b"0", b"1"]]),
        "obj": np.array(["a", b"b", 3], dtype=object),
        "scalar": np.float32(1.5),
        "ints": [np.int64(3), 4],
        "set": {1, 2},
        "frozen": frozenset({"a"}),
        "od": collections.OrderedDict(a=1),
        "bytes": b"\xe9abc",
        "complex": 1 + 2j,
        "tuple": (1, "x", None),
        "dtype": np.dtype("f4"),
    }
    out = load_pickle(_write(tmp_path / "ok.pkl", obj, protocol))
    assert out.keys() == obj.keys()
    np.testing.assert_array_equal(out["f32"], obj["f32"])
    assert out["f32"].dtype == np.float32
    np.testing.assert_array_equal(out["fortran"], obj["fortran"])
    np.testing.assert_array_equal(out["ids"], obj["ids"])
    assert list(out["obj"]) == ["a", b"b", 3]
    assert out["scalar"] == np.float32(1.5) and out["bytes"] == b"\xe9abc"
    assert out["set"] == {1, 2} and out["frozen"] == frozenset({"a"})
    assert isinstance(out["od"], collections.OrderedDict) and out["complex"] == 1 + 2j
    assert out["dtype"] == np.dtype("f4") and out["tuple"] == (1, "x", None)


def test_numpy_dtype_classes_allowed():
    import numpy.dtypes

    u = SafeUnpickler(io.BytesIO(b""))
    assert u.find_class("numpy.dtypes", "Float32DType") is numpy.dtypes.Float32DType
    with pytest.raises(DataError, match="numpy.dtypes.__builtins__"):
        u.find_class("numpy.dtypes", "__builtins__")


def test_os_system_refused_and_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = _write(tmp_path / "evil.pkl", {"x": np.zeros(2), "y": _Evil(marker)})
    with pytest.raises(DataError, match=r"evil\.pkl: refused to unpickle '(posix|os|nt)\.system'.*unsafe"):
        load_pickle(path)
    assert not marker.exists()


def test_eval_refused(tmp_path):
    with pytest.raises(DataError, match=r"'builtins\.eval'"):
        load_pickle(_write(tmp_path / "eval.pkl", [_EvalEvil()]))


@pytest.mark.parametrize("name", ["load", "frombuffer", "fromfile"])
def test_other_numpy_functions_refused(name):
    with pytest.raises(DataError, match=f"numpy.{name}"):
        SafeUnpickler(io.BytesIO(b"")).find_class("numpy", name)


def test_codecs_encode_only_for_text_codecs():
    enc = SafeUnpickler(io.BytesIO(b"")).find_class("_codecs", "encode")
    assert enc("\xe9", "latin1") == b"\xe9"
    with pytest.raises(DataError, match="only text codecs"):
        enc("x", "zlib")


def test_messages_are_one_line(tmp_path):
    path = _write(tmp_path / "evil.pkl", _EvalEvil())
    with pytest.raises(DataError) as ei:
        load_pickle(path)
    assert "\n" not in str(ei.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such data file"):
        load_pickle(tmp_path / "nope.pkl")


def test_truncated_file(tmp_path):
    blob = pickle.dumps({"x": np.arange(100.0)}, protocol=4)
    path = tmp_path / "cut.pkl"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match=r"cut\.pkl .*truncated") as ei:
        load_pickle(path)
    assert "\n" not in str(ei.value)


def test_empty_and_garbage_files(tmp_path):
    (tmp_path / "empty.pkl").write_bytes(b"")
    (tmp_path / "text.pkl").write_bytes(b"hello, this is not a pickle")
    for name in ("empty.pkl", "text.pkl"):
        with pytest.raises(DataError, match=name.replace(".", r"\.")):
            load_pickle(tmp_path / name)


def test_python2_pickle_retried_with_latin1(tmp_path, caplog):
    path = tmp_path / "py2.pkl"
    path.write_bytes(_py2_pickle([1.5, -2.0]))
    with caplog.at_level(logging.INFO, logger="mro_core.data.safe_pickle"):
        out = load_pickle(path)
    np.testing.assert_array_equal(out["x"], np.array([1.5, -2.0], np.float32))
    assert "latin1" in caplog.text


def test_array_shape_beyond_the_file_is_refused_before_allocation(tmp_path):
    """A pickle whose array declares 10**12 elements is refused without allocating them (issue 14)."""
    blob = pickle.dumps(np.zeros(3, np.float32), protocol=2)
    assert b"K\x00\x85" in blob  # _reconstruct(ndarray, (0,), b'b')
    path = tmp_path / "huge.pkl"
    path.write_bytes(blob.replace(b"K\x00\x85", b"\x8a\x06\x00\x10\xa5\xd4\xe8\x00\x85", 1))  # (10**12,)
    with pytest.raises(DataError, match=r"huge\.pkl: an array declares shape \[1000000000000\]"):
        load_pickle(path)


def test_counted_item_beyond_the_file_is_refused(tmp_path):
    path = tmp_path / "big.pkl"
    path.write_bytes(b"\x80\x04\x8e" + (2**31).to_bytes(8, "little") + b"abc.")
    with pytest.raises(DataError, match=r"big\.pkl is not a complete pickle .*more bytes but only"):
        load_pickle(path)
    path.write_bytes(b"\x80\x04\x8e" + (2**62).to_bytes(8, "little") + b"abc.")  # beyond any memory
    with pytest.raises(DataError, match=r"big\.pkl: out of memory while unpickling a 15-byte file"):
        load_pickle(path)
