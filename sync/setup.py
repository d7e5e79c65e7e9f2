"""Setting up an organization's Flourish integration: the values the admin pastes into Flourish
(signing key, endpoint URL, two custom headers), key rotation, and the pre-flight check of the
stored credentials and of how licenses and brands map onto Flourish (flourish-api.md §5.1, §5.3).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from flourish_client import SIGNATURE_HEADER, AuthError, Facility, FlourishClient, FlourishError
from ordo_integration.organizations.models import Brand, License, Organization

from .client import client_for
from .models import FacilityLink, FlourishIntegration

# The two custom headers Flourish sends with every delivery (§5.3: up to two key/value pairs).
# One names the integration, the other carries a random secret only this portal and Flourish know.
INTEGRATION_HEADER = "X-Ordo-Integration"
SECRET_HEADER = "X-Ordo-Webhook-Secret"  # noqa: S105 - a header name, not a secret

# token_urlsafe(n) draws n random bytes: 32 bytes is the entropy floor the issue asks for.
SIGNING_KEY_BYTES = 32
HEADER_SECRET_BYTES = 32


def new_signing_key() -> str:
    return secrets.token_urlsafe(SIGNING_KEY_BYTES)


def new_header_secret() -> str:
    return secrets.token_urlsafe(HEADER_SECRET_BYTES)


def ensure_webhook_secrets(integration: FlourishIntegration) -> bool:
    """Generate the signing key and header secret once; True when something was generated.

    Never overwrites an existing value: Flourish holds a copy, and changing it silently would make
    every delivery fail. Rotation is ``regenerate_signing_key``'s job. Does not save.
    """
    generated = False
    if not integration.webhook_signing_key:
        integration.webhook_signing_key = new_signing_key()
        generated = True
    if not integration.webhook_header_secret:
        integration.webhook_header_secret = new_header_secret()
        generated = True
    return generated


def rotation_window() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "WEBHOOK_ROTATION_WINDOW_HOURS", 24))


def regenerate_signing_key(integration: FlourishIntegration) -> None:
    """Replace the signing key, keeping the old one valid for the rotation window.

    Deliveries already signed (or retried by Flourish) with the old key keep being accepted until
    the admin has pasted the new key into Flourish and clicked Save there (§5.1).
    """
    now = timezone.now()
    if integration.webhook_signing_key and not _current_key_unused_since_rotation(integration, now):
        integration.previous_signing_key = integration.webhook_signing_key
    # Otherwise (regenerated twice before Flourish ever signed with the newer key) the previous
    # key is the one Flourish still holds: keep it, and only replace the never-used current key.
    if integration.previous_signing_key:
        integration.previous_signing_key_valid_until = now + rotation_window()
    integration.webhook_signing_key = new_signing_key()
    if not integration.webhook_header_secret:
        integration.webhook_header_secret = new_header_secret()
    integration.save(
        update_fields=[
            "webhook_signing_key",
            "previous_signing_key",
            "previous_signing_key_valid_until",
            "webhook_header_secret",
            "updated_at",
        ]
    )


def _current_key_unused_since_rotation(integration: FlourishIntegration, now: dt.datetime) -> bool:
    """True while a rotation is open and no delivery has verified with the current key yet."""
    until = integration.previous_signing_key_valid_until
    if not integration.previous_signing_key or until is None or until <= now:
        return False
    rotated_at = until - rotation_window()
    used = integration.webhook_events.filter(
        received_at__gte=rotated_at, **{f"headers__{SIGNATURE_HEADER} matched": "current"}
    )
    return not used.exists()


def webhook_path(integration: FlourishIntegration) -> str:
    return reverse("flourish-webhook", kwargs={"integration_uuid": integration.uuid})


def webhook_url(integration: FlourishIntegration) -> str:
    """The endpoint URL to paste into Flourish's Webhook URL field (§5.1)."""
    return getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/") + webhook_path(integration)


def webhook_headers(integration: FlourishIntegration) -> dict[str, str]:
    """The two custom headers (name → value) to paste into Flourish (§5.3)."""
    return {
        INTEGRATION_HEADER: str(integration.uuid),
        SECRET_HEADER: integration.webhook_header_secret,
    }


@dataclass(frozen=True)
class GeneratedValue:
    """One value the admin copies into Flourish. ``secret`` values are shown only on request."""

    label: str
    value: str
    secret: bool = False


def generated_values(integration: FlourishIntegration) -> list[GeneratedValue]:
    """What the admin pastes into Flourish, in the order Flourish's form asks for it (§5.1)."""
    if not integration.webhook_signing_key:
        return []
    return [
        GeneratedValue("Webhook URL", webhook_url(integration)),
        GeneratedValue("Signing key", integration.webhook_signing_key, secret=True),
        GeneratedValue("Custom header 1 name", INTEGRATION_HEADER),
        GeneratedValue("Custom header 1 value", str(integration.uuid)),
        GeneratedValue("Custom header 2 name", SECRET_HEADER),
        GeneratedValue("Custom header 2 value", integration.webhook_header_secret, secret=True),
    ]


# ---------------------------------------------------------------------------------------------
# Check connection: the pre-flight mapping report
# ---------------------------------------------------------------------------------------------


def _folded(name: str) -> str:
    """Case and spacing differences only: "Green  ridge" and "Green Ridge" fold alike."""
    return " ".join(name.split()).casefold()


def check_connection(integration: FlourishIntegration) -> dict[str, Any]:
    """Call Flourish with the stored key and say, in plain words, how this organization maps.

    Per license: the facility whose ``license_number`` matches (§4.1); its id is stored in a
    ``FacilityLink`` and sent as ``FacilityID`` on every facility-scoped call (§2.3). A link
    whose license no longer matches any facility is deleted, so no order goes to a wrong site.
    Per brand: exact name, near match (case or spacing), or none: item sync filters by the exact
    brand name (§4.4), so a near match means nothing syncs until the names agree.
    The report is stored on the integration and returned.
    """
    organization = integration.organization
    report: dict[str, Any] = {
        "checked_at": timezone.now().isoformat(),
        "key_accepted": False,
        "error": "",
        "licenses": [],
        "brands": [],
    }
    try:
        with client_for(integration) as client:
            facilities = list(client.list_facilities())
            flourish_brands = [brand.brand_name for brand in client.list_brands()]
    except AuthError:
        report["error"] = "Flourish refused the API key (check the key and the username)."
    except ValueError as exc:  # no key stored yet
        report["error"] = str(exc)
    except FlourishError as exc:
        report["error"] = f"Flourish could not be reached or answered an error: {exc}"
    else:
        report["key_accepted"] = True
        report["licenses"] = _map_licenses(organization, facilities)
        report["brands"] = _map_brands(organization, flourish_brands)
    integration.last_connection_check_at = timezone.now()
    integration.last_connection_report = report
    integration.save(update_fields=["last_connection_check_at", "last_connection_report"])
    return report


def facilities_by_license_number(facilities: Iterable[Facility]) -> dict[str, Facility]:
    return {f.license_number.strip(): f for f in facilities if f.license_number}


def link_license(license: License, facility: Facility) -> FacilityLink:
    """Record that ``license`` is Flourish facility ``facility`` (its id is the FacilityID)."""
    link, _ = FacilityLink.objects.update_or_create(
        license=license,
        defaults={
            "facility_id": facility.id,
            "facility_name": facility.facility_name,
            "sales_rep_required": facility.sales_rep_required_for_outbound,
        },
    )
    return link


def link_unlinked_licenses(
    integration: FlourishIntegration,
    licenses: Iterable[License],
    client: FlourishClient | None = None,
) -> dict[int, FacilityLink]:
    """Link each of ``licenses`` to the Flourish facility with its license number, when one
    has it (§4.1: ``GET /facilities`` carries ``license_number``); returns the new links by
    license id. Check connection normally made them; syncs and pushes call this for a license
    added since. Flourish errors propagate: the caller knows whether to retry."""
    licenses = list(licenses)
    if not licenses:
        return {}
    client = client or client_for(integration)
    by_number = facilities_by_license_number(client.list_facilities())
    links = {}
    for license in licenses:
        facility = by_number.get(license.license_number.strip())
        if facility is not None:
            links[license.pk] = link_license(license, facility)
    return links


def _map_licenses(organization: Organization, facilities: list[Facility]) -> list[dict[str, Any]]:
    by_number = facilities_by_license_number(facilities)
    rows = []
    for license in License.objects.filter(organization=organization).order_by("license_number"):
        facility = by_number.get(license.license_number.strip())
        if facility is None:
            FacilityLink.objects.filter(license=license).delete()
            rows.append(
                {
                    "license_number": license.license_number,
                    "matched": False,
                    "message": "No Flourish facility has this license number.",
                }
            )
            continue
        link_license(license, facility)
        rows.append(
            {
                "license_number": license.license_number,
                "matched": True,
                "facility_id": facility.id,
                "facility_name": facility.facility_name,
                "sales_rep_required": facility.sales_rep_required_for_outbound,
                "message": f"Matches Flourish facility {facility.facility_name} ({facility.id})."
                + (
                    " Orders must name a sales rep."
                    if facility.sales_rep_required_for_outbound
                    else ""
                ),
            }
        )
    return rows


def _map_brands(organization: Organization, flourish_brands: list[str]) -> list[dict[str, Any]]:
    exact = set(flourish_brands)
    folded = {_folded(name): name for name in flourish_brands}
    rows = []
    for brand in Brand.objects.filter(organization=organization).order_by("name"):
        if brand.name in exact:
            rows.append(
                {
                    "brand": brand.name,
                    "match": "exact",
                    "flourish_name": brand.name,
                    "message": "Flourish has a brand of exactly this name.",
                }
            )
        elif _folded(brand.name) in folded:
            near = folded[_folded(brand.name)]
            rows.append(
                {
                    "brand": brand.name,
                    "match": "near",
                    "flourish_name": near,
                    "message": f"Flourish spells it {near!r}: rename one of them so they match "
                    "exactly, or its items will not sync.",
                }
            )
        else:
            rows.append(
                {
                    "brand": brand.name,
                    "match": "none",
                    "flourish_name": "",
                    "message": "Flourish has no brand of this name.",
                }
            )
    return rows


def facility_links(organization: Organization) -> dict[int, FacilityLink]:
    """License id → its ``FacilityLink`` for the organization's licenses that have one."""
    links = FacilityLink.objects.filter(license__organization=organization).select_related(
        "license"
    )
    return {link.license_id: link for link in links}
