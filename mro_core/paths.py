"""Modalities, directed cross-modal paths and binary path masks.

A dataset with k modalities (in a fixed order, e.g. ``T, A, V``) has k(k-1) directed paths
``src->tgt``: the target's sequence is the attention query and the source's sequence gives keys
and values (MulT's ``V->L`` convention). Paths are ordered by source, then target, skipping
``src == tgt``; for ``T, A, V`` this is the paper's order ``[T->A, T->V, A->T, A->V, V->T, V->A]``.

A mask has one bit per path in that order. Accepted spellings (see :func:`parse_mask`):
``011011``, ``[0,1,1,0,1,1]``, ``0,1,1,0,1,1`` and a list of path names
``T->V,A->T,V->T,V->A``. The canonical form is the bit string. The all-zero mask is not a subnet.

This module needs no torch so that the CLI and the dashboard can parse masks cheaply.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

Mask = tuple[int, ...]
"""A mask is a tuple of 0/1 ints, one per path, in :meth:`PathSpace.paths` order."""

ARROW = "->"
MAX_EXHAUSTIVE_MASKS = 4096
"""Above this many non-empty masks, enumerating them all is refused (k >= 5 gives 2^20 - 1)."""


class MaskError(ValueError):
    """A mask that does not fit the path space (wrong length, bad symbol, empty, unknown path)."""


@dataclass(frozen=True)
class Path:
    """One directed cross-modal path: ``target`` attends to ``source``.

    Attributes:
        src: index of the source modality (gives keys and values).
        tgt: index of the target modality (gives the queries; the path output lives here).
        name: ``"<src name>-><tgt name>"``.
    """

    src: int
    tgt: int
    name: str


@dataclass(frozen=True)
class PathSpace:
    """The k(k-1) paths over an ordered tuple of modality names, and the masks over them.

    Args:
        modalities: modality names in dataset order, at least two, unique, without ``->``, ``,``
            or whitespace (they appear in path names).

    Raises:
        ValueError: on fewer than two modalities, duplicates or unusable names.
    """

    modalities: tuple[str, ...]

    def __post_init__(self) -> None:
        mods = tuple(str(m) for m in self.modalities)
        object.__setattr__(self, "modalities", mods)
        if len(mods) < 2:
            raise ValueError(
                f"a path space needs at least 2 modalities (got {len(mods)}: {list(mods)}); "
                "cross-modal paths connect two different modalities"
            )
        if len(set(mods)) != len(mods):
            raise ValueError(f"modality names must be unique (got {list(mods)})")
        for m in mods:
            if not m or ARROW in m or "," in m or re.search(r"\s", m) or m in "[]":
                raise ValueError(
                    f"modality name {m!r} is not usable: names must be non-empty and contain "
                    "no '->', ',' or whitespace"
                )

    # ----------------------------------------------------------------------------------------
    @property
    def k(self) -> int:
        """Number of modalities."""
        return len(self.modalities)

    @property
    def num_paths(self) -> int:
        """k(k-1) directed paths."""
        return self.k * (self.k - 1)

    @property
    def num_masks(self) -> int:
        """Number of non-empty masks, 2^(k(k-1)) - 1."""
        return 2**self.num_paths - 1

    @property
    def paths(self) -> tuple[Path, ...]:
        """All paths, ordered by source then target (``i != j``)."""
        out = []
        for i, src in enumerate(self.modalities):
            for j, tgt in enumerate(self.modalities):
                if i != j:
                    out.append(Path(i, j, f"{src}{ARROW}{tgt}"))
        return tuple(out)

    @property
    def path_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.paths)

    def path_index(self, name: str) -> int:
        """Index of a path given as ``src->tgt`` (spaces around the arrow are allowed)."""
        norm = re.sub(r"\s*->\s*", ARROW, name.strip())
        try:
            return self.path_names.index(norm)
        except ValueError:
            raise MaskError(
                f"unknown path {name!r}; the paths are {', '.join(self.path_names)}"
            ) from None

    # ----------------------------------------------------------------------------------------
    def full_mask(self) -> Mask:
        return (1,) * self.num_paths

    def _order_hint(self) -> str:
        return f"{self.num_paths} bits, one per path in the order [{', '.join(self.path_names)}]"

    def validate(self, bits: Sequence[int]) -> Mask:
        """Check a sequence of ints and return it as a :data:`Mask`.

        Raises:
            MaskError: wrong length, a value other than 0/1, or no active path.
        """
        bits = tuple(int(b) for b in bits)
        if len(bits) != self.num_paths:
            raise MaskError(
                f"mask has {len(bits)} bits but this model has {self._order_hint()}"
            )
        if any(b not in (0, 1) for b in bits):
            raise MaskError(f"mask bits must be 0 or 1 (got {list(bits)}); expected {self._order_hint()}")
        if not any(bits):
            raise MaskError(
                "the all-zero mask activates no path and is not a subnet; turn on at least one of "
                f"[{', '.join(self.path_names)}]"
            )
        return bits

    def parse(self, text: str | Sequence[int] | Sequence[str]) -> Mask:
        """Parse any accepted spelling of a mask (see the module docstring).

        Args:
            text: ``"011011"``, ``"[0,1,1,0,1,1]"``, ``"0,1,1,0,1,1"``, ``"T->V,A->T"``, or an
                already split sequence of ints / path names.

        Raises:
            MaskError: with the expected length and path order.
        """
        if not isinstance(text, str):
            items = list(text)
            if items and all(isinstance(x, str) and ARROW in x for x in items):
                return self._from_names(items)
            try:
                return self.validate([_bit(x, self) for x in items])
            except TypeError:
                raise MaskError(f"cannot read a mask from {text!r}; expected {self._order_hint()}") from None
        s = text.strip()
        if not s:
            raise MaskError(f"empty mask; expected {self._order_hint()}")
        if ARROW in s:
            return self._from_names([p for p in s.strip("[]").split(",") if p.strip()])
        body = s[1:-1] if s.startswith("[") and s.endswith("]") else s
        if "," in body or " " in body.strip():
            parts = [p for p in re.split(r"[,\s]+", body.strip()) if p]
        else:
            parts = list(body)
        return self.validate([_bit(p, self) for p in parts])

    def _from_names(self, names: Iterable[str]) -> Mask:
        bits = [0] * self.num_paths
        for n in names:
            i = self.path_index(n)
            if bits[i]:  # 'T->V,T->V' is a typo for another path, not a one-path mask
                raise MaskError(f"path {self.path_names[i]} is named twice in the mask; name each path once, "
                                f"from {self._order_hint()}")
            bits[i] = 1
        return self.validate(bits)

    # ----------------------------------------------------------------------------------------
    @staticmethod
    def to_bits(mask: Sequence[int]) -> str:
        """Canonical display form: the bit string, e.g. ``"011011"``."""
        return "".join(str(int(b)) for b in mask)

    def active_paths(self, mask: Sequence[int]) -> tuple[Path, ...]:
        return tuple(p for p, b in zip(self.paths, mask) if b)

    def active_names(self, mask: Sequence[int]) -> tuple[str, ...]:
        return tuple(p.name for p in self.active_paths(mask))

    def describe(self, mask: Sequence[int]) -> str:
        """``"011011 (T->V, A->T, V->T, V->A)"``."""
        return f"{self.to_bits(mask)} ({', '.join(self.active_names(mask))})"

    def all_masks(self) -> list[Mask]:
        """Every non-empty mask, in increasing binary order of the bit string.

        Raises:
            ValueError: when there are more than :data:`MAX_EXHAUSTIVE_MASKS` (k >= 5).
        """
        if self.num_masks > MAX_EXHAUSTIVE_MASKS:
            raise ValueError(
                f"{self.num_masks} masks for k={self.k} are too many to enumerate "
                f"(limit {MAX_EXHAUSTIVE_MASKS}); sample masks instead"
            )
        return [m for m in itertools.product((0, 1), repeat=self.num_paths) if any(m)]

    def iter_single_path_masks(self) -> Iterator[Mask]:
        for i in range(self.num_paths):
            yield tuple(int(j == i) for j in range(self.num_paths))


def _bit(x: object, space: PathSpace) -> int:
    s = str(x).strip()
    if s not in ("0", "1"):
        raise MaskError(f"mask symbol {s!r} is not 0 or 1; expected {space._order_hint()}")
    return int(s)


DEFAULT_MODALITIES = ("T", "A", "V")
"""The paper's three modalities: text, audio, vision."""


def default_space() -> PathSpace:
    return PathSpace(DEFAULT_MODALITIES)
