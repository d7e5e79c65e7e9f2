from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "ordo_integration.catalog"
    verbose_name = "Inventory & allocations"
