"""Shared widgets of the dashboard pages (sidebar checkpoint picker, mask grid, ...)."""
