"""Re-encrypt every stored secret with the newest key in FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then drop the old keys. Safe to run twice: rotating a value already under the
newest key just re-encrypts it.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from sync.crypto import EncryptedTextField, rotate


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the newest key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            columns = [
                field.column
                for field in model._meta.concrete_fields
                if isinstance(field, EncryptedTextField)
            ]
            if not columns:
                continue
            count = self._rotate_table(model._meta.db_table, model._meta.pk.column, columns)
            self.stdout.write(f"{model._meta.label}: {count} value(s) re-encrypted")
            total += count
        self.stdout.write(self.style.SUCCESS(f"{total} value(s) re-encrypted with the newest key"))

    def _rotate_table(self, table: str, pk: str, columns: list[str]) -> int:
        """Raw SQL on purpose: the model field would hand us plaintext, and we rewrite the stored
        ciphertext. Each UPDATE matches the old ciphertext too, so a value saved meanwhile (already
        under the newest key) is left alone rather than overwritten."""
        quote = connection.ops.quote_name
        count = 0
        with transaction.atomic(), connection.cursor() as cursor:
            select_columns = ", ".join(quote(c) for c in columns)
            cursor.execute(f"SELECT {quote(pk)}, {select_columns} FROM {quote(table)}")  # noqa: S608
            rows = cursor.fetchall()
            for pk_value, *values in rows:
                for column, stored in zip(columns, values, strict=True):
                    if not stored:
                        continue
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {quote(column)} = %s "  # noqa: S608
                        f"WHERE {quote(pk)} = %s AND {quote(column)} = %s",
                        [rotate(stored), pk_value, stored],
                    )
                    count += cursor.rowcount
        return count
