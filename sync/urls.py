from django.urls import URLPattern, path

from .views import FlourishWebhookView

urlpatterns: list[URLPattern] = [
    path(
        "flourish/<uuid:integration_uuid>/",
        FlourishWebhookView.as_view(),
        name="flourish-webhook",
    ),
]
