"""Provenance: the search code version is a digest of behaviour (docstrings and comments do not
count), recorded in checkpoints and tables, and a file from other search code is named as such."""

import json
import shutil
from pathlib import Path

import pytest

from mro_core import provenance as P
from mro_core.cli import main

PKG = Path(P.__file__).resolve().parent


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "mro_core"
    shutil.copytree(PKG, root, ignore=shutil.ignore_patterns("__pycache__", "*.json", "*.npz"))
    return root


def test_docstrings_and_comments_keep_the_version_code_changes_it(tmp_path):
    root = _copy(tmp_path)
    v0 = P.source_digest(root)
    assert v0 == P.code_version()
    f = root / "search" / "prior.py"
    src = f.read_text()
    f.write_text(src.replace('"""', '"""Edited docstring. ', 1) + "\n# a comment\n")
    assert P.source_digest(root) == v0
    f.write_text(src + "\nEXTRA = 1\n")
    assert P.source_digest(root) != v0
    f.write_text(src)
    (root / "app_only.py").write_text("X = 2\n")  # outside SEARCH_SOURCES: not search code
    assert P.source_digest(root) == v0


def test_describe_names_stale_and_unrecorded_files():
    assert P.describe(P.code_version(), "x.pt") is None
    assert "other search code (0123456789ab" in P.describe("0123456789ab", "x.pt")
    assert "records no search code version" in P.describe(None, "x.pt")
    assert P.read_stamp("table\n\n" + P.stamp_line("mro table")) == P.code_version()
    assert P.read_stamp("no stamp here") is None


def test_checkpoints_record_the_version_and_mro_provenance_reads_it(tmp_path, capsys):
    import torch

    from conftest import tiny_config
    from mro_core.config import TrainConfig
    from mro_core.training.checkpoint import Checkpoint, load_checkpoint, save_checkpoint

    ck = Checkpoint(tiny_config(), TrainConfig(), {})
    save_checkpoint(ck, tmp_path / "new.pt")
    assert load_checkpoint(tmp_path / "new.pt").code_version == P.code_version()
    raw = torch.load(tmp_path / "new.pt", weights_only=True)
    raw["code_version"] = "0123456789ab"
    torch.save(raw, tmp_path / "old.pt")
    del raw["code_version"]
    torch.save(raw, tmp_path / "older.pt")
    assert main(["provenance", str(tmp_path / "new.pt")]) == 0
    assert main(["provenance", "--check", str(tmp_path / "new.pt")]) == 0
    capsys.readouterr()
    assert main(["provenance", "--check", "--json", str(tmp_path / "new.pt"), str(tmp_path / "old.pt"),
                 str(tmp_path / "older.pt")]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [f["current"] for f in doc["files"]] == [True, False, False]
    assert [f["code_version"] for f in doc["files"]] == [P.code_version(), "0123456789ab", "unknown"]


def test_result_files_are_read_by_their_stamp(tmp_path, capsys):
    md = tmp_path / "t.md"
    md.write_text("| a |\n|---|\n| 1 |\n\n" + P.stamp_line("mro table --suite table5") + "\n")
    csv_now = tmp_path / "t.csv"
    csv_now.write_text(f"model,mae,code_version\nx,0.1,{P.code_version()}\n")
    csv_mixed = tmp_path / "m.csv"
    csv_mixed.write_text(f"model,mae,code_version\nx,0.1,{P.code_version()}\ny,0.2,0123456789ab\n")
    assert main(["provenance", "--check", str(md), str(csv_now)]) == 0
    assert main(["provenance", "--check", str(csv_mixed)]) == 1
    assert "mixed:" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["missing.pt", "missing.md"])
def test_a_missing_file_is_one_line(tmp_path, capsys, name):
    assert main(["provenance", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mro: error: no such file")


def test_the_manifest_is_named_as_the_manifest_not_as_a_stale_result(tmp_path, capsys):
    (tmp_path / "results").mkdir()
    man = tmp_path / "results" / "MANIFEST.json"
    man.write_text(json.dumps({"results/a.md": {"code_version": P.code_version(), "sha256": "0" * 64}}))
    assert main(["provenance", "--check", str(man)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[1] == f"{man}: the manifest itself, not a result (it records the search code of 1 file(s); " \
                     "name those files to check them)"
    other = tmp_path / "results" / "other.json"  # any other JSON without a stamp is still unrecorded
    other.write_text("{}")
    assert main(["provenance", "--check", str(other)]) == 1
