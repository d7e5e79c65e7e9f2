"""Items the organization sells and their stock per selling license.

Items arrive from Flourish (the ``sync`` app writes them); Ordo users read them here. An item is
never deleted: orders reference it. One that vanished from Flourish becomes inactive.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from ordo_integration.organizations.models import Brand, License, Organization


class Item(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="items")
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="items")
    flourish_item_id = models.CharField("Flourish item id", max_length=64)
    sku = models.CharField("SKU", max_length=200, db_index=True)
    name = models.CharField(max_length=300)
    unit = models.CharField(max_length=20, blank=True, help_text="Unit of measure, e.g. ea or g.")
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    is_active = models.BooleanField("active", default=True)
    flourish_last_updated = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brand__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "flourish_item_id"], name="item_unique_per_flourish_id"
            )
        ]
        verbose_name = "item"

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"


class Stock(models.Model):
    """Quantities of one item at one license (Flourish facility), as Flourish last reported."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="stock")
    license = models.ForeignKey(License, on_delete=models.CASCADE, related_name="stock")
    sellable_qty = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal(0))
    qty = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal(0))
    available_qty = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal(0))
    on_order_qty = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal(0))
    flourish_last_updated = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "license"], name="stock_unique_per_license")
        ]
        verbose_name_plural = "stock"

    def __str__(self) -> str:
        return f"{self.item} @ {self.license.license_number}: {self.sellable_qty}"
