"""Repeated wrong passwords lock the login out (django-axes), even for the right password."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def attempt(client: Client, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": "olivia", "password": password})


def test_it_locks_a_login_out_after_repeated_failures():
    UserFactory(username="olivia", is_staff=True)
    client = Client()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "wrong-password").status_code == 200
    assert attempt(client, "wrong-password").status_code == 429

    locked = attempt(client, PASSWORD)

    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_logs_in_with_the_right_password_before_the_limit():
    UserFactory(username="olivia", is_staff=True)
    client = Client()
    attempt(client, "wrong-password")

    response = attempt(client, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"]
