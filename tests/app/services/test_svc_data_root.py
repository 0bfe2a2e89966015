"""app.services.data_root: only files under the data root are offered or accepted."""

from __future__ import annotations

import os

import pytest

from app.services.data_root import DataPathError, list_data_files, resolve_data_file


def test_data_root_rejects_escapes(tmp_path):
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.npz").write_bytes(b"x")
    outside = tmp_path / "secret.pkl"
    outside.write_bytes(b"x")
    os.symlink(outside, root / "link.pkl")
    os.symlink(tmp_path, root / "up")  # a symlinked folder leading out
    assert resolve_data_file(root, "sub/a.npz") == (root / "sub" / "a.npz").resolve()
    for bad, match in (("../secret.pkl", r"'\.\.'"), ("sub/../../secret.pkl", r"'\.\.'"),
                       (str(outside), "absolute"), ("link.pkl", "outside"), ("up/secret.pkl", "outside"),
                       ("", "no data file"), ("missing.npz", "does not exist"), ("sub", "not a file")):
        with pytest.raises(DataPathError, match=match):
            resolve_data_file(root, bad)
    assert list_data_files(root) == ["sub/a.npz"]
    assert list_data_files(tmp_path / "nope") == []
