"""Real moving parts for integration tests: a Celery worker process on the test database.

The worker is a separate ``celery worker`` process (prefork, like production) consuming this test
run's own queue, connected to the same test database and broker as the tests. Tests that use it
need committed data, so they use ``transactional_db`` (the ``live_worker`` fixture asks for it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

LOG_DIR = Path(settings.VAR_DIR) / "test-logs"
WORKER_START_TIMEOUT_SECONDS = 30


def _database_url_for_test_db() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    """A ``celery worker`` subprocess that can be killed and started again."""

    def __init__(self, name: str, extra_env: dict[str, str] | None = None) -> None:
        self.name = name
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = LOG_DIR / f"{name}.log"

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": _database_url_for_test_db(),
            "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
            **self.extra_env,
        }
        log = self.log_path.open("ab")
        offset = self.log_path.stat().st_size
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "ordo_integration",
                "worker",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{self.name}@%h",
                "-l",
                "INFO",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + WORKER_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited at start; see {self.log_path}")
            with self.log_path.open("rb") as fh:
                fh.seek(offset)
                if b" ready." in fh.read():
                    return
            time.sleep(0.1)
        raise RuntimeError(f"celery worker not ready in time; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and its pool children), as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def live_worker(transactional_db: None, request: pytest.FixtureRequest) -> Iterator[WorkerProcess]:
    from ordo_integration.celery import app

    # Messages left on this run's queue by earlier tests (whose rows are gone) are dropped.
    app.control.purge()
    worker = WorkerProcess(f"worker-{request.node.name[:40]}")
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def wait_for(predicate: Any, timeout: float = 20, interval: float = 0.1, what: str = "") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}")
