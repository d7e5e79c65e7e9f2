"""Processes the reliability stories and the webhook bench start: gunicorn serving the portal
on a given database (the test database by default), on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from tests.live import LOG_DIR, _database_url_for_test_db

START_TIMEOUT_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------
# gunicorn serving the portal on the test database
# ---------------------------------------------------------------------------------------------


class GunicornProcess:
    """``gunicorn ordo_integration.wsgi`` with the test run's database, broker and queue."""

    def __init__(
        self,
        name: str,
        workers: int = 2,
        extra_env: dict[str, str] | None = None,
        database_url: str | None = None,
    ) -> None:
        self.name = name
        self.database_url = database_url
        self.workers = workers
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = LOG_DIR / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url or _database_url_for_test_db(),
            "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
            "LOG_LEVEL": "WARNING",
            # The flood is about processing, not the rate limit (tested in tests/security).
            "WEBHOOK_RATE_LIMIT_PER_MINUTE": "1000000",
            **self.extra_env,
        }
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen(
            [
                gunicorn,
                "ordo_integration.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start; see {self.log_path}")
            if listening(self.port):
                return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn not listening in time; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
