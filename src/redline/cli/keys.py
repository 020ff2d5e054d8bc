"""``redline keys create|list|revoke``: manage API keys in the data directory's key store."""

from __future__ import annotations

import argparse
import sys

from redline.cli.common import add_data_dir_argument, load_settings
from redline.store.keys import SqliteKeyStore

__all__ = ["register"]


def register(parser: argparse.ArgumentParser, name: str) -> None:
    sub = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="issue a new key (printed once)")
    add_data_dir_argument(create)
    create.add_argument("--tenant", required=True)
    create.add_argument("--label", default="")
    create.add_argument("--role", action="append", default=[], help="repeatable, e.g. reviewer")
    create.add_argument("--clearance", default="U", help="U, C, S or TS (default U)")
    create.add_argument("--nationality", default="USA", help="country trigraph (default USA)")
    create.add_argument("--read-in", action="append", default=[], help="SCI/SAP read-in")
    create.set_defaults(handler=_create)
    listing = sub.add_parser("list", help="list keys (never secrets)")
    add_data_dir_argument(listing)
    listing.add_argument("--tenant", default=None)
    listing.set_defaults(handler=_list)
    revoke = sub.add_parser("revoke", help="revoke a key by its id")
    add_data_dir_argument(revoke)
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=_revoke)


def _store(args: argparse.Namespace) -> SqliteKeyStore:
    settings = load_settings(args)
    return SqliteKeyStore(settings.data_dir / "keys.db")


def _create(args: argparse.Namespace) -> int:
    from redline.cli.main import UsageError

    if args.clearance not in {"U", "C", "S", "TS"}:
        raise UsageError(f"--clearance must be U, C, S or TS, got {args.clearance!r}")
    store = _store(args)
    issued = store.create(
        tenant=args.tenant,
        label=args.label,
        roles=frozenset(args.role),
        clearance=args.clearance,
        nationality=args.nationality.upper(),
        read_ins=frozenset(args.read_in),
    )
    store.close()
    print(issued.plaintext)
    print(
        f"key id {issued.key.key_id} for tenant {issued.key.tenant}: "
        "store it now, it is not shown again",
        file=sys.stderr,
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    store = _store(args)
    for key in store.list(tenant=args.tenant):
        state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
        print(f"{key.key_id}\t{key.tenant}\t{key.label}\t{key.created_at}\t{state}")
    store.close()
    return 0


def _revoke(args: argparse.Namespace) -> int:
    store = _store(args)
    revoked = store.revoke(args.key_id)
    store.close()
    if not revoked:
        print(f"redline keys revoke: no active key with id {args.key_id}", file=sys.stderr)
        return 2
    print(f"revoked {args.key_id}")
    return 0
