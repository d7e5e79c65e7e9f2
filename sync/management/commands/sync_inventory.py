"""``python manage.py sync_inventory [--org SLUG] [--full]``: an inventory sync in this process,
with a progress bar (no Celery worker needed). Without ``--full``, a delta run (a full one when
the organization never had a successful run)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from ordo_integration.organizations.models import Organization
from sync import inventory
from sync.models import FlourishIntegration, SyncMode, SyncRun, SyncTrigger


class Command(BaseCommand):
    help = "Sync Flourish items and stock into Ordo now, in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", metavar="SLUG", help="Only this organization (slug).")
        parser.add_argument(
            "--full", action="store_true", help="A full run (default: changes since last run)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organizations = Organization.objects.filter(
            pk__in=FlourishIntegration.objects.exclude(api_key="").values("organization")
        ).order_by("slug")
        if options["org"]:
            organizations = organizations.filter(slug=options["org"])
            if not organizations.exists():
                raise CommandError(
                    f"No organization {options['org']!r} with Flourish credentials entered."
                )
        mode = SyncMode.FULL if options["full"] else SyncMode.DELTA
        failed = 0
        for organization in organizations:
            run = inventory.start_sync(organization, SyncTrigger.COMMAND, mode, enqueue=False)
            if run is None:
                running = inventory.running_sync(organization)
                since = f" since {running.started_at:%Y-%m-%d %H:%M:%S}" if running else ""
                self.stderr.write(f"{organization.slug}: a sync is already running{since}.")
                failed += 1
                continue
            bar = tqdm(desc=f"{organization.slug} ({run.mode})", unit=" items", file=self.stderr)

            def advance(progress: SyncRun, bar: tqdm[Any] = bar) -> None:
                bar.update(progress.seen - bar.n)
                bar.set_postfix(calls=progress.api_calls, refresh=False)

            done = inventory.run_sync(run.pk, on_progress=advance)
            bar.close()
            if done is None:  # deleted meanwhile
                continue
            self.stdout.write(
                f"{organization.slug}: {done.state}; {done.seen} seen, {done.created} created, "
                f"{done.updated} updated, {done.unchanged} unchanged, "
                f"{done.deactivated} deactivated, {done.api_calls} API calls"
            )
            for reason, count in done.skipped.items():
                self.stdout.write(f"  skipped {count}: {reason}")
            if done.error:
                self.stderr.write(f"  error: {done.error}")
                failed += 1
        if failed:
            raise CommandError(f"{failed} organization(s) not synced.")
