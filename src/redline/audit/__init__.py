"""``redline.audit``: the tamper-evident audit log (RFC 6962 Merkle tree, C2SP formats).

Spec: AUDIT_LOG.md (design, measured limits) and DOMAIN.md §4 (AU-2/3/8/9/10).

Entry points: :class:`AuditLog` (async; ``open`` / ``append`` / ``checkpoint`` / proofs /
receipts / ``close``) over a :class:`LogStore` (:class:`SqliteLogStore` embedded,
:class:`PostgresLogStore` for several replicas), and the offline :func:`verify_export`.

Invariants of the package: it imports only the stdlib, ``cryptography``, ``rfc8785``,
``redline.errors`` and ``redline.clock`` (psycopg only inside ``postgres_store``, loaded
lazily), so the verifier can be trusted on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .bodies import BodyStore
from .checkpoint import Checkpoint, Receipt, open_checkpoint, sign_checkpoint, verify_receipt
from .export import export_tiles
from .log import AppendResult, AuditLog, LogConfig
from .merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from .note import NoteSigner, NoteVerifier, generate_signer, open_note, sign_note
from .record import (
    MAX_RECORD_BYTES,
    AuditRecord,
    EventType,
    JSONValue,
    body_digest,
    decode_record,
    encode_record,
)
from .sqlite_store import SqliteLogStore
from .store import Batch, LogStore, PendingEvent, SharedLogStore
from .verify import Finding, VerificationReport, verify_export

if TYPE_CHECKING:
    from .postgres_store import PostgresLogStore

__all__ = [
    "MAX_RECORD_BYTES",
    "AppendResult",
    "AuditLog",
    "AuditRecord",
    "Batch",
    "BodyStore",
    "Checkpoint",
    "EventType",
    "Finding",
    "JSONValue",
    "LogConfig",
    "LogStore",
    "NoteSigner",
    "NoteVerifier",
    "PendingEvent",
    "PostgresLogStore",
    "Receipt",
    "SharedLogStore",
    "SqliteLogStore",
    "VerificationReport",
    "body_digest",
    "consistency_proof",
    "decode_record",
    "encode_record",
    "export_tiles",
    "generate_signer",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "root_from_leaf_hashes",
    "sign_checkpoint",
    "sign_note",
    "verify_consistency",
    "verify_export",
    "verify_inclusion",
    "verify_receipt",
]


def __getattr__(name: str) -> object:
    # psycopg is imported only when the PostgreSQL store is asked for.
    if name == "PostgresLogStore":
        from .postgres_store import PostgresLogStore

        return PostgresLogStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
