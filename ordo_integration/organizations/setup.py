"""The setup checklist shown on the Setup page ("Manage Organization").

The domain knows its own steps (brands, licenses). Steps that depend on the Flourish integration
are contributed by the ``sync`` app through ``register_provider``, so the domain never imports it;
until a provider answers for a step it is shown as not done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from .models import Organization


@dataclass(frozen=True)
class SetupStep:
    key: str
    title: str
    done: bool
    detail: str = ""
    url: str | None = None


StepProvider = Callable[[Organization], list[SetupStep]]
_providers: list[StepProvider] = []

STEP_ORDER = ["brands", "licenses", "credentials", "webhook", "inventory_sync"]
PENDING_STEPS = {
    "credentials": "Flourish credentials entered",
    "webhook": "First webhook received from Flourish",
    "inventory_sync": "First inventory sync done",
}


def register_provider(provider: StepProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def steps_for(organization: Organization) -> list[SetupStep]:
    brand_count = organization.brands.count()
    license_count = organization.licenses.count()
    steps = {
        "brands": SetupStep(
            "brands",
            "Brands added",
            brand_count > 0,
            f"{brand_count} brand(s). Names must match Flourish brand names exactly.",
            reverse("admin:organizations_brand_changelist"),
        ),
        "licenses": SetupStep(
            "licenses",
            "Licenses added",
            license_count > 0,
            f"{license_count} license(s). Numbers must match Flourish facility license numbers.",
            reverse("admin:organizations_license_changelist"),
        ),
    }
    for key, title in PENDING_STEPS.items():
        steps[key] = SetupStep(key, title, False, "Not done yet.")
    for provider in _providers:
        for step in provider(organization):
            steps[step.key] = step
    return [steps[key] for key in STEP_ORDER if key in steps] + [
        step for key, step in steps.items() if key not in STEP_ORDER
    ]


SectionRenderer = Callable[[HttpRequest, Organization], str]
_section_renderers: list[SectionRenderer] = []


def register_section(renderer: SectionRenderer) -> None:
    """Let another app add an HTML section (already escaped/safe) to the Setup page."""
    if renderer not in _section_renderers:
        _section_renderers.append(renderer)


def render_sections(request: HttpRequest, organization: Organization) -> list[str]:
    return [renderer(request, organization) for renderer in _section_renderers]
