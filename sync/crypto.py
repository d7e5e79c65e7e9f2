"""Secrets at rest: a model field encrypted with MultiFernet (cryptography).

Keys come from ``FIELD_ENCRYPTION_KEYS`` (newest first). Any string is accepted as a key: it is
stretched with SHA-256 into the 32 bytes Fernet wants. The newest key encrypts; every key may
decrypt, so rotating means putting a new key first and running ``manage.py reencrypt_secrets``.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "fernet:"


def _fernet_from(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode("utf-8")).digest()))


def multi_fernet() -> MultiFernet:
    secrets = list(settings.FIELD_ENCRYPTION_KEYS) or [settings.SECRET_KEY]
    return MultiFernet([_fernet_from(secret) for secret in secrets])


def encrypt(plaintext: str) -> str:
    return PREFIX + multi_fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise ValueError("stored secret is not in the encrypted format")
    try:
        return multi_fernet().decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError(
            "stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS (was a key removed?)"
        ) from exc


def rotate(stored: str) -> str:
    """Re-encrypt a stored value with the newest key."""
    return PREFIX + multi_fernet().rotate(stored[len(PREFIX) :].encode("ascii")).decode("ascii")


class EncryptedTextField(models.TextField):
    """Holds a secret. Python sees plaintext; the database column holds only ciphertext."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
