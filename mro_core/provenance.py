"""Which search code an artefact came from, detected rather than remembered.

Every checkpoint and result file records :func:`code_version`: a digest of the code that decides
what a search or a training produces (the search wing, the training wing, the models, the data
sources and the foundations they use). The digest is taken over each module's syntax tree with
docstrings removed (``ast.dump``), so a comment, a docstring or a formatting change keeps it and a
change of behaviour does not. It needs no git checkout, so an installed package or the Docker image
knows its own version. :func:`describe` turns a recorded version into the one line that the CLI
and the dashboard show when an artefact came from other search code.

Why not the git commit: most commits touch no search code (docs, the dashboard, tests), and a
pip-installed copy has no repository to ask.
"""

from __future__ import annotations

import ast
import re
import functools
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
SEARCH_SOURCES = (
    "search", "training", "model", "data",
    "config.py", "paths.py", "metrics.py", "pareto.py",
)
"""Files and folders (relative to ``mro_core/``) whose behaviour decides a search's results."""
UNKNOWN = "unknown"
"""Recorded version of artefacts made before versions were recorded."""


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return tree


def _files(root: Path, sources: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    for s in sources:
        p = root / s
        out.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
    return out


def source_digest(root: Path, sources: tuple[str, ...] = SEARCH_SOURCES) -> str:
    """The 12-hex digest of the docstring-free syntax trees of ``sources`` under ``root``."""
    h = hashlib.sha256()
    for f in _files(root, sources):
        rel = f.relative_to(root).as_posix()
        h.update(rel.encode() + b"\0")
        h.update(ast.dump(_strip_docstrings(ast.parse(f.read_text(), filename=rel))).encode() + b"\0")
    return h.hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """This installation's search code version (computed once per process)."""
    return source_digest(PACKAGE)


def is_current(recorded: str | None) -> bool:
    """Whether an artefact recorded as ``recorded`` came from this installation's search code."""
    return bool(recorded) and recorded == code_version()


def describe(recorded: str | None, what: str) -> str | None:
    """``None`` when ``what`` came from this search code; else one plain sentence saying it did not.

    Args:
        recorded: the version the artefact recorded (``None``/``"unknown"``: it recorded none).
        what: how to name the artefact to the user, e.g. ``"checkpoints/demo.pt"``.
    """
    if is_current(recorded):
        return None
    if not recorded or recorded == UNKNOWN:
        return (f"{what} records no search code version (made before versions were recorded): "
                f"its figures may not match a search run with this code ({code_version()})")
    return (f"{what} came from other search code ({recorded}; this installation is {code_version()}): "
            "its figures may not match a search run now; `make results` regenerates the shipped ones")


STAMP = "search code"
_STAMP_RE = re.compile(rf"{STAMP} ([0-9a-f]{{12}}|{UNKNOWN})")


def stamp_line(command: str | None = None) -> str:
    """The line a result file ends with: this search code's version, and what made the file."""
    from mro_core import __version__

    made = f"; made by `{command}`" if command else ""
    return f"Made with {STAMP} {code_version()} (mro {__version__}){made}."


def read_stamp(text: str) -> str | None:
    """The version a result file's :func:`stamp_line` recorded (its last one), or ``None``."""
    found = _STAMP_RE.findall(text)
    return found[-1] if found else None
