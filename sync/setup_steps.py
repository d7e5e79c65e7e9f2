"""Setup checklist steps and Setup page sections contributed by the integration."""

from __future__ import annotations


def register() -> None:
    """Hook the integration's steps into the Setup page (filled in by the integration issues)."""
