"""Measurements of trained models and the code: shared-weight quality against stand-alone training
(``quality``, ``ground_truth``), the speed benchmark (``bench``) and peak memory (``memory``)."""
