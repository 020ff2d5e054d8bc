"""Webhook signatures: HMAC-SHA256 over timestamp and body, constant-time check, freshness."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from redline.errors import ConfigError
from redline.review import Webhook, sign, verify_signature

SECRET = b"s" * 32


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET, b"1700000000." + b"{}", hashlib.sha256).hexdigest()
    assert sign(SECRET, 1700000000, b"{}") == "sha256=" + expected


def test_verify_accepts_fresh_and_rejects_tampered_or_stale() -> None:
    sig = sign(SECRET, 1000, b'{"a":1}')
    ok = {"timestamp": "1000", "body": b'{"a":1}', "signature": sig}
    assert verify_signature(SECRET, now=1100, **ok)  # type: ignore[arg-type]
    assert not verify_signature(SECRET, now=1100, timestamp="1000", body=b'{"a":2}', signature=sig)
    assert not verify_signature(b"t" * 32, now=1100, **ok)  # type: ignore[arg-type]
    assert not verify_signature(SECRET, now=1000 + 301, **ok)  # type: ignore[arg-type]
    assert not verify_signature(SECRET, now=1000, timestamp="x", body=b"", signature=sig)


async def test_webhook_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="http"):
        Webhook("ftp://example", SECRET)
    with pytest.raises(ConfigError, match="16 bytes"):
        Webhook("http://127.0.0.1:1/", b"short")
