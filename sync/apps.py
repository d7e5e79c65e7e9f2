from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Flourish integration"

    def ready(self) -> None:
        from . import setup_steps

        setup_steps.register()
