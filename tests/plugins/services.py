"""Chooses the database and broker for the test run, before Django reads its settings.

Loaded with ``-p tests.plugins.services`` (pyproject.toml), so it runs before pytest-django
imports the settings. PostgreSQL and Redis are used when they answer on this machine (or when
DATABASE_URL / CELERY_BROKER_URL say so); otherwise the embedded SQLite and filesystem broker.
With REQUIRE_SERVICES=1 (CI) a missing PostgreSQL or Redis stops the run instead.
"""

from __future__ import annotations

import os
import socket
import uuid

import pytest

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/ordo_portal"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def _postgres_answers(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=2):
            return True
    except psycopg.Error:
        return False


REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"

if "DATABASE_URL" not in os.environ and _answers("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = LOCAL_POSTGRES
if "CELERY_BROKER_URL" not in os.environ and _answers("127.0.0.1", 6379):
    os.environ["CELERY_BROKER_URL"] = LOCAL_REDIS
# Each run gets its own queue, so a worker started by the tests never takes another run's tasks.
os.environ.setdefault("CELERY_QUEUE", f"tests-{uuid.uuid4().hex[:12]}")

DATABASE = os.environ.get("DATABASE_URL", "sqlite (embedded, var/)")
BROKER = os.environ.get("CELERY_BROKER_URL", "filesystem (embedded, var/)")


def pytest_configure(config: pytest.Config) -> None:
    if not REQUIRED:
        return
    problems = []
    if not DATABASE.startswith("postgres") or not _postgres_answers(DATABASE):
        problems.append(f"PostgreSQL does not answer at {DATABASE}")
    if not BROKER.startswith("redis") or not _redis_answers(BROKER):
        problems.append(f"Redis does not answer at {BROKER}")
    if problems:
        raise pytest.UsageError("REQUIRE_SERVICES=1 but " + "; ".join(problems))


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"database: {DATABASE}", f"broker: {BROKER}"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(f"services used: database {DATABASE}; broker {BROKER}")
