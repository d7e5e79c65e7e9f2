"""Admin of the integration, one module per concern (setup, webhook events, sync runs, pushes)."""

from . import events, integration, pushes, runs  # noqa: F401  (each registers its ModelAdmin)
