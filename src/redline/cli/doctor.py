"""``redline doctor``: check a deployment from where a replica would start, and say what
is wrong.

It reads the same settings as ``redline serve`` (environment, ``--config``, ``--data-dir``)
and runs the checks a replica runs before it serves, plus what only a view of the whole
fleet shows: which replicas are live and whether they agree, who holds the audit sequencer,
the audit queue's backlog and the halts in force. It starts nothing and changes nothing.

One line per check: ``ok``, ``warn`` or ``FAIL``, the check, what was found. Exit 0 when no
check failed, 1 otherwise (2 for bad arguments).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from redline.cli.common import add_data_dir_argument, load_settings

if TYPE_CHECKING:
    from redline.settings import Settings

__all__ = ["register"]


def register(parser: argparse.ArgumentParser, name: str) -> None:
    add_data_dir_argument(parser)
    parser.set_defaults(handler=run)


@dataclass
class Report:
    failed: int = 0

    def line(self, status: str, check: str, detail: str) -> None:
        if status == "FAIL":
            self.failed += 1
        print(f"{status:<5} {check}: {detail}", flush=True)

    def run(self, check: str, probe: Callable[[], str]) -> bool:
        """Run ``probe``; its return value is the detail of an ``ok`` line."""
        from redline.errors import GatewayError

        try:
            self.line("ok", check, probe())
        except (GatewayError, OSError) as exc:
            self.line("FAIL", check, str(exc))
            return False
        return True


def run(args: argparse.Namespace) -> int:
    from redline.errors import ConfigError

    report = Report()
    try:
        settings = load_settings(args)
    except ConfigError as exc:
        report.line("FAIL", "settings", str(exc))
        return 1
    report.line("ok", "settings", f"data directory {settings.data_dir}")
    policy_digests = _policy(report, settings)
    if settings.database_url is None or settings.redis_url is None:
        report.line(
            "ok",
            "deployment",
            "embedded: one process, SQLite in the data directory (no REDLINE_DATABASE_URL)",
        )
        return 1 if report.failed else 0
    from redline.errors import GatewayError

    try:
        _fleet(report, settings.database_url, settings.redis_url, settings.data_dir, policy_digests)
    except GatewayError as exc:
        report.line("FAIL", "fleet database", str(exc))
    return 1 if report.failed else 0


def _policy(report: Report, settings: Settings) -> tuple[str, str] | None:
    from redline.errors import PolicyError
    from redline.service.policy_runtime import PolicySources

    sources = PolicySources(floor_path=settings.policy_floor, overlay_path=settings.policy_overlay)
    try:
        policy = sources.load()
    except (PolicyError, OSError) as exc:
        report.line("FAIL", "policy", str(exc))
        return None
    report.line(
        "ok", "policy", f"loads; digest {policy.sha256[:16]}, floor {policy.floor_sha256[:16]}"
    )
    return policy.floor_sha256, policy.sha256


def _fleet(
    report: Report,
    url: str,
    redis_url: str,
    data_dir: Path,
    digests: tuple[str, str] | None,
) -> None:
    from redline.fleet.identity import list_replicas, read_identity, secret_mismatches
    from redline.fleet.schema import SCHEMA_VERSION, require_current

    def schema() -> str:
        require_current(url)
        return f"version {SCHEMA_VERSION}"

    if not report.run("database schema", schema):
        return
    identity = read_identity(url)
    if identity is None:
        report.line(
            "FAIL", "fleet identity", "none recorded: run `redline db upgrade --data-dir DIR`"
        )
        return
    report.line(
        "ok", "fleet identity", f"fleet {identity.fleet_id}, audit key {identity.audit_vkey}"
    )
    problems = secret_mismatches(identity, data_dir)
    if problems:
        for problem in problems:
            report.line("FAIL", "key files", problem)
    else:
        report.line("ok", "key files", "this data directory holds the fleet's four key files")
    report.run("redis", lambda: _redis(redis_url))
    replicas = list_replicas(url)
    live = [r for r in replicas if r.live]
    if not live:
        report.line("warn", "replicas", "no replica is live")
    for replica in live:
        agrees = digests is None or (replica.floor_sha256, replica.policy_sha256) == digests
        report.line(
            "ok" if agrees else "FAIL",
            f"replica {replica.replica_id}",
            f"live (seen {replica.age_s:.1f} s ago), Redline {replica.version}, "
            f"policy {replica.policy_sha256[:16]}"
            + ("" if agrees else " differs from this configuration's policy or floor"),
        )
    if len({(r.floor_sha256, r.policy_sha256) for r in live}) > 1:
        report.line("FAIL", "replicas", "live replicas serve different policies")
    _audit(report, url, bool(live))
    report.run("halts", lambda: _halts(url))


def _redis(url: str) -> str:
    import redis
    from redis.exceptions import RedisError

    from redline.errors import StoreError

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        raise StoreError(f"cannot be reached: {exc}") from exc
    finally:
        client.close()
    return "reachable"


def _audit(report: Report, url: str, any_live: bool) -> None:
    import psycopg

    from redline.audit.postgres_store import PostgresLogStore
    from redline.fleet.schema import AUDIT_SCHEMA

    store = PostgresLogStore(url, schema=AUDIT_SCHEMA, create=False)
    try:
        holder = store.sequencer()
        size = store.size()
        with psycopg.connect(url) as db:
            row = db.execute(
                f"SELECT count(*), (SELECT checkpoint_size FROM {AUDIT_SCHEMA}.state)"  # noqa: S608
                f" FROM {AUDIT_SCHEMA}.pending"
            ).fetchone()
    finally:
        store.close()
    pending = int(str(row[0])) if row else 0
    signed = row[1] if row else None
    if holder is None:
        report.line(
            "FAIL" if any_live or pending else "warn",
            "audit sequencer",
            "no replica holds the sequencer lock" + (f"; {pending} events wait" if pending else ""),
        )
    else:
        report.line("ok", "audit sequencer", f"held by {holder.removeprefix('redline-sequencer ')}")
    report.line(
        "ok",
        "audit log",
        f"{size} entries, last signed checkpoint at {signed if signed is not None else 'none'}, "
        f"{pending} queued",
    )


def _halts(url: str) -> str:
    from redline.fleet.schema import HALT_TABLE
    from redline.killswitch import HaltState
    from redline.killswitch.stores import PostgresHaltStore

    async def read() -> str:
        store = PostgresHaltStore(url, table=HALT_TABLE)
        try:
            stored = await store.read()
        finally:
            await store.aclose()
        state = HaltState.from_json(stored.state_json) if stored.state_json else HaltState()
        if not state.halts:
            return "none in force"
        return "in force: " + ", ".join(f"{h.scope} ({h.reason})" for h in state.halts)

    return asyncio.run(read())
