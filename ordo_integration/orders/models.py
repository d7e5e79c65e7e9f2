"""Customers (licensed buyers), orders, their lines and their timeline."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from ordo_integration.catalog.models import Item
from ordo_integration.organizations.models import License, Organization, us_state_code


class Customer(models.Model):
    """A licensed buyer (a dispensary, distributor...). Flourish calls it a destination."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="customers"
    )
    name = models.CharField(max_length=200)
    license_number = models.CharField(max_length=100, blank=True)
    license_type = models.CharField(max_length=100, blank=True)
    address_line_1 = models.CharField(max_length=200, blank=True)
    address_line_2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True, validators=[us_state_code])
    zip_code = models.CharField("ZIP", max_length=10, blank=True)
    country = models.CharField(max_length=100, default="United States")
    contact_name = models.CharField("contact person", max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "license_number"],
                condition=~models.Q(license_number=""),
                name="customer_license_unique_per_organization",
                violation_error_message=(
                    "Your organization already has a customer with this license number."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    AWAITING_DELIVERY = "awaiting_delivery", "Awaiting Delivery"
    DELIVERED = "delivered", "Delivered"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"


class PaymentTerms(models.TextChoices):
    CASH_ON_DELIVERY = "cod", "Cash on Delivery"
    NET = "net", "Net terms"


class Order(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="orders")
    number = models.CharField(max_length=40, blank=True, help_text="Given on save when left empty.")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    license = models.ForeignKey(
        License,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name="selling license",
    )
    sales_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        null=True,
        blank=True,
    )
    payment_terms = models.CharField(
        max_length=10, choices=PaymentTerms.choices, default=PaymentTerms.CASH_ON_DELIVERY
    )
    net_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Days to pay, for Net terms."
    )
    requested_delivery_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING, db_index=True
    )
    flourish_order_id = models.CharField("Flourish order id", max_length=32, blank=True)
    flourish_order_status = models.CharField(max_length=40, blank=True)
    flourish_payment_status = models.CharField(max_length=40, blank=True)
    flourish_last_updated = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"],
                name="order_number_unique_per_organization",
                violation_error_message="Your organization already has an order with this number.",
            )
        ]

    def __str__(self) -> str:
        return self.number or f"Order #{self.pk}"

    @property
    def is_editable(self) -> bool:
        return self.status == OrderStatus.PENDING

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.lines.all()), Decimal(0))


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.DecimalField(max_digits=14, decimal_places=4)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal(0),
        help_text="Discount for the whole line, in dollars.",
    )

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.item}"

    @property
    def line_total(self) -> Decimal:
        return self.quantity * self.unit_price - self.discount


class EventSource(models.TextChoices):
    AGENT = "agent", "Agent click"
    PUSH = "push", "Push result"
    WEBHOOK = "webhook", "Flourish webhook"
    RECONCILIATION = "reconciliation", "Reconciliation"
    SYSTEM = "system", "System"


class OrderEvent(models.Model):
    """One line of an order's timeline: a status change or a notable step, with its source."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    source = models.CharField(max_length=20, choices=EventSource.choices)
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    message = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.order}: {self.from_status} → {self.to_status} ({self.source})"
