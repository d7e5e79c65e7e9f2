"""Celery tasks of the integration, one module per concern. Every task has an explicit name
(``sync.tasks.<name>``) so that renaming a module never orphans queued messages or beat entries."""

from . import inventory, orders, webhooks  # noqa: F401  (each defines its tasks)
