"""Audit records: generic events serialised to canonical, versioned bytes.

Spec: DOMAIN.md §4.2 (AU-3 content, AU-8 time stamps, AU-3(3) minimised content);
canonical JSON is RFC 8785 (JCS), so every verifier recomputes the same leaf hash.

A record is ``{"v": 1, "type": <event type>, "ts": <RFC 3339 ms UTC>, "payload": {...}}``.
The gateway builds the payload; this module only checks its shape. Prompt and output bodies
never enter the log: :func:`body_digest` gives a salted HMAC-SHA256 to put in the payload,
and the bodies themselves go to an erasable :class:`~redline.audit.bodies.BodyStore`.

Invariants: encoded records are at most :data:`MAX_RECORD_BYTES` (64 KiB, which also fits
tlog-tiles' uint16 entry length); ``decode_record(encode_record(r)) == r``; the bytes are a
pure function of the record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

import rfc8785

from redline.errors import AuditError

from . import jcs

__all__ = [
    "MAX_RECORD_BYTES",
    "RECORD_VERSION",
    "AuditRecord",
    "EventType",
    "JSONValue",
    "body_digest",
    "decode_record",
    "encode_record",
]

RECORD_VERSION = 1
MAX_RECORD_BYTES = 65535  # "<= 64 KiB", and the largest entry a tlog-tiles bundle can carry
_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

JSONValue: TypeAlias = (
    bool | int | float | str | Sequence["JSONValue"] | Mapping[str, "JSONValue"] | None
)


class EventType(StrEnum):
    """The events the gateway records (one leaf each)."""

    REQUEST_DECISION = "request_decision"
    RESPONSE_DECISION = "response_decision"
    ACCESS_DECISION = "access_decision"
    REVIEW_ACTION = "review_action"
    POLICY_CHANGE = "policy_change"
    HALT = "halt"
    RESUME = "resume"
    KEY_CHANGE = "key_change"
    MONITOR_ALERT = "monitor_alert"
    MODERATION = "moderation"
    CONFIRMATION = "confirmation"
    AUTHORITY_REGISTER = "authority_register"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """One audit event.

    Attributes:
        event_type: what happened.
        timestamp: RFC 3339 UTC with milliseconds, e.g. ``2026-01-02T03:04:05.678Z``.
        payload: the gateway-built JSON object (hashes and IDs, no content).
        version: the record format version.
    """

    event_type: EventType
    timestamp: str
    payload: Mapping[str, JSONValue]
    version: int = RECORD_VERSION

    @property
    def request_id(self) -> str | None:
        """The payload's ``request_id`` when it is a string (indexed for receipts)."""
        value = self.payload.get("request_id")
        return value if isinstance(value, str) else None


def encode_record(record: AuditRecord) -> bytes:
    """Return the canonical RFC 8785 bytes of ``record``.

    Raises:
        AuditError: unknown version, bad timestamp, a payload JSON cannot represent
            exactly, or more than :data:`MAX_RECORD_BYTES` bytes.
    """
    if record.version != RECORD_VERSION:
        raise AuditError(f"unsupported record version {record.version}")
    if not _TS.fullmatch(record.timestamp):
        raise AuditError("timestamp is not RFC 3339 UTC with milliseconds")
    doc = {
        "v": record.version,
        "type": EventType(record.event_type).value,
        "ts": record.timestamp,
        "payload": record.payload,
    }
    try:
        data = jcs.dumps(doc)
    except (rfc8785.CanonicalizationError, rfc8785.IntegerDomainError, TypeError) as exc:
        raise AuditError(f"payload is not canonical JSON: {exc}") from exc
    if len(data) > MAX_RECORD_BYTES:
        raise AuditError(f"audit record is {len(data)} bytes, over {MAX_RECORD_BYTES}")
    return data


def decode_record(data: bytes) -> AuditRecord:
    """Parse record bytes, and check that they are exactly the canonical encoding.

    Raises:
        AuditError: not JSON, wrong shape, unknown type or version, or not canonical.
    """
    if len(data) > MAX_RECORD_BYTES:
        raise AuditError("audit record is too large")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AuditError(f"audit record is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or set(doc) != {"v", "type", "ts", "payload"}:
        raise AuditError("audit record has the wrong fields")
    payload, version = doc["payload"], doc["v"]
    if not isinstance(payload, dict) or type(version) is not int:
        raise AuditError("audit record has the wrong field types")
    if not isinstance(doc["ts"], str) or doc["type"] not in EventType.__members__.values():
        raise AuditError("audit record has an unknown event type or a bad timestamp")
    record = AuditRecord(
        event_type=EventType(doc["type"]), timestamp=doc["ts"], payload=payload, version=version
    )
    if encode_record(record) != data:
        raise AuditError("audit record is not in canonical form")
    return record


def body_digest(salt: bytes, body: bytes) -> str:
    """Salted hash of a prompt or output body: ``hmac-sha256:<hex>`` keyed by the log's salt.

    The salt stops dictionary attacks on short bodies; erasing it (or the body) leaves the
    Merkle tree intact.
    """
    if len(salt) < 16:
        raise AuditError("body salt must be at least 16 bytes")
    return "hmac-sha256:" + hmac.new(salt, body, hashlib.sha256).hexdigest()
