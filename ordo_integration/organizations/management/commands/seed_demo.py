"""Seed a demo organization with an Ordo Admin and a Sales Agent login (idempotent)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from ordo_integration.organizations.models import Membership, Organization, Role

DEMO_LOGINS = [
    ("demo-admin", "demo-admin-password", Role.ORDO_ADMIN, "Olivia", "Admin"),
    ("demo-agent", "demo-agent-password", Role.SALES_AGENT, "Sam", "Agent"),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo organization and its two logins; prints the logins."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        organization, _ = Organization.objects.get_or_create(
            slug="demo", defaults={"name": "Demo Cannabis Co."}
        )
        User = get_user_model()
        for username, password, role, first, last in DEMO_LOGINS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.com",
                },
            )
            if created:
                user.set_password(password)
                user.save()
            Membership.objects.update_or_create(
                user=user, defaults={"organization": organization, "role": role}
            )
        self.stdout.write(self.style.SUCCESS(f"Demo organization: {organization.name}"))
        for username, password, role, *_ in DEMO_LOGINS:
            self.stdout.write(f"  {Role(role).label:12} login: {username} / {password}")
