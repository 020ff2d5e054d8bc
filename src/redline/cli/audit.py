"""``redline audit``: keys, checkpoints, export, proofs and offline verification.

Sub-commands::

    redline audit keygen NAME [--skey F] [--vkey F]
    redline audit checkpoint --signing-key F  (--data-dir D | --database-url URL)
    redline audit export DIR                  (--data-dir D | --database-url URL)
    redline audit prove (--request-id ID | --index N) [--signing-key F] (--data-dir ...)
    redline audit consistency OLD NEW         (--data-dir D | --database-url URL) [--json]
    redline audit verify DIR --key VKEY [--checkpoint F ...] [--receipt F ...] [--json]

Exit codes (one table, STYLE.md §7.4): 0 valid / done, 1 verification failed, 2 usage,
3 evidence of a fork. ``verify`` imports only ``redline.audit`` and the stdlib; it never
opens a database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from redline.cli.main import UsageError

if TYPE_CHECKING:
    from redline.audit import LogStore, NoteSigner, NoteVerifier
    from redline.audit.sequencer import Sequencer

__all__ = ["register"]

_MAX_KEY_FILE = 4096
_MAX_EVIDENCE = 1 << 20


def _read_text(value: str, what: str) -> str:
    path = Path(value)
    if path.is_file():
        data = path.read_bytes()[: _MAX_KEY_FILE + 1]
        if len(data) > _MAX_KEY_FILE:
            raise UsageError(f"{what} file {value} is too large")
        return data.decode().strip()
    return value.strip()


def _read_evidence(value: str) -> bytes:
    try:
        with Path(value).open("rb") as fh:
            data = fh.read(_MAX_EVIDENCE + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {value}: {exc}") from exc
    if len(data) > _MAX_EVIDENCE:
        raise UsageError(f"{value} is too large")
    return data


def _verifier(value: str) -> NoteVerifier:
    from redline.audit import NoteVerifier
    from redline.errors import SignatureError

    try:
        return NoteVerifier.parse(_read_text(value, "key"))
    except SignatureError as exc:
        raise UsageError(f"bad verifier key: {exc}") from exc


def _signer(value: str | None) -> NoteSigner | None:
    from redline.audit import NoteSigner
    from redline.errors import SignatureError

    if value is None:
        return None
    try:
        return NoteSigner.parse(_read_text(value, "signing key"))
    except SignatureError as exc:
        raise UsageError(f"bad signing key: {exc}") from exc


def _store(args: argparse.Namespace) -> LogStore:
    from redline.audit import PostgresLogStore, SqliteLogStore

    if args.database_url:
        store: LogStore = PostgresLogStore(args.database_url, schema=args.schema)
        return store
    if args.data_dir:
        path = Path(args.data_dir) / "audit.db"
        if not path.is_file():
            raise UsageError(f"no audit log at {path}")
        return SqliteLogStore(path)
    raise UsageError("give --data-dir or --database-url")


def _sequencer(args: argparse.Namespace, signer: NoteSigner | None = None) -> Sequencer:
    from redline.audit.sequencer import Sequencer

    seq = Sequencer(_store(args), signer, origin=None)
    seq.start()
    return seq


def _keygen(args: argparse.Namespace) -> int:
    from redline.audit import generate_signer
    from redline.errors import SignatureError

    skey, vkey = Path(args.skey), Path(args.vkey)
    if skey.exists():
        raise UsageError(f"{skey} exists; refusing to overwrite a signing key")
    try:
        signer = generate_signer(args.name)
    except SignatureError as exc:
        raise UsageError(str(exc)) from exc
    fd = os.open(skey, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(signer.encode() + "\n")
    vkey.write_text(signer.verifier.encode() + "\n")
    print(signer.verifier.encode())
    return 0


def _checkpoint(args: argparse.Namespace) -> int:
    seq = _sequencer(args, _signer(args.signing_key))
    try:
        sys.stdout.write(seq.checkpoint().decode())
    finally:
        seq.store.close()
    return 0


def _export(args: argparse.Namespace) -> int:
    from redline.audit import export_tiles

    seq = _sequencer(args)
    try:
        head = export_tiles(seq.store, args.directory)
    finally:
        seq.store.close()
    print(f"exported {head.size} entries to {args.directory}")
    return 0


def _prove(args: argparse.Namespace) -> int:
    seq = _sequencer(args, _signer(args.signing_key))
    try:
        if args.request_id is not None:
            receipt = seq.receipt_for_request(args.request_id)
        else:
            receipt = seq.receipt(args.index)
    finally:
        seq.store.close()
    sys.stdout.buffer.write(receipt.encode())
    return 0


def _size_of(value: str) -> int:
    from redline.audit import Checkpoint

    if value.isdigit():
        return int(value)
    text = _read_evidence(value).decode(errors="replace")
    return Checkpoint.parse(text[: text.rfind("\n\n") + 1]).size


def _consistency(args: argparse.Namespace) -> int:
    import base64

    old, new = _size_of(args.old), _size_of(args.new)
    if old > new:
        raise UsageError("OLD must not be larger than NEW")
    seq = _sequencer(args)
    try:
        proof = seq.consistency_proof(old, new)
    finally:
        seq.store.close()
    lines = [base64.b64encode(h).decode() for h in proof]
    if args.json:
        print(json.dumps({"old": old, "new": new, "proof": lines}))
    else:
        print(f"old {old}\nnew {new}")
        print("\n".join(lines))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from redline.audit import verify_export

    if not Path(args.directory).is_dir():
        raise UsageError(f"{args.directory} is not a directory")
    report = verify_export(
        args.directory,
        [_verifier(k) for k in args.key],
        origin=args.origin,
        previous=[_read_evidence(p) for p in args.checkpoint],
        receipts=[_read_evidence(p) for p in args.receipt],
    )
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        status = {0: "VALID", 1: "INVALID", 3: "FORK EVIDENCE"}[report.exit_code]
        print(
            f"{status}: size {report.size}, root {report.root}, "
            f"{report.entries_checked} entries, {report.checkpoints_checked} checkpoints, "
            f"{report.receipts_checked} receipts"
        )
        for finding in report.findings:
            print(f"  {finding.check}: {finding.detail}")
    return report.exit_code


def _guard(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Map verification failures of the live-log commands to exit codes 1 and 3."""

    def wrapped(args: argparse.Namespace) -> int:
        from redline.errors import InconsistencyError, VerificationError

        try:
            return run(args)
        except InconsistencyError as exc:
            print(f"redline audit: fork evidence: {exc}", file=sys.stderr)
            return 3
        except VerificationError as exc:
            print(f"redline audit: verification failed: {exc}", file=sys.stderr)
            return 1

    return wrapped


def _live(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="directory holding audit.db (SQLite)")
    p.add_argument("--database-url", help="postgresql://... (shared log)")
    p.add_argument("--schema", default="redline_audit", help="PostgreSQL schema of the log")


def register(parser: argparse.ArgumentParser, name: str) -> None:
    """Add the ``audit`` sub-commands to ``parser``."""
    sub = parser.add_subparsers(dest=f"{name}_command", required=True, metavar="SUBCOMMAND")
    p = sub.add_parser("keygen", help="create an Ed25519 note signing key and verifier key")
    p.add_argument("name", help="key name = log origin, e.g. audit.example.mil/redline")
    p.add_argument("--skey", default="audit.skey", help="signing key file (mode 0600)")
    p.add_argument("--vkey", default="audit.vkey", help="verifier key file")
    p.set_defaults(handler=_keygen)
    p = sub.add_parser("checkpoint", help="sign and print a checkpoint of the live log")
    p.add_argument("--signing-key", required=True, help="signing key file")
    _live(p)
    p.set_defaults(handler=_guard(_checkpoint))
    p = sub.add_parser("export", help="write the log as a tlog-tiles directory")
    p.add_argument("directory")
    _live(p)
    p.set_defaults(handler=_guard(_export))
    p = sub.add_parser("prove", help="print a c2sp.org/tlog-proof@v1 receipt")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--request-id")
    which.add_argument("--index", type=int)
    p.add_argument("--signing-key", help="sign a new checkpoint if none covers the entry")
    _live(p)
    p.set_defaults(handler=_guard(_prove))
    p = sub.add_parser("consistency", help="print a consistency proof between two sizes")
    p.add_argument("old", help="size or checkpoint file")
    p.add_argument("new", help="size or checkpoint file")
    p.add_argument("--json", action="store_true")
    _live(p)
    p.set_defaults(handler=_guard(_consistency))
    p = sub.add_parser("verify", help="verify an exported log offline")
    p.add_argument("directory")
    p.add_argument("--key", action="append", required=True, help="log verifier key (or file)")
    p.add_argument("--origin", help="expected origin (default: the key name)")
    p.add_argument("--checkpoint", action="append", default=[], help="older checkpoint file")
    p.add_argument("--receipt", action="append", default=[], help="tlog-proof receipt file")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(handler=_verify)
