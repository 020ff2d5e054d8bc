"""``redline db upgrade``: apply the fleet database's schema migrations, record its identity.

Reads ``REDLINE_DATABASE_URL`` (or ``--database-url``). Applies the migrations the database
lacks (:mod:`redline.fleet.schema`), then, on a fleet without an identity yet, records it
from the secret files in the data directory (created there if absent): mount those files
into every replica's data directory. Prints the schema version and the audit log's verifier
key (give it to auditors). Exit 0 on success, 2 when the database cannot be upgraded.
"""

from __future__ import annotations

import argparse

from redline.cli.common import UsageError, add_data_dir_argument

__all__ = ["database_url", "register"]


def register(parser: argparse.ArgumentParser, name: str) -> None:
    sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = sub.add_parser("upgrade", help="apply missing migrations; record the fleet")
    add_data_dir_argument(upgrade)
    upgrade.add_argument(
        "--database-url", default=None, help="PostgreSQL URL (default: $REDLINE_DATABASE_URL)"
    )
    upgrade.set_defaults(handler=_upgrade)


def database_url(explicit: str | None) -> str:
    """``--database-url``, else ``$REDLINE_DATABASE_URL``.

    Raises:
        UsageError: neither is set.
    """
    if explicit:
        return explicit
    import os

    url = os.environ.get("REDLINE_DATABASE_URL")  # noqa: TID251 - the CLI is a composition root
    if not url:
        raise UsageError("no database: set REDLINE_DATABASE_URL or pass --database-url")
    return url


def _upgrade(args: argparse.Namespace) -> int:
    from redline.cli.common import resolve_data_dir
    from redline.fleet.identity import register_identity
    from redline.fleet.schema import SCHEMA_VERSION, upgrade

    url = database_url(args.database_url)
    data_dir = resolve_data_dir(args.data_dir)
    applied = upgrade(url)
    for migration in applied:
        print(f"applied migration {migration.version}: {migration.description}")
    if not applied:
        print(f"schema is up to date (version {SCHEMA_VERSION})")
    identity, new = register_identity(url, data_dir)
    if new:
        print(
            f"recorded the fleet {identity.fleet_id} with the key files in {data_dir}: "
            "mount audit.skey, review-body.key, monitor-salt.key and confirmation.key "
            "into every replica's data directory"
        )
    print(f"audit log verifier key: {identity.audit_vkey}")
    return 0
