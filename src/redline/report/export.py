"""Read a verified audit export: the one input of an oversight report.

:func:`read_verified_export` runs the full offline verification
(:func:`redline.audit.verify_export`) first and refuses an export with any finding. It then
reads the entries and recomputes the Merkle root from exactly the bytes it will report on,
and refuses them unless that root equals the verified checkpoint's: a file changed between
verification and reading cannot slip into a report.

Invariant: nothing but the export directory is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from redline.audit import AuditRecord, NoteVerifier, decode_record, verify_export
from redline.audit.merkle import leaf_hash, root_from_leaf_hashes
from redline.audit.tiles import TILE_WIDTH, decode_bundle, tile_path, tile_widths
from redline.errors import AuditError, VerificationError

__all__ = ["VerifiedExport", "read_verified_export"]

_MAX_BUNDLE = TILE_WIDTH * (2 + 0xFFFF)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedExport:
    """The records of an export and the checkpoint they were verified against."""

    origin: str
    size: int
    root_hex: str
    records: tuple[AuditRecord, ...]


def read_verified_export(directory: Path, verifiers: list[NoteVerifier]) -> VerifiedExport:
    """Verify ``directory`` and return its records.

    Raises:
        VerificationError: the export does not verify (the message lists every finding), or
            its entries changed after verification.
    """
    report = verify_export(directory, verifiers)
    if not report.valid or report.size is None or report.root is None:
        findings = "; ".join(f"{f.check}: {f.detail}" for f in report.findings)
        raise VerificationError(f"the export does not verify: {findings or 'no checkpoint'}")
    entries: list[bytes] = []
    try:
        for n, width in tile_widths(report.size, 0):
            data = (directory / tile_path("entries", n, width)).read_bytes()
            if len(data) > _MAX_BUNDLE:
                raise VerificationError(f"entry bundle {n} is too large")
            entries.extend(decode_bundle(data, width))
        records = tuple(decode_record(e) for e in entries)
    except (OSError, AuditError) as exc:
        raise VerificationError(f"the export changed after verification: {exc}") from None
    root = root_from_leaf_hashes([leaf_hash(e) for e in entries]) if entries else None
    if len(entries) != report.size or (root is not None and root.hex() != report.root):
        raise VerificationError("the export changed after verification (root mismatch)")
    origin = (directory / "checkpoint").read_text(encoding="utf-8").split("\n", 1)[0]
    return VerifiedExport(origin=origin, size=report.size, root_hex=report.root, records=records)
