"""Offline verification of an exported log (the inspector-general tool).

Spec: AUDIT_LOG.md §4.4. Given a tlog-tiles directory, the pinned log key(s), older
checkpoints the auditor kept and optional tlog-proof receipts, :func:`verify_export`:

1. opens the ``checkpoint`` note strictly (:mod:`note`) and checks its origin;
2. checks the directory holds exactly the tiles the size implies (no missing, extra or
   mis-sized tile), parses every entry bundle and checks every entry is a canonical record;
3. recomputes every leaf hash from the entries and every tile of every level from the level
   below, and the root at the checkpoint size;
4. recomputes the root at every older checkpoint's size from the same data (so the old head
   is consistent iff the roots match), and checks every receipt's inclusion proof;
5. reports a **fork** when two validly signed heads cannot both be honest: same size and
   different roots, or an older head that the (otherwise valid) export contradicts.

Invariants: nothing is trusted before it is recomputed; the module imports only the stdlib,
``cryptography`` and this package; the result is a value (:class:`VerificationReport`) whose
``exit_code`` is 0 valid, 1 invalid, 3 fork evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from redline.errors import AuditError, VerificationError

from .checkpoint import Checkpoint, Receipt, open_checkpoint
from .merkle import leaf_hash, root_from_leaf_hashes, verify_inclusion
from .note import MAX_NOTE_BYTES, NoteVerifier
from .proofs import MemoryHashes, root_from
from .record import decode_record
from .tiles import TILE_HEIGHT, TILE_WIDTH, decode_bundle, tile_path, tile_widths

__all__ = ["Finding", "VerificationReport", "verify_export"]

_MAX_BUNDLE = TILE_WIDTH * (2 + 0xFFFF)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One failed check."""

    check: str
    detail: str
    fork: bool = False


@dataclass(slots=True, kw_only=True)
class VerificationReport:
    """The result of :func:`verify_export` (machine-readable with :meth:`to_json`)."""

    size: int | None = None
    root: str | None = None
    entries_checked: int = 0
    checkpoints_checked: int = 0
    receipts_checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def fork(self) -> bool:
        """Whether two signed heads contradict each other."""
        return any(f.fork for f in self.findings)

    @property
    def valid(self) -> bool:
        """Whether every check passed."""
        return not self.findings

    @property
    def exit_code(self) -> int:
        """0 valid, 1 invalid, 3 evidence of a fork."""
        return 3 if self.fork else (0 if self.valid else 1)

    def fail(self, check: str, detail: str, *, fork: bool = False) -> None:
        """Record a failed check."""
        self.findings.append(Finding(check=check, detail=detail, fork=fork))

    def to_json(self) -> dict[str, object]:
        """A JSON-ready summary."""
        return {
            "valid": self.valid,
            "fork": self.fork,
            "exit_code": self.exit_code,
            "size": self.size,
            "root": self.root,
            "entries_checked": self.entries_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "receipts_checked": self.receipts_checked,
            "findings": [
                {"check": f.check, "detail": f.detail, "fork": f.fork} for f in self.findings
            ],
        }


def _read(path: Path, limit: int) -> bytes:
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise VerificationError(f"{path.name} is larger than {limit} bytes")
    return data


def _expected_files(size: int) -> dict[str, tuple[int | str, int, int]]:
    files: dict[str, tuple[int | str, int, int]] = {}
    level = 0
    while size >> (TILE_HEIGHT * level):
        for n, width in tile_widths(size, level):
            files[tile_path(level, n, width)] = (level, n, width)
        level += 1
    for n, width in tile_widths(size, 0):
        files[tile_path("entries", n, width)] = ("entries", n, width)
    return files


def _rebuild(root: Path, head: Checkpoint, report: VerificationReport) -> list[list[bytes]] | None:
    """Recompute every tile from the entries; return the levels, or ``None`` if invalid."""
    expected = _expected_files(head.size)
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    for extra in sorted(present - set(expected) - {"checkpoint"}):
        report.fail("layout", f"unexpected file {extra}")
    for missing in sorted(set(expected) - present):
        report.fail("layout", f"missing tile {missing}")
    if report.findings:
        return None
    levels: list[list[bytes]] = [[]]
    for n, width in tile_widths(head.size, 0):
        try:
            entries = decode_bundle(
                _read(root / tile_path("entries", n, width), _MAX_BUNDLE), width
            )
            for entry in entries:
                decode_record(entry)
        except (OSError, AuditError) as exc:
            report.fail("entries", f"bundle {n}: {exc}")
            return None
        levels[0].extend(leaf_hash(e) for e in entries)
        report.entries_checked += len(entries)
    level = 0
    while head.size >> (TILE_HEIGHT * level):
        if level:
            below = levels[level - 1]
            levels.append(
                [
                    root_from_leaf_hashes(below[i : i + TILE_WIDTH])
                    for i in range(0, len(below) - TILE_WIDTH + 1, TILE_WIDTH)
                ]
            )
        for n, width in tile_widths(head.size, level):
            want = b"".join(levels[level][n * TILE_WIDTH : n * TILE_WIDTH + width])
            try:
                got = _read(root / tile_path(level, n, width), TILE_WIDTH * 32)
            except (OSError, VerificationError) as exc:
                report.fail("tiles", f"tile {level}/{n}: {exc}")
                return None
            if got != want:
                report.fail("tiles", f"tile {level}/{n} does not match the recomputed hashes")
                return None
        level += 1
    return levels


def _heads(
    items: Sequence[tuple[str, bytes]],
    verifiers: Sequence[NoteVerifier],
    origin: str,
    report: VerificationReport,
) -> list[tuple[str, Checkpoint]]:
    heads = []
    for label, note in items:
        try:
            heads.append((label, open_checkpoint(note, verifiers, origin=origin)))
        except VerificationError as exc:
            report.fail("checkpoint", f"{label}: {exc}")
    return heads


def _check_heads(
    head: Checkpoint,
    heads: list[tuple[str, Checkpoint]],
    levels: list[list[bytes]] | None,
    report: VerificationReport,
) -> None:
    """Older heads must be consistent with the export (and with each other)."""
    report.checkpoints_checked = len(heads)
    seen: dict[int, tuple[str, bytes]] = {}
    for label, old in heads:
        first = seen.setdefault(old.size, (label, old.root))
        if first[1] != old.root and old.size != head.size:
            report.fail(
                "consistency", f"{label} and {first[0]}: same size, different root", fork=True
            )
        if old.size == head.size and old.root != head.root:
            report.fail("consistency", f"{label}: same size, different root", fork=True)
        elif old.size > head.size:
            report.fail("consistency", f"{label}: size {old.size} is beyond the export")
        elif levels is not None and root_from(MemoryHashes(levels), old.size) != old.root:
            report.fail("consistency", f"{label}: not consistent with the export", fork=True)


def _check_receipts(
    head: Checkpoint,
    heads: dict[str, Checkpoint],
    parsed: list[tuple[str, Receipt]],
    leaves: list[bytes],
    report: VerificationReport,
) -> None:
    """Each receipt's proof must lead from the exported entry to its checkpoint's root."""
    for label, receipt in parsed:
        cp = heads.get(label)
        if cp is None:
            continue  # its checkpoint already failed
        if receipt.index >= head.size:
            report.fail("receipt", f"{label}: index {receipt.index} is beyond the export")
            continue
        try:
            verify_inclusion(receipt.index, cp.size, leaves[receipt.index], receipt.proof, cp.root)
        except VerificationError as exc:
            report.fail("receipt", f"{label}: {exc}")
            continue
        report.receipts_checked += 1


def verify_export(
    directory: str | Path,
    verifiers: Sequence[NoteVerifier],
    *,
    origin: str | None = None,
    previous: Sequence[bytes] = (),
    receipts: Sequence[bytes] = (),
) -> VerificationReport:
    """Run every check of the module docstring; see :class:`VerificationReport`."""
    report = VerificationReport()
    root = Path(directory)
    try:
        head = open_checkpoint(_read(root / "checkpoint", MAX_NOTE_BYTES), verifiers, origin=origin)
    except (OSError, VerificationError) as exc:
        report.fail("checkpoint", f"export checkpoint: {exc}")
        return report
    report.size, report.root = head.size, head.root.hex()
    levels = _rebuild(root, head, report)
    data_ok = levels is not None
    if levels is not None and root_from(MemoryHashes(levels), head.size) != head.root:
        report.fail("root", "root recomputed from the entries differs from the checkpoint")
        data_ok = False
    parsed: list[tuple[str, Receipt]] = []
    for i, blob in enumerate(receipts):
        try:
            parsed.append((f"receipt {i}", Receipt.parse(blob)))
        except VerificationError as exc:
            report.fail("receipt", f"receipt {i}: {exc}")
    items = [(f"checkpoint {i}", n) for i, n in enumerate(previous)]
    items += [(label, r.checkpoint) for label, r in parsed]
    heads = _heads(items, verifiers, head.origin, report)
    levels = levels if data_ok else None
    _check_heads(head, heads, levels, report)
    if levels is not None:
        _check_receipts(head, dict(heads), parsed, levels[0], report)
    return report
