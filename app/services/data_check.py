"""Which files a file-based dataset reads, and a quick check that a chosen file can be one.

The Search page offers only the files of the chosen dataset's kind (``npz``: ``.npz`` archives;
MOSEI, MOSI and MELD: their feature pickles) and, before anything is loaded, names in one line what
is wrong with a file that cannot be one and how to fix it; the form keeps Start disabled meanwhile.
Without this check numpy's own error reached the page: a random-bytes ``.npz`` was said to contain
"pickled (object) data" that one could "load unsafely using allow_pickle" (wrong, and an unsafe
suggestion), and a 0-byte file got one reason from the inspection and another from Start.

The check reads at most the file's zip directory; the full inspection
(:func:`mro_core.data.inspect.inspect_source`) still decides whether the content is usable.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

FILE_KINDS: dict[str, tuple[str, ...]] = {
    "npz": (".npz",),
    "mosei": (".pkl",),
    "mosi": (".pkl",),
    "meld": (".pkl",),
}
"""File suffixes each file-based dataset reads (``synthetic`` and the built-in ``mfeat`` read none)."""

FIXES = {
    "npz": "write it with numpy.savez (the README's npz format) or `mro data synthetic --out FILE.npz`",
    "mosei": "give MulT's mosei_senti_data.pkl (or *_data_noalign.pkl) or MMSA's aligned_50.pkl / unaligned_50.pkl",
    "mosi": "give MulT's mosi_data.pkl (or mosi_data_noalign.pkl) or MMSA's aligned_50.pkl / unaligned_50.pkl",
    "meld": "give MMGCN's MELD_features_raw1.pkl or DialogueRNN's MELD_features_raw.pkl",
}
"""What to do about a file that cannot be the dataset's, per dataset."""

_WHAT = {"npz": "a valid .npz archive", "mosei": "a MOSEI feature pickle", "mosi": "a MOSI feature pickle",
         "meld": "a MELD feature pickle"}
_ZIP_MAGIC = b"PK"


def file_kinds(dataset: str) -> tuple[str, ...]:
    """The suffixes of the files ``dataset`` reads; () for a source that reads no file."""
    return FILE_KINDS.get(dataset, ())


def check_data_file(dataset: str, path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be ``dataset``'s data file, or None when it may be.

    Args:
        dataset: a file-based dataset, one of :data:`FILE_KINDS`.
        path: the chosen file (already resolved under the data root).

    Returns:
        One line naming the problem and the fix (e.g. "x.npz is not a valid .npz archive
        (0 bytes); write it with numpy.savez ..."), or None: the file may be read (its content is
        judged by the inspection).

    Raises:
        ValueError: ``dataset`` reads no file.
    """
    if dataset not in FILE_KINDS:
        raise ValueError(f"dataset {dataset!r} reads no data file; file-based datasets are {sorted(FILE_KINDS)}")
    p = Path(path)
    fix, what = FIXES[dataset], _WHAT[dataset]
    if not p.name.lower().endswith(FILE_KINDS[dataset]):
        return f"{p.name} is not {what} ({dataset} reads {' / '.join(FILE_KINDS[dataset])} files); {fix}"
    try:
        with open(p, "rb") as f:
            head = f.read(len(_ZIP_MAGIC))
    except IsADirectoryError:
        return f"{p.name} is a folder, not {what}; {fix}"
    except PermissionError:
        return f"{p.name} cannot be read (permission denied); check its permissions"
    except OSError as e:
        return f"{p.name} cannot be read ({e.strerror or e}); check that it exists and can be opened"
    if not head:
        return f"{p.name} is not {what} (0 bytes); {fix}"
    if dataset == "npz" and not zipfile.is_zipfile(p):
        why = "a truncated zip file" if head == _ZIP_MAGIC else "not a zip file"
        return f"{p.name} is not {what} ({why}); {fix}"
    return None
