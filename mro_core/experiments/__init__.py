"""Experiments over many runs: the study of methods x seeds (``study``), its Ray executor
(``study_ray``) and the paper's tables (``tables``)."""
