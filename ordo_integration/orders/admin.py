"""Customers and orders in the admin: agents build Pending orders and Confirm them; from then on
the order is read-only here ("changes are made in Flourish") and its timeline tells what happened.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse

from ordo_integration.organizations.scoping import (
    OrganizationScopedAdmin,
    ScopedForeignKeysMixin,
    organization_of,
)

from . import services
from .models import Customer, Order, OrderLine, OrderStatus

# Written by Confirm, the push and Flourish's updates, never by a save of the order form: the form
# may have been loaded before a Confirm (see OrderAdmin.save_model).
INTEGRATION_OWNED_FIELDS = frozenset(
    {
        "status",
        "confirmed_at",
        "flourish_order_id",
        "flourish_order_status",
        "flourish_payment_status",
        "flourish_last_updated",
    }
)
# Request attributes: the order whose lines are edited, and a save refused by save_model.
_EDITED_ORDER = "_orders_edited_order"
_SAVE_REFUSED = "_orders_save_refused"

READ_ONLY_BANNER = (
    "This order has been sent to Flourish: changes are made in Flourish, and their result shows "
    "here."
)

CENTS = Decimal("0.01")


@admin.register(Customer)
class CustomerAdmin(OrganizationScopedAdmin):
    list_display = ["name", "license_number", "license_type", "city", "state", "contact_name"]
    search_fields = ["name", "license_number", "contact_name", "email"]
    list_filter = ["state", "license_type"]


class OrderLineInline(ScopedForeignKeysMixin, admin.TabularInline):
    model = OrderLine
    extra = 1
    fields = ["item", "quantity", "unit_price", "discount", "line_total_display"]
    readonly_fields = ["line_total_display"]

    @admin.display(description="line total")
    def line_total_display(self, line: OrderLine) -> Decimal | str:
        if line.pk is None:
            return "—"
        return line.line_total.quantize(CENTS)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        # The item choices depend on the order (formfield_for_foreignkey gets no obj). Kept on
        # the request, not on this admin, which all requests share.
        setattr(request, _EDITED_ORDER, obj)
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "item":
            # What can be sold: active items of the user's organization; plus the items already
            # on this order, even if inactive since, so that saving it does not fail on a line
            # the agent did not touch. Confirm still refuses inactive items, saying which.
            sellable = Q(is_active=True)
            order = getattr(request, _EDITED_ORDER, None)
            if order is not None and order.pk is not None:
                sellable |= Q(order_lines__order=order)
            kwargs["queryset"] = db_field.related_model._default_manager.filter(sellable).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _editable(self, obj: Order | None) -> bool:
        return obj is None or services.is_editable(obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(Order)
class OrderAdmin(OrganizationScopedAdmin):
    change_form_template = "admin/orders/order/change_form.html"
    list_display = [
        "__str__",
        "customer",
        "status",
        "payment_terms",
        "total_display",
        "sales_agent",
        "flourish_order_id",
        "created_at",
    ]
    list_filter = ["status", "payment_terms", "license"]
    list_select_related = ["customer", "sales_agent"]
    search_fields = ["number", "customer__name", "customer__license_number", "flourish_order_id"]
    inlines = [OrderLineInline]
    actions = ["confirm_orders"]
    fields = [
        "number",
        "customer",
        "license",
        "sales_agent",
        "payment_terms",
        "net_days",
        "requested_delivery_date",
        "notes",
        "total_display",
        "status",
        "flourish_order_id",
        "flourish_order_status",
        "flourish_payment_status",
        "confirmed_at",
    ]
    readonly_fields = [
        "total_display",
        "status",
        "flourish_order_id",
        "flourish_order_status",
        "flourish_payment_status",
        "confirmed_at",
    ]

    @admin.display(description="total")
    def total_display(self, order: Order) -> Decimal | str:
        if order.pk is None:
            return "—"
        return order.total.quantize(CENTS)

    # -- read-only from Confirm on -----------------------------------------------------------------

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if request.user.is_superuser:
            # A superuser belongs to no organization: they say whose order it is.
            fields.insert(0, "organization")
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # The number travels to Flourish as original_order_id: fixed once the order exists.
            readonly.append("number")
            readonly.append("organization")
        return readonly

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not services.is_editable(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not services.is_editable(obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        # The bulk delete action checks permissions per model, not per object.
        refused = [order for order in queryset if not services.is_editable(order)]
        if refused:
            raise PermissionDenied("Only Pending orders can be deleted.")
        super().delete_queryset(request, queryset)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        # An agent's new order is theirs unless they pick a colleague.
        initial.setdefault("sales_agent", str(request.user.pk))
        return initial

    def save_model(self, request: HttpRequest, obj: Order, form: Any, change: bool) -> None:
        if not change:
            if not request.user.is_superuser:
                obj.organization = organization_of(request.user)  # type: ignore[assignment]
            if not obj.number and obj.organization_id:
                services.assign_number(obj)
            super().save_model(request, obj, form, change)
            return
        # The page was loaded, and its permission checked, without a lock: Confirm (and the push
        # after it) may have run since. Lock the row and look again; the lock lasts until the
        # admin's transaction ends (lines included), so a Confirm now waits for this save.
        current = Order.objects.select_for_update().get(pk=obj.pk)
        if not services.is_editable(current):
            setattr(request, _SAVE_REFUSED, True)
            self.message_user(
                request,
                f"Order {current} was confirmed while you were editing it: your changes were not "
                "saved.",
                messages.ERROR,
            )
            return
        if not obj.number and obj.organization_id:
            services.assign_number(obj)
        # Never the integration's fields: this object's copies of them may be stale.
        obj.save(
            update_fields=[
                field.name
                for field in Order._meta.concrete_fields
                if not field.primary_key
                and field.name not in INTEGRATION_OWNED_FIELDS
                and field.name not in {"organization", "number", "created_at"}
            ]
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if getattr(request, _SAVE_REFUSED, False):
            return  # the lines of a confirmed order are not changed either
        super().save_related(request, form, formsets, change)

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> Any:
        if getattr(request, _SAVE_REFUSED, False):
            return []  # nothing was saved (and the formsets were not, so they cannot tell)
        return super().construct_change_message(request, form, formsets, add)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, _SAVE_REFUSED, False):
            return None
        return super().log_change(request, obj, message)

    def response_change(self, request: HttpRequest, obj: Order) -> HttpResponse:
        if getattr(request, _SAVE_REFUSED, False):
            return HttpResponseRedirect(reverse("admin:orders_order_change", args=[obj.pk]))
        return super().response_change(request, obj)

    # -- Confirm -----------------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<path:object_id>/confirm/",
                self.admin_site.admin_view(self.confirm_view),
                name="orders_order_confirm",
            )
        ]
        return extra + super().get_urls()

    def _may_confirm(self, request: HttpRequest) -> bool:
        # Confirm is part of working on orders: the same permission as editing one.
        return super().has_change_permission(request)

    def confirm_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        # Scoped lookup: another organization's order is simply not found.
        order = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self._may_confirm(request):
            raise PermissionDenied
        result = services.confirm(order, request.user)
        level = messages.SUCCESS if result.confirmed else messages.WARNING
        if result.errors:
            level = messages.ERROR
        self.message_user(request, f"Order {order} {result.message}", level)
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))

    @admin.action(description="Confirm selected orders", permissions=["confirm"])
    def confirm_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        confirmed = already = 0
        for order in queryset.order_by("pk"):
            result = services.confirm(order, request.user)
            if result.confirmed:
                confirmed += 1
            elif result.already_confirmed:
                already += 1
            else:
                self.message_user(request, f"Order {order} {result.message}", messages.ERROR)
        refused = queryset.count() - confirmed - already
        summary = f"{confirmed} order(s) confirmed"
        if already:
            summary += f", {already} already confirmed"
        if refused:
            summary += f", {refused} refused"
        self.message_user(
            request, summary + ".", messages.SUCCESS if not refused else messages.WARNING
        )

    def has_confirm_permission(self, request: HttpRequest) -> bool:
        return self._may_confirm(request)

    # -- the page ----------------------------------------------------------------------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = dict(extra_context or {})
        order = self.get_object(request, object_id)
        if order is not None:
            extra_context.update(self._order_context(request, order))
        return super().change_view(request, object_id, form_url, extra_context)

    def _order_context(self, request: HttpRequest, order: Order) -> dict[str, Any]:
        # The integration's outbox row (sync.OrderPush), read through its reverse accessor
        # only, so that the domain does not import sync.
        push = getattr(order, "push", None) if hasattr(order, "push") else None
        return {
            "order_editable": services.is_editable(order),
            "order_confirmable": services.is_editable(order) and self._may_confirm(request),
            "order_being_sent": order.status == OrderStatus.PENDING
            and order.confirmed_at is not None,
            "read_only_banner": READ_ONLY_BANNER,
            "timeline": list(order.events.select_related("actor")),
            "push_last_error": getattr(push, "last_error", ""),
            "confirm_url": reverse("admin:orders_order_confirm", args=[order.pk]),
        }
