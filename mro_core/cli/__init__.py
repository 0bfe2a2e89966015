"""The ``mro`` command line (``mro = mro_core.cli:main``; also ``python -m mro_core``)."""

from mro_core.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
