"""``redline authority add|list|revoke``: maintain the signed authority register.

Every change re-writes the register file and its detached signature (``FILE.sig``, the
format ``redline policy sign`` writes). Before changing an existing register the command
verifies its signature under the public key of ``--key``: a register edited by hand, or
signed by another key, is refused rather than silently re-signed. Keys come from
``redline policy keygen``.

The gateway records each version of the register it loads in the audit log (the
``authority_register`` event); this command writes no audit entry itself, because the audit
log has one writer, the gateway.

Exit codes: 0 done, 2 bad input (a message, never a traceback).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from redline.authority import Authority, Register, format_time, load_signed_register
from redline.cli.common import UsageError, format_table
from redline.domain import AuthorityRef
from redline.errors import AuthorityRegisterError
from redline.policy.signing import SIGNATURE_SUFFIX, load_private_key, sign

__all__ = ["register"]


def register(parser: argparse.ArgumentParser, name: str) -> None:
    """Add the ``authority`` sub-commands to ``parser``."""
    sub = parser.add_subparsers(dest="authority_command", required=True, metavar="SUBCOMMAND")

    add = sub.add_parser("add", help="add an authority to the register and re-sign it")
    add.add_argument("file", type=Path, metavar="REGISTER")
    add.add_argument("--key", type=Path, required=True, help="PEM private key (signs REGISTER)")
    add.add_argument("--type", required=True, help="authority type, e.g. fisa-order")
    add.add_argument("--id", required=True, help="authority id, e.g. 2026-FISC-0042")
    add.add_argument("--issuer", required=True, help="issuing body")
    add.add_argument(
        "--selector",
        action="append",
        required=True,
        help="a person or identifier in scope, as written in requests (repeatable)",
    )
    add.add_argument("--not-before", required=True, help="RFC 3339 time, e.g. 2026-01-01T00:00Z")
    add.add_argument("--expires", required=True, help="RFC 3339 time")
    add.set_defaults(handler=_add)

    list_ = sub.add_parser("list", help="verify the register and list its authorities")
    list_.add_argument("file", type=Path, metavar="REGISTER")
    list_.add_argument("--public-key", type=Path, required=True, help="PEM public key")
    list_.add_argument("--at", help="report status at this RFC 3339 time (default: now)")
    list_.set_defaults(handler=_list)

    revoke = sub.add_parser("revoke", help="revoke an authority and re-sign the register")
    revoke.add_argument("file", type=Path, metavar="REGISTER")
    revoke.add_argument("--key", type=Path, required=True, help="PEM private key")
    revoke.add_argument("ref", metavar="TYPE:ID")
    revoke.add_argument("--at", help="revocation time, RFC 3339 (default: now)")
    revoke.set_defaults(handler=_revoke)


def _add(args: argparse.Namespace) -> int:
    private = _read(args.key)
    current = _load_for_change(args.file, private)
    entry = Authority(
        type=args.type,
        id=args.id,
        issuer=args.issuer,
        selectors=tuple(args.selector),
        not_before=_time(args.not_before, "--not-before"),
        expires=_time(args.expires, "--expires"),
    )
    if current.get(entry.ref) is not None:
        raise UsageError(f"{entry.ref} is already in the register (revoke it, or use another id)")
    _write(args.file, Register(authorities=(*current.authorities, entry)), private)
    print(f"added {entry.ref}; {args.file} re-signed")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    private = _read(args.key)
    current = _load_for_change(args.file, private)
    kind, sep, ident = args.ref.partition(":")
    ref = AuthorityRef(type=kind, id=ident)
    entry = current.get(ref) if sep else None
    if entry is None:
        raise UsageError(f"{args.ref} is not in the register")
    if entry.revoked is not None:
        raise UsageError(f"{ref} was already revoked at {format_time(entry.revoked)}")
    at = _time(args.at, "--at") if args.at else datetime.now(UTC)
    updated = tuple(replace(a, revoked=at) if a.ref == ref else a for a in current.authorities)
    _write(args.file, Register(authorities=updated), private)
    print(f"revoked {ref} at {format_time(at)}; {args.file} re-signed")
    return 0


def _list(args: argparse.Namespace) -> int:
    try:
        current = load_signed_register(args.file, _read(args.public_key))
    except AuthorityRegisterError as exc:
        raise UsageError(str(exc)) from None
    at = _time(args.at, "--at") if args.at else datetime.now(UTC)
    rows = [
        [
            str(a.ref),
            a.issuer,
            format_time(a.not_before),
            format_time(a.expires),
            a.status_at(at),
            str(len(a.selectors)),
        ]
        for a in sorted(current.authorities, key=lambda a: (a.type, a.id))
    ]
    header = ["AUTHORITY", "ISSUER", "NOT BEFORE", "EXPIRES", "STATUS", "SELECTORS"]
    print(format_table(header, rows))
    print(f"register sha256 {current.sha256} (signature verified)")
    return 0


def _load_for_change(path: Path, private_pem: bytes) -> Register:
    """The current register (empty when the file does not exist yet), verified under the
    public half of the signing key."""
    if not path.exists():
        return Register()
    public = (
        load_private_key(private_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    try:
        return load_signed_register(path, public)
    except AuthorityRegisterError as exc:
        raise UsageError(f"refusing to change the register: {exc}") from None


def _write(path: Path, new: Register, private_pem: bytes) -> None:
    data = new.to_toml()
    from redline.authority import parse_register  # the written file must read back

    try:
        parse_register(data, source=str(path))
    except AuthorityRegisterError as exc:
        raise UsageError(str(exc)) from None
    signature = sign(data, private_pem)
    _replace(path, data)
    _replace(path.with_name(path.name + SIGNATURE_SUFFIX), signature)


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a reader sees the old or the new file)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _time(text: str, flag: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag}: not an RFC 3339 time: {text!r}") from None
    if value.tzinfo is None:
        raise UsageError(f"{flag}: the time needs a zone (e.g. Z)")
    return value.astimezone(UTC)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
