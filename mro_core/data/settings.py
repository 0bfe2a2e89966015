"""The shapes of the community's MOSEI / MOSI feature files, for counting and sizing without data.

``mro flops --dataset mosei --unaligned`` and ``mro bench --memory`` need the sequence lengths and
feature dims a real file has, before anyone has the file. They are MMSA's (``thuiar/MMSA``,
``src/MMSA/config/config_regression.json``, ``datasetCommonParams``; read at commit
``085d2ccd2a58dc515c8680d83e89ddc96903cf24``):

========  =========  ==================  ==================  ===============================
dataset   aligned    seq_lens (T, A, V)  feature_dims        file
========  =========  ==================  ==================  ===============================
mosei     yes        50, 50, 50          768, 74, 35         MOSEI/Processed/aligned_50.pkl
mosei     no         50, 500, 375        768, 74, 35         MOSEI/Processed/unaligned_50.pkl
mosi      yes        50, 50, 50          768, 5, 20          MOSI/Processed/aligned_50.pkl
mosi      no         50, 500, 375        768, 5, 20          MOSI/Processed/unaligned_50.pkl
========  =========  ==================  ==================  ===============================

Text is BERT (768-d), audio COVAREP (MOSEI 74-d, MOSI 5-d), vision Facet (MOSEI 35-d, MOSI 20-d).
The ``mosei`` preset's own FLOPs setting (MulT's GloVe 300-d text, 50 aligned steps) stays in
:mod:`mro_core.config`; the loaders always read the shapes from the file itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from mro_core.data.base import DataError

__all__ = ["FeatureSetting", "SETTINGS", "feature_setting"]

MMSA_CONFIG = (
    "https://github.com/thuiar/MMSA/blob/085d2ccd2a58dc515c8680d83e89ddc96903cf24/"
    "src/MMSA/config/config_regression.json"
)


@dataclass(frozen=True)
class FeatureSetting:
    """Shapes of one community feature file."""

    dataset: str
    aligned: bool
    modalities: tuple[str, ...]
    seq_lens: tuple[int, ...]
    input_dims: tuple[int, ...]
    file: str
    source: str = MMSA_CONFIG


SETTINGS: dict[tuple[str, bool], FeatureSetting] = {
    ("mosei", True): FeatureSetting("mosei", True, ("T", "A", "V"), (50, 50, 50), (768, 74, 35),
                                    "MOSEI/Processed/aligned_50.pkl"),
    ("mosei", False): FeatureSetting("mosei", False, ("T", "A", "V"), (50, 500, 375), (768, 74, 35),
                                     "MOSEI/Processed/unaligned_50.pkl"),
    ("mosi", True): FeatureSetting("mosi", True, ("T", "A", "V"), (50, 50, 50), (768, 5, 20),
                                   "MOSI/Processed/aligned_50.pkl"),
    ("mosi", False): FeatureSetting("mosi", False, ("T", "A", "V"), (50, 500, 375), (768, 5, 20),
                                    "MOSI/Processed/unaligned_50.pkl"),
}


def feature_setting(dataset: str, *, aligned: bool = True) -> FeatureSetting:
    """MMSA's shapes for ``dataset`` (``mosei`` or ``mosi``), aligned or not."""
    try:
        return SETTINGS[(dataset, bool(aligned))]
    except KeyError:
        known = sorted({d for d, _ in SETTINGS})
        raise DataError(f"no known feature shapes for dataset {dataset!r}; choose one of {known}") from None
