from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "ordo_integration.orders"
    verbose_name = "Orders"
