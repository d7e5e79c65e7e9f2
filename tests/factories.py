"""factory-boy factories shared by every test."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model

from ordo_integration.catalog.models import Item, Stock
from ordo_integration.orders.models import Customer, Order, OrderLine
from ordo_integration.organizations.models import Brand, License, Membership, Organization, Role

PASSWORD = "correct-horse-battery-staple"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Brand Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Lee{n}")

    @factory.post_generation
    def password(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        self.set_password(extracted or PASSWORD)  # type: ignore[attr-defined]
        if create:
            self.save()  # type: ignore[attr-defined]


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.SALES_AGENT


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Brand {n}")


class LicenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = License

    organization = factory.SubFactory(OrganizationFactory)
    license_number = factory.Sequence(lambda n: f"C11-{n:07d}-LIC")
    license_type = "Distributor"
    legal_name = factory.LazyAttribute(lambda lic: f"{lic.organization.name} LLC")
    address_line_1 = "1 Warehouse Way"
    city = "Oakland"
    state = "CA"
    zip_code = "94607"


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    organization = factory.SubFactory(OrganizationFactory)
    brand = factory.SubFactory(BrandFactory, organization=factory.SelfAttribute("..organization"))
    flourish_item_id = factory.Sequence(lambda n: str(1000 + n))
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Pre-Roll {n}")
    unit = "ea"
    price = Decimal("10.00")


class StockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stock

    item = factory.SubFactory(ItemFactory)
    license = factory.SubFactory(
        LicenseFactory, organization=factory.SelfAttribute("..item.organization")
    )
    sellable_qty = Decimal(100)
    qty = Decimal(120)
    available_qty = Decimal(110)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Green Door Dispensary {n}")
    license_number = factory.Sequence(lambda n: f"C10-{n:07d}-LIC")
    license_type = "Retailer"
    address_line_1 = "12 Main St"
    city = "Oakland"
    state = "CA"
    zip_code = "94607"
    contact_name = "Lee Park"
    email = factory.Sequence(lambda n: f"buyer{n}@greendoor.example")
    phone = "5105550100"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: f"ORD-{n:06d}")
    customer = factory.SubFactory(
        CustomerFactory, organization=factory.SelfAttribute("..organization")
    )
    license = factory.SubFactory(
        LicenseFactory, organization=factory.SelfAttribute("..organization")
    )


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    item = factory.SubFactory(
        ItemFactory, organization=factory.SelfAttribute("..order.organization")
    )
    quantity = Decimal(2)
    unit_price = Decimal("10.00")
