"""``redline audit``: keys, checkpoints, export, proofs and offline verification.

Sub-commands::

    redline audit keygen NAME [--skey F] [--vkey F]
    redline audit checkpoint [--signing-key F]  [--data-dir D | --database-url URL]
    redline audit export DIR [--signing-key F]  [--data-dir D | --database-url URL]
    redline audit prove (--request-id ID | --index N) [--signing-key F] [--data-dir ...]
    redline audit consistency OLD NEW           [--data-dir D | --database-url URL] [--json]
    redline audit verify DIR [--key VKEY ...] [--checkpoint F ...] [--receipt F ...] [--json]

Like every command that reads local state, the live-log commands default to the data
directory's ``audit.db`` (``--data-dir``, else ``$REDLINE_DATA_DIR``, else the platform
default); ``checkpoint`` signs with its ``audit.skey``, ``export`` and ``prove`` use that
key (when present) to sign a checkpoint covering the newest entries, and ``verify``
checks against its ``audit.vkey``, unless the key is given on the command line. A key
file named by a relative path that does not exist in the working directory is looked up in
the data directory, so ``redline audit verify DIR --key audit.vkey`` works on the gateway's
machine.

Exit codes (one table, STYLE.md §7.4): 0 valid / done, 1 verification failed, 2 usage,
3 evidence of a fork. ``verify`` never opens a database; given ``--key`` files that exist,
it imports only ``redline.audit`` and the stdlib (finding the data directory loads the
settings module).
"""

from __future__ import annotations

import argparse
import contextlib
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


def _data_dir(args: argparse.Namespace) -> Path:
    from redline.cli.common import resolve_data_dir

    return resolve_data_dir(getattr(args, "data_dir", None))


def _read_key_file(path: Path, what: str) -> str:
    try:
        with path.open("rb") as fh:
            data = fh.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} file {path}: {exc.strerror}") from exc
    if len(data) > _MAX_KEY_FILE:
        raise UsageError(f"{what} file {path} is too large")
    return data.decode(errors="replace").strip()


def _read_text(value: str, what: str, args: argparse.Namespace) -> str:
    """A key given as a file, as the key itself (it contains '+'), or as a file name in
    the data directory."""
    path = Path(value)
    if path.is_file():
        return _read_key_file(path, what)
    if "+" in value:
        return value.strip()
    in_data_dir = _data_dir(args) / path
    if not path.is_absolute() and in_data_dir.is_file():
        return _read_key_file(in_data_dir, what)
    where = "" if path.is_absolute() else f" (nor in the data directory {in_data_dir.parent})"
    raise UsageError(f"{what} file {value} does not exist{where}")


def _read_evidence(value: str) -> bytes:
    try:
        with Path(value).open("rb") as fh:
            data = fh.read(_MAX_EVIDENCE + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {value}: {exc}") from exc
    if len(data) > _MAX_EVIDENCE:
        raise UsageError(f"{value} is too large")
    return data


def _verifier(value: str, args: argparse.Namespace) -> NoteVerifier:
    from redline.audit import NoteVerifier
    from redline.errors import SignatureError

    try:
        return NoteVerifier.parse(_read_text(value, "key", args))
    except SignatureError as exc:
        raise UsageError(f"bad verifier key: {exc}") from exc


def _signer(value: str | None, args: argparse.Namespace) -> NoteSigner | None:
    from redline.audit import NoteSigner
    from redline.errors import SignatureError

    if value is None:
        return None
    try:
        return NoteSigner.parse(_read_text(value, "signing key", args))
    except SignatureError as exc:
        raise UsageError(f"bad signing key: {exc}") from exc


def _default_key(args: argparse.Namespace, name: str, what: str) -> str:
    """``DATA_DIR/name`` (the gateway creates audit.skey and audit.vkey on its first start)."""
    path = _data_dir(args) / name
    if not path.is_file():
        raise UsageError(
            f"no {what} given and no {path} (it is created by the first `redline serve` "
            f"with this data directory; or pass {'--key' if what == 'key' else '--signing-key'})"
        )
    return str(path)


def _local_signing_key(args: argparse.Namespace) -> str | None:
    """``--signing-key``, else the data directory's ``audit.skey`` if it exists (SQLite log)."""
    if args.signing_key or args.database_url:
        return str(args.signing_key) if args.signing_key else None
    path = _data_dir(args) / "audit.skey"
    return str(path) if path.is_file() else None


def _store(args: argparse.Namespace) -> LogStore:
    from redline.audit import PostgresLogStore, SqliteLogStore

    if args.database_url:
        if args.data_dir:
            raise UsageError("give --data-dir or --database-url, not both")
        store: LogStore = PostgresLogStore(args.database_url, schema=args.schema, create=False)
        return store
    path = _data_dir(args) / "audit.db"
    if not path.is_file():
        raise UsageError(
            f"no audit log at {path} (has `redline serve` run with this data directory? "
            "pass --data-dir or --database-url)"
        )
    return SqliteLogStore(path)


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
    key = args.signing_key or _default_key(args, "audit.skey", "signing key")
    seq = _sequencer(args, _signer(key, args))
    try:
        sys.stdout.write(seq.checkpoint().decode())
    finally:
        seq.store.close()
    return 0


def _export(args: argparse.Namespace) -> int:
    from redline.audit import export_tiles
    from redline.errors import AuditStoreError

    seq = _sequencer(args, _signer(_local_signing_key(args), args))
    try:
        if seq.signer is not None:  # sign the whole log first, so the export is complete
            with contextlib.suppress(AuditStoreError):  # the gateway signed at that moment
                seq.checkpoint()
        head = export_tiles(seq.store, args.directory)
    finally:
        seq.store.close()
    print(f"exported {head.size} entries to {args.directory}")
    return 0


def _prove(args: argparse.Namespace) -> int:
    from redline.errors import AuditError, VerificationError

    seq = _sequencer(args, _signer(_local_signing_key(args), args))
    try:
        if args.request_id is not None:
            receipt = seq.receipt_for_request(args.request_id)
        else:
            receipt = seq.receipt(args.index)
    except AuditError as exc:
        if isinstance(exc, VerificationError) or "no signed checkpoint" not in str(exc):
            raise
        raise UsageError(
            f"{exc} (a running gateway signs one every second; or pass --signing-key to "
            "sign one now)"
        ) from exc
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
        [_verifier(k, args) for k in args.key or [_default_key(args, "audit.vkey", "key")]],
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
    p.add_argument(
        "--data-dir",
        help="directory holding audit.db (default: $REDLINE_DATA_DIR or ~/.local/share/redline)",
    )
    p.add_argument("--database-url", help="postgresql://... (shared log, instead of audit.db)")
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
    p.add_argument("--signing-key", help="signing key file (default: DATA_DIR/audit.skey)")
    _live(p)
    p.set_defaults(handler=_guard(_checkpoint))
    p = sub.add_parser("export", help="write the log as a tlog-tiles directory")
    p.add_argument("directory")
    p.add_argument(
        "--signing-key",
        help="first sign a checkpoint of the whole log (default: DATA_DIR/audit.skey if "
        "present; without a key, the export ends at the last signed checkpoint)",
    )
    _live(p)
    p.set_defaults(handler=_guard(_export))
    p = sub.add_parser("prove", help="print a c2sp.org/tlog-proof@v1 receipt")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--request-id")
    which.add_argument("--index", type=int)
    p.add_argument(
        "--signing-key",
        help="sign a new checkpoint if none covers the entry (default: DATA_DIR/audit.skey "
        "if present)",
    )
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
    p.add_argument(
        "--key",
        action="append",
        default=None,
        help="log verifier key or key file, repeatable (default: DATA_DIR/audit.vkey)",
    )
    p.add_argument("--data-dir", help="where to find audit.vkey (default: $REDLINE_DATA_DIR ...)")
    p.add_argument("--origin", help="expected origin (default: the key name)")
    p.add_argument("--checkpoint", action="append", default=[], help="older checkpoint file")
    p.add_argument("--receipt", action="append", default=[], help="tlog-proof receipt file")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(handler=_verify)
