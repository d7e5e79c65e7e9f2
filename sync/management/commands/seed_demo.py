"""Seed the demo: an organization wired to the Flourish sandbox that `make run` starts.

Idempotent: running it again (every `make run`) changes nothing that exists and never duplicates.
It writes ``var/demo-sandbox.flags``, the sandbox's command-line flags that configure its webhook
endpoint with this integration's generated URL, signing key and headers, exactly as an admin
would paste them into Flourish.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from ordo_integration.orders.models import Customer
from ordo_integration.organizations.models import Brand, License, Membership, Organization, Role
from sync.models import FlourishIntegration
from sync.setup import ensure_webhook_secrets, webhook_headers, webhook_url

SANDBOX_URL = "http://127.0.0.1:8100"
SANDBOX_API_KEY = "sandbox-key"  # the sandbox's published demo key

# (username, password, role, first name, last name, email). The agent's email is a sales rep
# the sandbox knows, so pushes from the demo match the rep by email (flourish-api.md §4.8).
DEMO_LOGINS = [
    ("demo-admin", "demo-admin-password", Role.ORDO_ADMIN, "Olivia", "Admin", "olivia@example.com"),
    ("demo-agent", "demo-agent-password", Role.SALES_AGENT, "Ana", "Ruiz", "ana.ruiz@example.com"),
]
# Three brands named exactly as in the sandbox, and one that deliberately is not ("Canyon Gold"
# there): the connection check and every sync report it as a near match.
DEMO_BRANDS = ["Green Ridge", "Sunset Farms", "Blue Harbor", "Canyon gold"]
DEMO_LICENSE = {
    "license_number": "C11-0000123-LIC",
    "license_type": "Distributor",
    "legal_name": "Demo Cannabis Distribution LLC",
    "address_line_1": "100 Warehouse Row",
    "city": "Oakland",
    "state": "CA",
    "zip_code": "94607",
}
DEMO_CUSTOMERS = [
    # Known to the sandbox as destinations (matched by license number)...
    ("Green Door Dispensary", "C10-0000201-LIC", "12 Main St", "Oakland", "94607", "Lee Park"),
    ("Harbor Lights Cannabis Co", "C10-0000202-LIC", "8 Pier Ave", "Alameda", "94501", "Jo Kim"),
    # ...and one it does not know: its first order creates the destination in Flourish.
    ("Redwood Remedies", "C10-0000299-LIC", "44 Forest Rd", "Berkeley", "94704", "Max Ode"),
]


class Command(BaseCommand):
    help = "Create (or leave as is) the demo organization, its logins and its sandbox integration."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sandbox-url", default=SANDBOX_URL)
        parser.add_argument(
            "--flags-file", default=str(Path(settings.VAR_DIR) / "demo-sandbox.flags")
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        organization, _ = Organization.objects.get_or_create(
            slug="demo", defaults={"name": "Demo Cannabis Co."}
        )
        self._logins(organization)
        for name in DEMO_BRANDS:
            if not organization.brands.filter(name__iexact=name).exists():
                Brand.objects.create(organization=organization, name=name)
        License.objects.get_or_create(
            organization=organization,
            license_number=DEMO_LICENSE["license_number"],
            defaults=DEMO_LICENSE,
        )
        for name, number, street, city, zip_code, contact in DEMO_CUSTOMERS:
            Customer.objects.get_or_create(
                organization=organization,
                license_number=number,
                defaults={
                    "name": name,
                    "license_type": "Retailer",
                    "address_line_1": street,
                    "city": city,
                    "state": "CA",
                    "zip_code": zip_code,
                    "contact_name": contact,
                    "email": f"buyer@{name.split()[0].lower()}.example",
                    "phone": "5105550100",
                },
            )
        integration = self._integration(organization, options["sandbox_url"])
        self._write_sandbox_flags(integration, Path(options["flags_file"]))

        self.stdout.write(self.style.SUCCESS(f"Demo organization: {organization.name}"))
        for username, password, role, *_ in DEMO_LOGINS:
            self.stdout.write(f"  {Role(role).label:12} login: {username} / {password}")

    def _logins(self, organization: Organization) -> None:
        User = get_user_model()
        for username, password, role, first, last, email in DEMO_LOGINS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last, "email": email}
            )
            if created:
                user.set_password(password)
                user.save()
            Membership.objects.update_or_create(
                user=user, defaults={"organization": organization, "role": role}
            )

    def _integration(self, organization: Organization, sandbox_url: str) -> FlourishIntegration:
        integration, created = FlourishIntegration.objects.get_or_create(
            organization=organization,
            defaults={
                "base_url": sandbox_url,
                "api_username": "demo",
                "api_key": SANDBOX_API_KEY,
                "inventory_sync_interval_minutes": 15,
            },
        )
        if ensure_webhook_secrets(integration) or created:
            integration.save()
        return integration

    def _write_sandbox_flags(self, integration: FlourishIntegration, path: Path) -> None:
        flags = [
            "--webhook-url",
            webhook_url(integration),
            "--webhook-key",
            integration.webhook_signing_key,
        ]
        for key, value in webhook_headers(integration).items():
            flags += ["--webhook-header", f"{key}={value}"]
        for event in ["Outbound Order", "Inventory", "Item"]:
            flags += ["--webhook-event", event]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(shlex.join(flags) + "\n")
        path.chmod(0o600)
