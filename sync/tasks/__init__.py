"""Celery tasks of the integration, one module per concern. Every task has an explicit name
(``sync.tasks.<name>``) so that renaming a module never orphans queued messages or beat entries."""

from importlib import import_module

for _module in ("webhooks", "inventory", "orders"):
    try:
        import_module(f"{__name__}.{_module}")
    except ModuleNotFoundError as exc:  # a concern not built yet
        if exc.name != f"{__name__}.{_module}":
            raise
