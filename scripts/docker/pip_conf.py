"""Write the pip.conf a container needs to reach the same package index as this host.

Reads the host's EFFECTIVE pip settings (``python3 -m pip config list``: config files and PIP_*
environment variables, the environment winning as in pip) instead of naming any index host in the
repository. Only network settings travel: http(s) ``index-url``/``extra-index-url``/``find-links``,
``trusted-host``, ``proxy``, ``timeout``; local paths (``file://``, folders) do not exist in the
container and are dropped. A ``cert`` bundle is copied into ``CERT_DIR`` and referenced at
``/usr/local/share/mro-host-certs/`` where the base image puts it.

Usage: python3 pip_conf.py OUT_PIP_CONF CERT_DIR
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

URL_KEYS = ("index-url", "extra-index-url", "find-links")
PLAIN_KEYS = ("trusted-host", "proxy", "timeout", "default-timeout")
CONTAINER_CERT_DIR = "/usr/local/share/mro-host-certs"


def effective_settings(python: str = sys.executable) -> dict[str, str]:
    """The host pip's settings, from ``pip config list`` (files and PIP_* variables)."""
    out = subprocess.run([python, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    return parse_config_list(out)


def parse_config_list(out: str) -> dict[str, str]:
    """``{key: value}`` as pip resolves them: ``:env:`` beats ``install.`` beats ``global.``."""
    ranked: dict[str, tuple[int, str]] = {}
    rank = {"global": 0, "install": 1, ":env:": 2}
    for line in out.splitlines():
        if "=" not in line or "." not in line.split("=", 1)[0]:
            continue
        name, value = line.split("=", 1)
        section, key = name.rsplit(".", 1)
        if section not in rank:
            continue
        value = value.strip().strip("'\"")
        if key not in ranked or rank[section] >= ranked[key][0]:
            ranked[key] = (rank[section], value)
    return {k: v for k, (_, v) in ranked.items()}


def container_pip_conf(settings: dict[str, str], cert_dir: Path) -> str:
    lines = ["[global]"]
    for key in URL_KEYS:
        urls = [u for u in settings.get(key, "").split() if u.startswith(("http://", "https://"))]
        if urls:
            lines.append(f"{key} = {' '.join(urls)}")
    for key in PLAIN_KEYS:
        if settings.get(key):
            lines.append(f"{key} = {settings[key]}")
    cert = settings.get("cert")
    if cert and Path(cert).is_file():
        cert_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cert, cert_dir / "ca-bundle.pem")
        lines.append(f"cert = {CONTAINER_CERT_DIR}/ca-bundle.pem")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: pip_conf.py OUT_PIP_CONF CERT_DIR", file=sys.stderr)
        return 2
    out, cert_dir = Path(argv[0]), Path(argv[1])
    cert_dir.mkdir(parents=True, exist_ok=True)
    out.write_text(container_pip_conf(effective_settings(), cert_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
