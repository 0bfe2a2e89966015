"""Runs: the store, the jobs and the front door that the CLI and the dashboard share."""
