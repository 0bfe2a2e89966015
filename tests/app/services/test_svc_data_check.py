"""app.services.data_check: the files each dataset reads, and one reason (with its fix) for a file
that cannot be one."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest

from app.services.data_check import FIXES, check_data_file, file_kinds
from app.services.data_root import list_data_files


def test_each_dataset_offers_only_its_own_file_kind(tmp_path):
    for name in ("a.npz", "b.pkl", "sub/c.PKL", "d.txt", "e.npy"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert list_data_files(tmp_path, suffixes=file_kinds("npz")) == ["a.npz"]  # no pickle offered for npz
    for dataset in ("mosei", "mosi", "meld"):
        assert list_data_files(tmp_path, suffixes=file_kinds(dataset)) == ["b.pkl", "sub/c.PKL"]
    assert file_kinds("synthetic") == () and file_kinds("mfeat") == ()  # they read no file


def test_unreadable_npz_gets_one_reason_naming_the_problem_and_the_fix(tmp_path):
    fix = "write it with numpy.savez"
    empty, noise, cut = tmp_path / "x.npz", tmp_path / "noise.npz", tmp_path / "cut.npz"
    empty.write_bytes(b"")
    noise.write_bytes(os.urandom(4096))
    buf = io.BytesIO()
    np.savez(buf, a=np.zeros(3))
    cut.write_bytes(buf.getvalue()[:40])  # a zip whose directory is gone
    assert check_data_file("npz", empty).startswith(f"x.npz is not a valid .npz archive (0 bytes); {fix}")
    assert check_data_file("npz", noise).startswith(f"noise.npz is not a valid .npz archive (not a zip file); {fix}")
    assert check_data_file("npz", cut).startswith(f"cut.npz is not a valid .npz archive (a truncated zip file); {fix}")
    for p in (empty, noise, cut):  # never numpy's pickle advice
        assert "pickle" not in check_data_file("npz", p)
    good = tmp_path / "good.npz"
    np.savez(good, a=np.zeros(3))
    assert check_data_file("npz", good) is None  # an archive: its content is the inspection's to judge
    with zipfile.ZipFile(tmp_path / "plain.npz", "w") as z:
        z.writestr("readme.txt", "hi")
    assert check_data_file("npz", tmp_path / "plain.npz") is None


def test_pickle_datasets_and_wrong_kinds(tmp_path):
    (tmp_path / "empty.pkl").write_bytes(b"")
    (tmp_path / "data.pkl").write_bytes(b"\x80\x04N.")
    (tmp_path / "folder.pkl").mkdir()
    assert check_data_file("meld", tmp_path / "empty.pkl") == f"empty.pkl is not a MELD feature pickle (0 bytes); {FIXES['meld']}"
    assert check_data_file("mosi", tmp_path / "empty.pkl").startswith("empty.pkl is not a MOSI feature pickle (0 bytes)")
    assert check_data_file("mosei", tmp_path / "data.pkl") is None
    assert check_data_file("mosei", tmp_path / "folder.pkl").startswith("folder.pkl is a folder")
    assert check_data_file("npz", tmp_path / "data.pkl").startswith(
        "data.pkl is not a valid .npz archive (npz reads .npz files)")
    with pytest.raises(ValueError, match="reads no data file"):
        check_data_file("synthetic", tmp_path / "data.pkl")
