"""The portal's URLs plus ``bench/bare/``: the floor a webhook endpoint is compared with. It goes
through the same middleware and reads the body, then answers 200 without doing anything."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from ordo_integration.urls import urlpatterns as portal_urlpatterns


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    request.body  # noqa: B018 - read it, as the real endpoint does
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")


urlpatterns = [path("bench/bare/", bare), *portal_urlpatterns]
