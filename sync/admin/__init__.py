"""Admin of the integration, one module per concern (setup, webhook events, sync runs, pushes)."""

from importlib import import_module

for _module in ("integration", "events", "runs", "pushes"):
    try:
        import_module(f"{__name__}.{_module}")
    except ModuleNotFoundError as exc:  # a concern not built yet
        if exc.name != f"{__name__}.{_module}":
            raise
