"""Webhook signatures: HMAC-SHA256 over the raw body, lowercase hex (flourish-api.md §5.3)."""

from __future__ import annotations

import hashlib
import hmac

from flourish_client import SIGNATURE_HEADER, sign, verify

BODY = b'{"action":"update","resource_type":"order","data":{"id":"00042711"}}'
KEY = "signing-key-chosen-by-the-admin"


def test_it_signs_like_an_independent_hmac_sha256_hex() -> None:
    expected = hmac.new(KEY.encode(), BODY, hashlib.sha256).hexdigest()

    assert sign(BODY, KEY) == expected
    assert len(expected) == 64


def test_it_verifies_a_correct_signature() -> None:
    header = hmac.new(KEY.encode(), BODY, hashlib.sha256).hexdigest()

    assert verify(BODY, header, KEY) is True


def test_it_accepts_an_uppercase_signature() -> None:
    header = hmac.new(KEY.encode(), BODY, hashlib.sha256).hexdigest().upper()

    assert verify(BODY, header, KEY) is True


def test_it_rejects_a_signature_made_with_another_key() -> None:
    header = sign(BODY, "another-key")

    assert verify(BODY, header, KEY) is False


def test_it_rejects_a_body_changed_after_signing() -> None:
    header = sign(BODY, KEY)

    assert verify(BODY.replace(b"00042711", b"00042712"), header, KEY) is False


def test_it_rejects_a_missing_signature_header() -> None:
    assert verify(BODY, None, KEY) is False
    assert verify(BODY, "", KEY) is False


def test_it_rejects_when_no_key_is_configured() -> None:
    # an empty key signs anything an attacker can compute, so it must never pass
    header = hmac.new(b"", BODY, hashlib.sha256).hexdigest()

    assert verify(BODY, header, "") is False
    assert verify(BODY, header, None) is False


def test_it_names_the_documented_header() -> None:
    assert SIGNATURE_HEADER == "Auth-Signature"
