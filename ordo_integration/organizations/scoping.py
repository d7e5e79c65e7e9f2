"""Admin scoping: everyone but superusers sees, picks and saves only their own organization's data.

Every admin of an organization-owned model inherits ``OrganizationScopedAdmin``. It narrows the
changelist and object lookups (so another organization's object is simply "not found"), the
choices of every foreign key, and attaches new objects to the user's organization: a user never
picks an organization from a list.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest

from .models import Membership, Organization


def organization_of(user: Any) -> Organization | None:
    """The organization a (non-superuser) user works in, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    if hasattr(user, "_portal_organization"):
        cached: Organization | None = user._portal_organization
        return cached
    membership = Membership.objects.select_related("organization").filter(user=user).first()
    organization = membership.organization if membership else None
    user._portal_organization = organization
    return organization


def role_of(user: Any) -> str | None:
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    return membership.role if membership else None


def _has_organization_field(model: type[models.Model]) -> bool:
    return any(f.name == "organization" for f in model._meta.get_fields())


def scope_queryset(queryset: models.QuerySet[Any], user: Any, path: str) -> models.QuerySet[Any]:
    if user.is_superuser:
        return queryset
    organization = organization_of(user)
    if organization is None:
        return queryset.none()
    return queryset.filter(**{path: organization.pk if path == "pk" else organization})


class ScopedForeignKeysMixin:
    """Narrows every foreign-key and many-to-many choice to the user's organization."""

    def _scope_choices(self, db_field: Any, request: HttpRequest, kwargs: dict[str, Any]) -> None:
        user = request.user
        if user.is_superuser:
            return
        related = db_field.related_model
        organization = organization_of(user)
        base = kwargs.get("queryset", related._default_manager.all())
        if related is Organization:
            kwargs["queryset"] = base.filter(pk=getattr(organization, "pk", None))
        elif related is get_user_model():
            kwargs["queryset"] = base.filter(membership__organization=organization)
        elif _has_organization_field(related):
            kwargs["queryset"] = base.filter(organization=organization)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        self._scope_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        self._scope_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


class OrganizationScopedAdmin(ScopedForeignKeysMixin, admin.ModelAdmin):
    """Admin of a model owned by an organization (directly, or through ``organization_path``)."""

    organization_path = "organization"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        return scope_queryset(super().get_queryset(request), request.user, self.organization_path)

    def _owns_directly(self) -> bool:
        return self.organization_path == "organization"

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        exclude = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser and self._owns_directly():
            exclude.append("organization")
        return exclude

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser:
            return filters
        # A plain related-field filter offers every row of the related table, whichever
        # organization owns it; "related only" offers just those the scoped list refers to.
        return [
            (f, admin.RelatedOnlyFieldListFilter) if self._is_relation(f) else f
            for f in filters
            if f != self.organization_path
        ]

    def _is_relation(self, list_filter: Any) -> bool:
        if not isinstance(list_filter, str):
            return False
        try:
            fields = get_fields_from_path(self.model, list_filter)
        except (FieldDoesNotExist, NotRelationField):
            return False
        return bool(fields and fields[-1].is_relation)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        organization = organization_of(request.user)
        if request.user.is_superuser or organization is None or not self._owns_directly():
            return form

        class OrganizationBoundForm(form):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **form_kwargs: Any) -> None:
                super().__init__(*args, **form_kwargs)
                if self.instance.organization_id is None:
                    self.instance.organization = organization

            def _get_validation_exclusions(self) -> Any:
                # The organization is not a form field, but uniqueness "per organization" must
                # still be checked, so that a duplicate is a form error and not a crash.
                exclusions = super()._get_validation_exclusions()
                exclusions.discard("organization")
                return exclusions

        OrganizationBoundForm.__name__ = form.__name__
        return OrganizationBoundForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not request.user.is_superuser and self._owns_directly() and not change:
            obj.organization = organization_of(request.user)
        super().save_model(request, obj, form, change)


class ReadOnlyAdminMixin:
    """For records the portal writes and people only read (items, sync runs): no add, change or
    delete through the admin, whatever the user's permissions."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
