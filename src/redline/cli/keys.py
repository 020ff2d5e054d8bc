"""``redline keys create|list|revoke``: manage API keys in the key store (the data
directory's, or the fleet's database with ``REDLINE_DATABASE_URL`` or ``--database-url``).

``create`` accepts only the roles the gateway checks (:data:`redline.store.keys.ROLES`) and
the clearances U, C, S and TS; anything else is refused (exit 2) with the valid values,
because a misspelt role would silently grant nothing. ``list`` prints a header and one row
per key (never a secret).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from redline.cli.common import UsageError, add_data_dir_argument, format_table, resolve_data_dir
from redline.store.keys import CLEARANCES, ROLES, SqliteKeyStore
from redline.store.postgres_keys import PostgresKeyStore

__all__ = ["register"]


def register(parser: argparse.ArgumentParser, name: str) -> None:
    sub = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="issue a new key (printed once)")
    add_data_dir_argument(create, config=False)
    create.add_argument("--tenant", required=True)
    create.add_argument("--label", default="")
    create.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="ROLE",
        help="repeatable; one of " + ", ".join(ROLES) + " (default: none, a plain API user)",
    )
    create.add_argument("--clearance", default="U", help=f"{', '.join(CLEARANCES)} (default U)")
    create.add_argument("--nationality", default="USA", help="country trigraph (default USA)")
    create.add_argument("--read-in", action="append", default=[], help="SCI/SAP read-in")
    _fleet_argument(create)
    create.set_defaults(handler=_create)
    listing = sub.add_parser("list", help="list keys (never secrets)")
    add_data_dir_argument(listing, config=False)
    listing.add_argument("--tenant", default=None)
    _fleet_argument(listing)
    listing.set_defaults(handler=_list)
    revoke = sub.add_parser("revoke", help="revoke a key by its id")
    add_data_dir_argument(revoke, config=False)
    revoke.add_argument("key_id")
    _fleet_argument(revoke)
    revoke.set_defaults(handler=_revoke)


def _fleet_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=None,
        help="the fleet's PostgreSQL (default: $REDLINE_DATABASE_URL; unset: the data directory)",
    )


def _fleet_store(args: argparse.Namespace) -> PostgresKeyStore | None:
    """The fleet's key store when a database is named, after checking its schema version."""
    import os

    from redline.fleet.schema import require_current

    url = args.database_url or os.environ.get("REDLINE_DATABASE_URL")  # noqa: TID251 - CLI edge
    if not url:
        return None
    require_current(url)
    return PostgresKeyStore(url)


def _path(args: argparse.Namespace) -> Path:
    return resolve_data_dir(args.data_dir) / "keys.db"


def _create(args: argparse.Namespace) -> int:
    unknown = sorted(set(args.role) - ROLES.keys())
    if unknown:
        valid = "\n".join(f"  {role:<13} {what}" for role, what in ROLES.items())
        raise UsageError(f"unknown role {', '.join(map(repr, unknown))}; valid roles:\n{valid}")
    clearance = str(args.clearance).strip().upper()
    if clearance not in CLEARANCES:
        raise UsageError(
            f"--clearance must be one of {', '.join(CLEARANCES)}, got {args.clearance!r}"
        )
    nationality = str(args.nationality).strip().upper()
    if len(nationality) != 3 or not nationality.isascii() or not nationality.isalpha():
        raise UsageError(
            f"--nationality must be a country trigraph such as USA, got {args.nationality!r}"
        )
    store = _fleet_store(args) or SqliteKeyStore(_path(args))
    try:
        issued = store.create(
            tenant=args.tenant,
            label=args.label,
            roles=frozenset(args.role),
            clearance=clearance,
            nationality=nationality,
            read_ins=frozenset(args.read_in),
        )
    finally:
        store.close()
    print(issued.plaintext)
    print(
        f"key id {issued.key.key_id} for tenant {issued.key.tenant}: "
        "store it now, it is not shown again",
        file=sys.stderr,
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    path = _path(args)
    fleet = _fleet_store(args)
    if fleet is None and not path.is_file():
        print(f"no keys: {path} does not exist yet (`redline serve` creates one)", file=sys.stderr)
        return 0
    store = fleet or SqliteKeyStore(path)
    try:
        keys = store.list(tenant=args.tenant)
    finally:
        store.close()
    rows = [
        (
            key.key_id,
            key.tenant,
            ",".join(sorted(key.principal.roles)) or "-",
            key.principal.clearance,
            key.created_at,
            key.revoked_at or "-",
            key.label or "-",
        )
        for key in keys
    ]
    header = ("KEY ID", "TENANT", "ROLES", "CLEARANCE", "CREATED", "REVOKED", "LABEL")
    print(format_table(header, rows))
    if not rows:
        print(f"no keys in {'the fleet database' if fleet else path}", file=sys.stderr)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    path = _path(args)
    fleet = _fleet_store(args)
    if fleet is None and not path.is_file():
        print(f"redline keys revoke: no key store at {path}", file=sys.stderr)
        return 2
    store = fleet or SqliteKeyStore(path)
    try:
        revoked = store.revoke(args.key_id)
    finally:
        store.close()
    if not revoked:
        print(f"redline keys revoke: no active key with id {args.key_id}", file=sys.stderr)
        return 2
    print(f"revoked {args.key_id}")
    return 0
