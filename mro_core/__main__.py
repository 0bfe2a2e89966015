"""``python -m mro_core`` is the ``mro`` command."""

from mro_core.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
