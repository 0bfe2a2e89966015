"""The search: the Modal Relation Graph prior's statistics (``edge_stats``), the prior
(``prior``), the rank losses (``ranking``), the search's epochs (``run``: ``run_search``) and the
candidates, picks and front (``selection``). Import the modules themselves; this package
re-exports nothing, so the prior can be used without the training floor."""
