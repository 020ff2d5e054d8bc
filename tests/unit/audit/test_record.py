"""Canonical audit records and salted body digests."""

from __future__ import annotations

import pytest

from redline.audit import AuditRecord, EventType, body_digest, decode_record, encode_record
from redline.audit.record import MAX_RECORD_BYTES
from redline.errors import AuditError

TS = "2026-01-02T03:04:05.678Z"


def test_canonical_bytes_are_stable_and_round_trip() -> None:
    record = AuditRecord(
        event_type=EventType.HALT,
        timestamp=TS,
        payload={"b": [1, 2.5, None], "a": "é", "request_id": "r1"},
    )
    data = encode_record(record)
    assert data == (
        b'{"payload":{"a":"\xc3\xa9","b":[1,2.5,null],"request_id":"r1"},'
        b'"ts":"2026-01-02T03:04:05.678Z","type":"halt","v":1}'
    )
    assert decode_record(data) == record
    assert decode_record(data).request_id == "r1"


@pytest.mark.parametrize(
    "record",
    [
        AuditRecord(event_type=EventType.HALT, timestamp="2026-01-02T03:04:05Z", payload={}),
        AuditRecord(event_type=EventType.HALT, timestamp=TS, payload={}, version=2),
        AuditRecord(event_type=EventType.HALT, timestamp=TS, payload={"x": float("nan")}),
        AuditRecord(event_type=EventType.HALT, timestamp=TS, payload={"x": 2**60}),
        AuditRecord(event_type=EventType.HALT, timestamp=TS, payload={"x": "y" * MAX_RECORD_BYTES}),
    ],
)
def test_invalid_records_are_rejected(record: AuditRecord) -> None:
    with pytest.raises(AuditError):
        encode_record(record)


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        b'{"v":1}',
        b'{"payload":{},"ts":"x","type":"nope","v":1}',
        b'{"payload":{},"ts":"2026-01-02T03:04:05.678Z","type":"halt","v":true}',
        b'{"v":1,"payload":{},"ts":"2026-01-02T03:04:05.678Z","type":"halt"}',
    ],
)
def test_decode_rejects_non_canonical_or_malformed(data: bytes) -> None:
    with pytest.raises(AuditError):
        decode_record(data)


def test_every_event_type_is_supported() -> None:
    names = {e.value for e in EventType}
    assert names == {
        "request_decision",
        "response_decision",
        "access_decision",
        "review_action",
        "policy_change",
        "halt",
        "resume",
        "key_change",
        "monitor_alert",
        "moderation",
        "confirmation",
        "authority_register",
    }


def test_body_digest_is_salted() -> None:
    a = body_digest(b"s" * 32, b"hello")
    assert a.startswith("hmac-sha256:")
    assert len(a) == 12 + 64
    assert a != body_digest(b"t" * 32, b"hello")
    with pytest.raises(AuditError):
        body_digest(b"short", b"hello")
