from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import include, path, re_path
from django.views.static import serve


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", lambda request: redirect("admin:index")),
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("webhooks/", include("sync.urls")),
]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]

admin.site.site_header = "Ordo ↔ Flourish portal"
admin.site.site_title = "Ordo ↔ Flourish portal"
admin.site.index_title = "Operations"
