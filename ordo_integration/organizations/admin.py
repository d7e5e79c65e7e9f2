from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html

from .models import Brand, License, Membership, Organization
from .scoping import OrganizationScopedAdmin, organization_of, scope_queryset
from .setup import steps_for


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "setup_link"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> Any:
        return scope_queryset(super().get_queryset(request), request.user, "pk")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # An organization's address in URLs (its slug) is fixed once made.
        return [] if request.user.is_superuser else ["slug"]

    @admin.display(description="Setup")
    def setup_link(self, obj: Organization) -> str:
        return format_html('<a href="{}">Setup checklist</a>', self._setup_url(obj))

    def _setup_url(self, obj: Organization) -> str:
        from django.urls import reverse

        return reverse("admin:organization_setup", args=[obj.slug])

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "setup/",
                self.admin_site.admin_view(self.my_setup_view),
                name="organization_my_setup",
            ),
            path(
                "<slug:slug>/setup/",
                self.admin_site.admin_view(self.setup_view),
                name="organization_setup",
            ),
        ]
        return extra + super().get_urls()

    def my_setup_view(self, request: HttpRequest) -> HttpResponse:
        organization = organization_of(request.user)
        if organization is None:
            if request.user.is_superuser:
                return self.changelist_view(request)
            return TemplateResponse(
                request,
                "admin/organizations/no_organization.html",
                {**self.admin_site.each_context(request), "title": "Setup"},
            )
        return self.setup_view(request, organization.slug)

    def setup_view(self, request: HttpRequest, slug: str) -> HttpResponse:
        organization = get_object_or_404(self.get_queryset(request), slug=slug)
        steps = steps_for(organization)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Setup: {organization.name}",
            "organization": organization,
            "steps": steps,
            "done_count": sum(step.done for step in steps),
            "opts": self.model._meta,
            "extra_sections": setup_sections(request, organization),
        }
        return TemplateResponse(request, "admin/organizations/setup.html", context)


def setup_sections(request: HttpRequest, organization: Organization) -> list[str]:
    """HTML sections other apps add to the Setup page (the compliance part: Flourish)."""
    from .setup import render_sections

    return render_sections(request, organization)


@admin.register(Membership)
class MembershipAdmin(OrganizationScopedAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user", "organization"]


@admin.register(Brand)
class BrandAdmin(OrganizationScopedAdmin):
    list_display = ["logo_thumbnail", "name", "organization", "created_at"]
    list_display_links = ["name"]
    list_filter = ["organization"]
    search_fields = ["name"]
    list_select_related = ["organization"]

    @admin.display(description="Logo")
    def logo_thumbnail(self, obj: Brand) -> str:
        if not obj.logo:
            return "—"
        return format_html('<img src="{}" alt="" style="height:32px">', obj.logo.url)


@admin.register(License)
class LicenseAdmin(OrganizationScopedAdmin):
    list_display = ["license_number", "legal_name", "license_type", "city", "state", "organization"]
    list_filter = ["organization", "state"]
    search_fields = ["license_number", "legal_name"]
    list_select_related = ["organization"]
    fieldsets = [
        (None, {"fields": ["organization", "license_number", "license_type", "legal_name"]}),
        (
            "Address",
            {
                "fields": [
                    "address_line_1",
                    "address_line_2",
                    "city",
                    "state",
                    "zip_code",
                    "country",
                ]
            },
        ),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        first_name, first = fieldsets[0]
        fields = [f for f in first["fields"] if f != "organization"]
        return [(first_name, {**first, "fields": fields}), *fieldsets[1:]]
