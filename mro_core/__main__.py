"""``python -m mro_core`` is the ``mro`` command."""

if __name__ == "__main__":
    try:
        from mro_core.cli import main
    except KeyboardInterrupt:  # Ctrl-C before the command even started: one line, no traceback
        import sys

        print("mro: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    raise SystemExit(main())
