"""Webhook signatures and envelopes as Flourish sends them (flourish-api.md §5.2, §5.3).

Flourish signs the raw request body with HMAC-SHA256, keyed with the signing key the admin chose,
and sends the lowercase hex digest in the ``Auth-Signature`` header: no prefix, no timestamp.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Auth-Signature"


def sign(body: bytes, key: str) -> str:
    """Return the lowercase hex HMAC-SHA256 of ``body`` keyed with ``key`` (UTF-8)."""
    return hmac.new(key.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header_value: str | None, key: str | None) -> bool:
    """True when ``header_value`` is the signature of ``body`` under ``key``.

    A missing header or an empty key is a failure, never a pass. The comparison is constant-time.
    """
    if not header_value or not key:
        return False
    return hmac.compare_digest(sign(body, key), header_value.strip().lower())
