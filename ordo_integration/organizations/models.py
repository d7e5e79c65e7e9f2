"""Organizations, their people (with a role), their brands and their selling licenses."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower


class Organization(models.Model):
    """A brand company using the portal. Everything else hangs off one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ORDO_ADMIN = "ordo_admin", "Ordo Admin"
    SALES_AGENT = "sales_agent", "Sales Agent"


class Membership(models.Model):
    """A user's place in one organization. A user belongs to exactly one organization."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        ordering = ["organization", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organization})"

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        from .roles import apply_role

        apply_role(self.user, self.role)


class Brand(models.Model):
    """A brand the organization sells. Its name must equal a Flourish brand name."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="brands")
    name = models.CharField(
        max_length=200, help_text="Exactly as the brand is named in Flourish (Items → Brands)."
    )
    logo = models.ImageField(upload_to="brand-logos/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "organization",
                name="brand_name_unique_per_organization_ci",
                violation_error_message=(
                    "Your organization already has a brand with this name "
                    "(names are compared without regard to upper or lower case)."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name


us_state_code = RegexValidator(r"^[A-Z]{2}$", "Use the two-letter state code, e.g. CA.")


class License(models.Model):
    """One of the organization's own selling licenses. Its number must match a Flourish
    facility's ``license_number``; that facility's id is then used as ``FacilityID``."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="licenses"
    )
    license_number = models.CharField(max_length=100)
    license_type = models.CharField(max_length=100, blank=True)
    legal_name = models.CharField(max_length=200)
    address_line_1 = models.CharField(max_length=200)
    # Ordo itself insists on a second address line; most addresses have none, so it is optional.
    address_line_2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2, validators=[us_state_code])
    zip_code = models.CharField("ZIP", max_length=10)
    country = models.CharField(max_length=100, default="United States")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["license_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "license_number"],
                name="license_number_unique_per_organization",
                violation_error_message="Your organization already has this license number.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.license_number} ({self.legal_name})"
