"""Load third-party pickle files without running the code a pickle can name (DESIGN 8).

A pickle is a small program: its ``GLOBAL``/``STACK_GLOBAL`` opcodes import any callable by
module and name and its ``REDUCE`` opcode calls it, so ``pickle.load`` on a hostile file can run
``os.system``. The community feature files we read (MulT's and MMSA's MOSEI/MOSI pickles,
MMGCN's and DialogueRNN's MELD pickles) hold only numpy arrays inside dicts, lists, tuples and
sets, so :class:`SafeUnpickler` resolves only the globals those need and refuses every other name
with a :class:`~mro_core.data.base.DataError` *before* anything is called.

Allowed globals (what ``pickle.dumps`` of such data names, checked on numpy 2.x for pickle
protocols 0-5; numpy 1.x and Python 2 files name the ``numpy.core`` spellings):

* ``numpy.ndarray``, ``numpy.dtype`` and the ``numpy.dtypes.*DType`` classes;
* ``numpy._core.multiarray._reconstruct`` / ``numpy.core.multiarray._reconstruct`` (arrays,
  protocols 0-4) and ``.scalar`` (numpy scalars);
* ``numpy._core.numeric._frombuffer`` / ``numpy.core.numeric._frombuffer`` (arrays written with
  protocol 5, the default from Python 3.14);
* ``collections.OrderedDict`` and the builtins ``set``, ``frozenset``, ``complex``, ``slice``,
  ``bytearray`` (``__builtin__`` in protocol 0-2 and Python 2 files);
* ``_codecs.encode``, but only for text codecs: Python 3 writes ``bytes`` in protocol 0-2 as
  ``_codecs.encode(str, 'latin1')`` (MulT's MOSI ``id`` rows are bytes).

Python 2 pickles (some MulT and DialogueRNN releases) store byte strings as ``str``; Python 3 reads
them as ASCII text by default and fails on the first non-ASCII byte (any float array's raw data).
:func:`load_pickle` then retries with ``encoding='latin1'``, the setting numpy documents for
Python 2 array pickles.
"""

from __future__ import annotations

import codecs
import importlib
import logging
import os
import pickle
from pathlib import Path
from typing import Any, BinaryIO, Callable

from mro_core.data.base import DataError

log = logging.getLogger(__name__)

__all__ = ["SafeUnpickler", "load_pickle"]

# Python 2's name for builtins, which Python 3's own find_class renames (fix_imports); an
# overridden find_class sees the raw name, so the renaming is repeated here.
_MODULE_ALIASES = {"__builtin__": "builtins"}
_BUILTINS = ("set", "frozenset", "complex", "slice", "bytearray")
# Codecs `_codecs.encode` may run: Python 3 protocol 0-2 pickles spell bytes as text + 'latin1'.
_TEXT_CODECS = frozenset({"latin1", "latin-1", "iso-8859-1", "iso8859-1", "utf-8", "utf8", "ascii"})


def _numpy_core(submodule: str) -> Any:
    """``numpy._core.<submodule>`` (numpy >= 2), else ``numpy.core.<submodule>`` (numpy 1.x).

    Importing ``numpy.core`` on numpy 2 works but warns, so the new name is tried first.
    """
    try:
        return importlib.import_module(f"numpy._core.{submodule}")
    except ImportError:
        return importlib.import_module(f"numpy.core.{submodule}")


def _encode_text(obj: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``codecs.encode`` restricted to text -> bytes with a plain text codec."""
    if not isinstance(obj, str) or encoding.lower().replace("_", "-") not in _TEXT_CODECS:
        raise DataError(
            f"refused _codecs.encode({type(obj).__name__}, {encoding!r}): only text codecs "
            f"{sorted(_TEXT_CODECS)} are allowed; the file may be unsafe"
        )
    return codecs.encode(obj, encoding, errors)


def _resolvers() -> dict[tuple[str, str], Callable[[], Any]]:
    """(module, name) -> a function returning the object (numpy's private modules load lazily)."""
    import collections

    import numpy as np

    table: dict[tuple[str, str], Callable[[], Any]] = {
        ("numpy", "ndarray"): lambda: np.ndarray,
        ("numpy", "dtype"): lambda: np.dtype,
        ("collections", "OrderedDict"): lambda: collections.OrderedDict,
        ("_codecs", "encode"): lambda: _encode_text,
    }
    for pkg in ("numpy._core", "numpy.core"):
        table[(f"{pkg}.multiarray", "_reconstruct")] = lambda: _numpy_core("multiarray")._reconstruct
        table[(f"{pkg}.multiarray", "scalar")] = lambda: _numpy_core("multiarray").scalar
        table[(f"{pkg}.numeric", "_frombuffer")] = lambda: _numpy_core("numeric")._frombuffer
    import builtins

    for name in _BUILTINS:
        table[("builtins", name)] = lambda name=name: getattr(builtins, name)
    return table


_ALLOWED = _resolvers()


class SafeUnpickler(pickle.Unpickler):
    """A :class:`pickle.Unpickler` that resolves only numpy-array and builtin-container globals.

    Any other global (``os.system``, ``builtins.eval``, a model class, ...) raises
    :class:`~mro_core.data.base.DataError` naming it, before it can be called. Construct it like
    :class:`pickle.Unpickler` (``encoding=`` etc. pass through).
    """

    def find_class(self, module: str, name: str) -> Any:
        mod = _MODULE_ALIASES.get(module, module)
        if name == "_reconstruct" and mod in ("numpy._core.multiarray", "numpy.core.multiarray"):
            return _checked_reconstruct(getattr(self, "size_limit", 1 << 62))
        resolve = _ALLOWED.get((mod, name))
        if resolve is not None:
            return resolve()
        if mod == "numpy.dtypes":
            import numpy as np

            cls = getattr(importlib.import_module("numpy.dtypes"), name, None)
            if isinstance(cls, type) and issubclass(cls, np.dtype):
                return cls
        raise DataError(
            f"refused to unpickle '{module}.{name}': only numpy arrays and builtin containers are "
            "allowed, and a pickle naming anything else can run code, so the file may be unsafe"
        )


class _BoundedReader:
    """A read-only view of a pickle file that refuses reads past its end *before* they happen.

    A pickle declares the length of each bytes/str item (up to 2**64) and the unpickler asks the
    file for that many bytes; a hostile or broken length would make ``read`` allocate it. Declared
    lengths are checked against the bytes left in the file (no ``readinto``: the unpickler then
    always goes through :meth:`read`).
    """

    def __init__(self, f: BinaryIO, size: int):
        self._f, self._size = f, size

    def read(self, n: int = -1) -> bytes:
        left = self._size - self._f.tell()
        if n is not None and n > max(left, 0):
            # reported by load_pickle as "NAME is not a complete pickle (...); ... truncated"
            raise pickle.UnpicklingError(f"an item needs {n} more bytes but only {max(left, 0)} are left in the file")
        return self._f.read(n)

    def readline(self, limit: int = -1) -> bytes:
        return self._f.readline(limit)

    def peek(self, n: int = 0) -> bytes:  # lets the unpickler prefetch (fast for many small items)
        return self._f.peek(n)


def _checked_reconstruct(limit: int) -> Callable[..., Any]:
    """numpy's ``_reconstruct`` (how pickles create arrays), refusing a shape the file cannot fill.

    Array data always comes from the file, so no array of a genuine data pickle is larger than it;
    numpy would allocate the declared shape before any data is read.
    """
    import math

    real = _numpy_core("multiarray")._reconstruct

    def reconstruct(subtype: Any, shape: Any, dtype: Any) -> Any:
        import numpy as np

        try:
            dims = [int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,))]
            nbytes = math.prod(dims) * np.dtype(dtype).itemsize
        except (TypeError, ValueError, OverflowError) as e:
            raise DataError(f"refused an array of shape {shape!r}: {_one_line(e)}") from None
        if nbytes > limit:
            raise DataError(
                f"an array declares shape {dims} ({nbytes} bytes), more than the whole file ({limit} bytes); "
                "it is damaged or not a data pickle"
            )
        return real(subtype, shape, dtype)

    return reconstruct


def _load_with(f: BinaryIO, encoding: str) -> Any:
    size = os.fstat(f.fileno()).st_size
    unpickler = SafeUnpickler(_BoundedReader(f, size), encoding=encoding)
    unpickler.size_limit = size
    return unpickler.load()


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def load_pickle(path: str | Path) -> Any:
    """Unpickle ``path`` with :class:`SafeUnpickler`, retrying as a Python 2 pickle if needed.

    Args:
        path: the pickle file (a path the user gave; never an upload, see DESIGN 8).

    Returns:
        The unpickled object.

    Raises:
        DataError: missing or unreadable file, truncated or malformed pickle, text that decodes
            neither as ASCII nor as latin1, or a global outside the allow-list. Every message is
            one line and starts with the file name.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such data file: {path}; check --data-path")
    for encoding in ("ASCII", "latin1"):
        try:
            with open(path, "rb") as f:
                return _load_with(f, encoding)
        except UnicodeDecodeError as e:
            if encoding == "latin1":  # latin1 maps every byte; kept for completeness
                raise DataError(f"{path.name}: cannot decode its text ({_one_line(e)})") from None
            log.info(
                "%s: not readable as a Python 3 pickle (%s); retrying with encoding='latin1' "
                "as for a Python 2 pickle", path.name, e.reason,
            )
        except DataError as e:
            raise DataError(f"{path.name}: {e}") from None
        except (EOFError, pickle.UnpicklingError) as e:
            raise DataError(
                f"{path.name} is not a complete pickle ({_one_line(e)}); the file may be "
                "truncated or in another format: download it again"
            ) from None
        except (ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError) as e:
            raise DataError(
                f"{path.name} is a malformed pickle ({type(e).__name__}: {_one_line(e)}); the "
                "file may be truncated or corrupt: download it again"
            ) from None
        except MemoryError:
            raise DataError(
                f"{path.name}: out of memory while unpickling a {path.stat().st_size}-byte file (an item "
                "declares more than memory holds); it is damaged or not a data pickle"
            ) from None
        except OSError as e:
            raise DataError(f"{path.name}: cannot read the file ({e.strerror or e})") from None
    raise AssertionError("unreachable")  # the loop either returns or raises
