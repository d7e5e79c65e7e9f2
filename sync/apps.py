from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Flourish integration"

    def ready(self) -> None:
        # Importing sync.orders connects its receivers of the domain's Confirm signals (validate,
        # write the push outbox row); that must not depend on the admin being loaded.
        from . import orders, setup_steps  # noqa: F401

        setup_steps.register()
