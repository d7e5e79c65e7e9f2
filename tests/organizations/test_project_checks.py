"""Production settings pass `check --deploy`; the migrations match the models."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789abcdefghij",
    "PUBLIC_BASE_URL": "https://portal.example.com",
    "ALLOWED_HOSTS": "portal.example.com",
    "FIELD_ENCRYPTION_KEYS": "first-long-random-encryption-key,older-key",
    "DEBUG": "false",
}


def manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_check_deploy_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_production_without_encryption_keys():
    env = {**PRODUCTION_ENV, "FIELD_ENCRYPTION_KEYS": ""}

    result = manage("check", "--deploy", env=env)

    assert result.returncode != 0
    assert "ordo.E001" in result.stderr + result.stdout


def test_it_has_no_missing_migrations():
    result = manage("makemigrations", "--check", "--dry-run")

    assert result.returncode == 0, result.stdout + result.stderr
