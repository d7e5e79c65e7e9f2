"""Roles are Django groups. What each role may do is listed here, in one place.

The groups are created by a data migration; their permissions are (re)applied after every
``migrate`` because later apps add models (and so permissions) after that migration ran.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from .models import Role

ALL = ("add", "change", "delete", "view")
VIEW = ("view",)

# app_label.model -> actions. A model that is absent is invisible to the role.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.ORDO_ADMIN: {
        "organizations.organization": ("view", "change"),
        "organizations.membership": VIEW,
        "organizations.brand": ALL,
        "organizations.license": ALL,
        "catalog.item": VIEW,
        "catalog.stock": VIEW,
        "orders.customer": ALL,
        "orders.order": ALL,
        "orders.orderline": ALL,
        "orders.orderevent": VIEW,
        "sync.flourishintegration": ("add", "change", "view"),
        "sync.webhookevent": ("view", "change"),
        "sync.syncrun": ("add", "view"),
        "sync.orderpush": ("view", "change"),
        "sync.pushattempt": VIEW,
    },
    Role.SALES_AGENT: {
        "organizations.brand": VIEW,
        "organizations.license": VIEW,
        "catalog.item": VIEW,
        "catalog.stock": VIEW,
        "orders.customer": ALL,
        "orders.order": ALL,
        "orders.orderline": ALL,
        "orders.orderevent": VIEW,
        "sync.orderpush": VIEW,
        "sync.pushattempt": VIEW,
    },
}


def group_name(role: str) -> str:
    return Role(role).label


def permissions_for(role: str) -> list[Permission]:
    query = Q(pk__in=[])
    for model_label, actions in ROLE_PERMISSIONS[role].items():
        app_label, model = model_label.split(".")
        codenames = [f"{action}_{model}" for action in actions]
        query |= Q(content_type__app_label=app_label, codename__in=codenames)
    return list(Permission.objects.filter(query))


def sync_role_groups() -> None:
    for role in Role:
        group, _ = Group.objects.get_or_create(name=group_name(role))
        group.permissions.set(permissions_for(role))


def sync_role_groups_after_migrate(sender: Any, **kwargs: Any) -> None:
    if sender.name == "sync":  # the last app to migrate: every permission exists by now
        sync_role_groups()


def apply_role(user: Any, role: str) -> None:
    """Put the user in exactly the group of their role and let them into the admin."""
    group, _ = Group.objects.get_or_create(name=group_name(role))
    role_groups = Group.objects.filter(name__in=[group_name(r) for r in Role])
    user.groups.remove(*role_groups.exclude(pk=group.pk))
    user.groups.add(group)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
