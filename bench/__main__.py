"""``python -m bench`` (``make bench``): every benchmark module's rows in one table.

Each module in ``MODULES`` has ``run() -> list[row]``; a row is ``{"name", "value", "unit",
"target", "met"}`` (``target``/``met`` are None for figures without a budget). The rows are
written to ``bench/results/latest.json`` and printed as a Markdown table. Add a module by
appending its name to ``MODULES``. Not part of ``make test``.

Database: ``DATABASE_URL`` if set; otherwise PostgreSQL at 127.0.0.1:5432 when it answers (a
``ordo_bench`` database, created and migrated here), else the embedded SQLite under ``var/``
(migrated here). Modules may make their own throwaway databases on top (bench/inventory.py does).
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

MODULES = ["bench.inventory", "bench.orders", "bench.webhooks"]
RESULTS = Path(__file__).resolve().parent / "results"
LOCAL_POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
BENCH_DATABASE = "ordo_bench"


def _postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


def choose_database() -> str:
    if "DATABASE_URL" in os.environ:
        return os.environ["DATABASE_URL"]
    if _postgres_answers():
        import psycopg

        with psycopg.connect(f"{LOCAL_POSTGRES_SERVER}/postgres", autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DATABASE]
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
        os.environ["DATABASE_URL"] = f"{LOCAL_POSTGRES_SERVER}/{BENCH_DATABASE}"
    return os.environ.get("DATABASE_URL", "sqlite (var/)")


def migrate() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordo_integration.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def machine() -> str:
    cpus = os.cpu_count() or 0
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpu = model or platform.processor()
    return f"{platform.platform()}, {cpus} CPU ({cpu}), Python {platform.python_version()}"


def as_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "value": row["value"],
        "unit": row.get("unit", ""),
        "target": row.get("target"),
        "met": row.get("met"),
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| name | value | unit | target | met |", "|---|---:|---|---|---|"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: ""}[row["met"]]
        lines.append(
            f"| {row['name']} | {row['value']} | {row['unit']} | {row['target'] or ''} | {met} |"
        )
    return "\n".join(lines)


def choose_broker() -> str:
    """Redis at 127.0.0.1:6379 when it answers (as in production), else the filesystem broker,
    whose one-second polling would dominate every latency measured through a worker. The bench's
    own queue keeps its worker away from anybody else's tasks on the same Redis."""
    os.environ.setdefault("CELERY_QUEUE", f"bench-{uuid.uuid4().hex[:12]}")
    if "CELERY_BROKER_URL" not in os.environ:
        try:
            with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
                os.environ["CELERY_BROKER_URL"] = LOCAL_REDIS
        except OSError:
            pass
    return os.environ.get("CELERY_BROKER_URL", "filesystem (var/)")


def main(modules: list[str]) -> int:
    database = choose_database()
    broker = choose_broker()
    migrate()
    rows: list[dict[str, Any]] = []
    failures = 0
    started = time.perf_counter()
    for name in modules:
        module_started = time.perf_counter()
        try:
            rows += [as_row(row) for row in importlib.import_module(name).run()]
        except Exception as exc:  # one broken bench must not hide the others' figures
            failures += 1
            print(f"{name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"{name}: {time.perf_counter() - module_started:.1f} s", file=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(rows, indent=2) + "\n")
    table = markdown(rows)
    (RESULTS / "latest.md").write_text(
        f"{table}\n\nMachine: {machine()}. Database: {database.split('@')[-1]}. "
        f"Broker: {broker.split('@')[-1]}. "
        f"Total {time.perf_counter() - started:.0f} s.\n"
    )
    print(table)
    print(f"\nMachine: {machine()}\nDatabase: {database.split('@')[-1]}\nBroker: {broker}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or MODULES))
