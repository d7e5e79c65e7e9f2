"""The "Inventory & allocations" screen: the Item changelist, read-only for everyone.

Items and stock arrive from Flourish (the sync app writes them); here users read them: brand, SKU,
name, unit, price, sellable quantity per license and when each item was last synced. A negative
sellable quantity is shown as Flourish reports it (it means more is on order than on hand,
flourish-api.md §4.5), flagged rather than clamped to zero. The "Sync inventory" button
(templates/admin/catalog/item/change_list.html) posts to a URL the sync app names; this module does
not import the sync app (design.md §3).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from ordo_integration.organizations.models import Brand, License
from ordo_integration.organizations.scoping import (
    OrganizationScopedAdmin,
    ReadOnlyAdminMixin,
    organization_of,
)

from .models import Item, Stock


def _licenses_for(request: HttpRequest) -> QuerySet[License]:
    licenses = License.objects.order_by("license_number")
    if request.user.is_superuser:
        return licenses
    return licenses.filter(organization=organization_of(request.user))


class BrandFilter(admin.SimpleListFilter):
    """By brand, listing only the user's own brands (a plain related filter would list all)."""

    title = "brand"
    parameter_name = "brand"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        brands = Brand.objects.order_by("name")
        if not request.user.is_superuser:
            brands = brands.filter(organization=organization_of(request.user))
        return [(str(pk), name) for pk, name in brands.values_list("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Item]) -> QuerySet[Item]:
        value = self.value()
        return queryset.filter(brand_id=value) if value and value.isdigit() else queryset


class LicenseFilter(admin.SimpleListFilter):
    """Items with stock reported at a license; the stock filter then looks at that license."""

    title = "license"
    parameter_name = "license"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(lic.pk), lic.license_number) for lic in _licenses_for(request)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Item]) -> QuerySet[Item]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        return queryset.filter(stock__license_id=value).distinct()


class StockLevelFilter(admin.SimpleListFilter):
    """In stock (sellable > 0), out of stock (nothing sellable anywhere) or negative sellable;
    at the license chosen in the license filter, else at any license."""

    title = "sellable"
    parameter_name = "sellable"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("in", "In stock"), ("out", "Out of stock"), ("negative", "Negative")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Item]) -> QuerySet[Item]:
        value = self.value()
        if value not in ("in", "out", "negative"):
            return queryset
        stock = Stock.objects.filter(item=OuterRef("pk"))
        license_id = request.GET.get(LicenseFilter.parameter_name, "")
        if license_id.isdigit():
            stock = stock.filter(license_id=license_id)
        if value == "in":
            return queryset.filter(Exists(stock.filter(sellable_qty__gt=0)))
        if value == "negative":
            return queryset.filter(Exists(stock.filter(sellable_qty__lt=0)))
        return queryset.exclude(Exists(stock.filter(sellable_qty__gt=0)))


def _quantity(value: Decimal) -> str:
    normalized = value.normalize()
    return f"{normalized:f}" if normalized != normalized.to_integral() else f"{value:.0f}"


def render_sellable(stock: Stock | None) -> str:
    if stock is None:
        return "-"
    text = _quantity(stock.sellable_qty)
    if stock.sellable_qty < 0:
        return format_html(
            '<strong class="negative-sellable" style="color:#ba2121" '
            'title="More is on order than on hand in Flourish">⚠ {}</strong>',
            text,
        )
    return text


@admin.register(Item)
class ItemAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    list_display_links = ["sku"]
    list_filter = [BrandFilter, LicenseFilter, StockLevelFilter, "is_active"]
    list_select_related = ["brand"]
    search_fields = ["sku", "name", "flourish_item_id"]
    list_per_page = 100
    readonly_fields = (
        "brand",
        "sku",
        "name",
        "unit",
        "price",
        "is_active",
        "flourish_item_id",
        "flourish_last_updated",
        "last_synced_at",
        "sellable_per_license",
    )
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Item]:
        stock = Stock.objects.select_related("license")
        return super().get_queryset(request).prefetch_related(Prefetch("stock", queryset=stock))

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        """One "sellable" column per license of the organization, then the sync time."""
        columns: list[Any] = ["brand", "sku", "name", "unit", "price"]
        for license in _licenses_for(request):
            columns.append(self._sellable_column(license))
        columns += ["is_active", "last_synced_at"]
        return columns

    @staticmethod
    def _sellable_column(license: License) -> Any:
        def sellable(item: Item) -> str:
            rows = [s for s in item.stock.all() if s.license_id == license.pk]
            return render_sellable(rows[0] if rows else None)

        sellable.short_description = f"Sellable · {license.license_number}"  # type: ignore[attr-defined]
        sellable.__name__ = f"sellable_{license.pk}"
        return sellable

    @admin.display(description="Sellable per license")
    def sellable_per_license(self, item: Item) -> str:
        rows = sorted(item.stock.all(), key=lambda s: s.license.license_number)
        if not rows:
            return "No stock reported by Flourish."
        return format_html(
            "<br>".join(["{}: {}"] * len(rows)),
            *[part for s in rows for part in (s.license.license_number, render_sellable(s))],
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        extra_context = {**(extra_context or {}), "title": "Inventory & allocations"}
        return super().changelist_view(request, extra_context)
