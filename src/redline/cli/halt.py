"""``redline halt`` and ``redline resume``: the kill switch from the command line.

Both talk to a running gateway's admin API (``--url``, default ``http://127.0.0.1:8080``)
with an admin key (``--admin-key`` or ``$REDLINE_ADMIN_KEY``, read through Settings).
``redline halt --list`` prints the halts in force and the pending resume approvals.

Scopes: ``--all``, ``--tenant T`` (T as a tenant is spelt in ``redline keys create``:
letters, digits, '-' and '.') or ``--model M``. There are no wildcards: ``--tenant '*'`` is
refused, use ``--all``. ``halt --model M`` is refused when M is not a model the gateway
routes (asked at ``GET /v1/models``; offline, read from the configuration's routes), so a
typo cannot leave the intended model running; ``--force`` halts the name anyway (e.g. a
route about to be added). ``resume`` checks only the spelling: a halt on a model that is no
longer routed must still be liftable.

``redline halt --data-dir DIR`` instead writes the halt state in ``DIR/halts.db`` directly,
so traffic can be stopped even when the API is unreachable: the gateways' poll picks the
state up within 0.5 s and records the halt in the audit log. ``resume`` has no such mode:
a resume must be recorded in the audit log (and approved by two administrators through the
API) before it takes effect.

Exit codes: 0 done (for resume: also when the approval is pending), 1 the gateway refused
(not halted, same administrator twice, not an admin key), 2 usage error (including a bad
scope or an unknown model), 3 the gateway or the store is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from redline.cli.common import UsageError, format_table
from redline.settings import ECHO_MODEL, Settings

if TYPE_CHECKING:
    from redline.killswitch.service import HaltResult
    from redline.killswitch.stores import StoredHalts

__all__ = ["register"]

DEFAULT_URL = "http://127.0.0.1:8080"
_ADMIN_PATH = "/redline/v1/admin"
_SCOPES = "valid scopes: --all, --tenant T, --model M"
_NOT_IN_MODEL = frozenset("*?[]")


def register(parser: argparse.ArgumentParser, name: str) -> None:
    """Add the arguments of ``redline halt`` or ``redline resume`` (``name``)."""
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("--all", action="store_true", help="all traffic")
    scope.add_argument("--tenant", metavar="T", help="one tenant's traffic")
    scope.add_argument("--model", metavar="M", help="one model's traffic (as clients name it)")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"gateway URL (default {DEFAULT_URL})")
    parser.add_argument(
        "--admin-key", default=None, help="admin API key (default: $REDLINE_ADMIN_KEY)"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
    if name == "halt":
        scope.add_argument(
            "--list", action="store_true", help="print the halts in force (changes nothing)"
        )
        parser.add_argument("--reason", default="", help="shown to every halted caller")
        parser.add_argument(
            "--force",
            action="store_true",
            help="halt --model M even if the gateway does not route a model named M",
        )
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="read or write DIR/halts.db directly instead of calling the API (emergency stop)",
        )
        parser.add_argument(
            "--config",
            type=Path,
            default=None,
            help="with --data-dir: the configuration whose routes name the models "
            "(default: $REDLINE_CONFIG)",
        )
        parser.set_defaults(handler=_halt)
    else:
        parser.set_defaults(handler=_resume)


def _scope(args: argparse.Namespace) -> str:
    """The scope string, refusing malformed tenants and models (usage error)."""
    if args.all:
        return "all"
    if args.tenant is not None:
        tenant = str(args.tenant)
        if not tenant or not tenant.replace("-", "").replace(".", "").isalnum():
            raise UsageError(
                f"bad tenant {tenant!r}: a tenant is letters, digits, '-' and '.' (no "
                f"wildcards; halt everything with --all); {_SCOPES}"
            )
        return f"tenant:{tenant}"
    model = str(args.model)
    if (
        not model
        or model != model.strip()
        or any(c.isspace() or c in _NOT_IN_MODEL for c in model)
        or not model.isprintable()
    ):
        raise UsageError(
            f"bad model {model!r}: give the model name clients send, without blanks or "
            f"wildcards (halt everything with --all); {_SCOPES}"
        )
    return f"model:{model}"


def _admin_key(args: argparse.Namespace) -> str:
    if args.admin_key:
        return str(args.admin_key)
    settings = Settings.load(os.environ)  # noqa: TID251 - the CLI is a composition root
    if not settings.admin_key:
        raise UsageError("an admin key is required: pass --admin-key or set REDLINE_ADMIN_KEY")
    return settings.admin_key


def _halt(args: argparse.Namespace) -> int:
    if args.list:
        return _list_offline(args.data_dir) if args.data_dir is not None else _list(args)
    scope = _scope(args)
    if args.model is not None and not args.force:
        known = _known_models(args)
        if isinstance(known, int):
            return known
        if args.model not in known:
            raise UsageError(
                f"unknown model {args.model!r}: the gateway routes {', '.join(sorted(known))}. "
                "Give the name clients send, or pass --force to halt it anyway"
            )
    if args.data_dir is not None:
        return _halt_offline(args.data_dir, scope, args.reason)
    answer = _call(args, "POST", "/halt", {"scope": scope, "reason": args.reason})
    if answer is None:
        return 3
    status, doc = answer
    if status != 200:
        return _refused("halt", status, doc)
    print(f"halted {doc.get('scope')}: {doc.get('reason')} (by {doc.get('by')}, {doc.get('at')})")
    if doc.get("warning"):
        print(f"redline halt: warning: {doc['warning']}", file=sys.stderr)
    return 0


def _resume(args: argparse.Namespace) -> int:
    scope = _scope(args)
    answer = _call(args, "POST", "/resume", {"scope": scope})
    if answer is None:
        return 3
    status, doc = answer
    if status == 202:
        print(
            f"resume of {scope} approved by {doc.get('by')}; pending: a second, distinct "
            "administrator must run the same command"
        )
        return 0
    if status != 200:
        return _refused("resume", status, doc)
    print(f"resumed {scope} (second approval by {doc.get('by')})")
    return 0


def _known_models(args: argparse.Namespace) -> set[str] | int:
    """The public model names the gateway routes, or the exit code of a reported failure."""
    if args.data_dir is not None:
        from redline.cli.common import load_settings

        settings = load_settings(args)
        return {ECHO_MODEL, *settings.routes}
    answer = _call(args, "GET", "/v1/models", None, admin=False)
    if answer is None:
        return 3
    status, doc = answer
    data = doc.get("data")
    if status != 200 or not isinstance(data, list):
        return _refused("halt", status, doc)
    return {str(m.get("id")) for m in data if isinstance(m, dict)}


def _list(args: argparse.Namespace) -> int:
    answer = _call(args, "GET", "/halts", None)
    if answer is None:
        return 3
    status, doc = answer
    if status != 200:
        return _refused("halt", status, doc)
    halts = [h for h in _items(doc, "halts") if isinstance(h, dict)]
    pending = [p for p in _items(doc, "pending") if isinstance(p, dict)]
    _print_halts(
        [(str(h["scope"]), str(h["reason"]), str(h["by"]), str(h["at"])) for h in halts],
        [(str(p["scope"]), str(p["by"]), str(p["at"])) for p in pending],
    )
    return 0


def _items(doc: dict[str, object], key: str) -> list[object]:
    value = doc.get(key)
    return value if isinstance(value, list) else []


def _fleet_url() -> str | None:
    """``REDLINE_DATABASE_URL``: on a fleet the halt state lives in its database, not in
    ``halts.db`` (which no replica of a fleet reads)."""
    return os.environ.get("REDLINE_DATABASE_URL") or None  # noqa: TID251 - the CLI is an edge


async def _fleet_halts(url: str) -> StoredHalts:
    from redline.fleet.schema import HALT_TABLE
    from redline.killswitch.stores import PostgresHaltStore

    store = PostgresHaltStore(url, table=HALT_TABLE)
    try:
        return await store.read()
    finally:
        await store.aclose()


def _list_offline(data_dir: Path) -> int:
    from redline.errors import StoreError
    from redline.killswitch import HaltState
    from redline.killswitch.stores import SqliteHaltStore

    path = data_dir / "halts.db"
    url = _fleet_url()
    if url is not None:
        try:
            stored = asyncio.run(_fleet_halts(url))
        except StoreError as exc:
            print(f"redline halt: error: {exc}", file=sys.stderr)
            return 3
        state = HaltState.from_json(stored.state_json) if stored.state_json else HaltState()
        _print_halts(
            [(h.scope, h.reason, h.by, h.at) for h in state.halts],
            [(p.scope, p.by, p.at) for p in state.pending],
        )
        return 0
    if not path.is_file():
        print(f"no halts in force ({path} does not exist)")
        return 0
    try:
        store = SqliteHaltStore(path)
        try:
            stored = store.read_sync()
        finally:
            store.close()
        state = HaltState.from_json(stored.state_json) if stored.state_json else HaltState()
    except StoreError as exc:
        print(f"redline halt: error: {exc}", file=sys.stderr)
        return 3
    _print_halts(
        [(h.scope, h.reason, h.by, h.at) for h in state.halts],
        [(p.scope, p.by, p.at) for p in state.pending],
    )
    return 0


def _print_halts(
    halts: list[tuple[str, str, str, str]], pending: list[tuple[str, str, str]]
) -> None:
    if not halts:
        print("no halts in force")
    else:
        print(format_table(("SCOPE", "REASON", "BY", "AT"), halts))
    if pending:
        print("\npending resumes (a second, distinct administrator must confirm):")
        print(format_table(("SCOPE", "APPROVED BY", "AT"), pending))


def _call(
    args: argparse.Namespace,
    method: str,
    path: str,
    payload: dict[str, str] | None,
    *,
    admin: bool = True,
) -> tuple[int, dict[str, object]] | None:
    """Call the gateway: (status, JSON body), or None (reported) if unreachable."""
    import httpx

    key = _admin_key(args)
    url = str(args.url).rstrip("/") + (_ADMIN_PATH if admin else "") + path
    try:
        response = httpx.request(
            method,
            url,
            json=payload,
            headers={"authorization": f"Bearer {key}"},
            timeout=args.timeout,
        )
    except httpx.HTTPError as exc:
        hint = " (use --data-dir DIR to halt through the store)" if args.command == "halt" else ""
        print(
            f"redline: error: cannot reach the gateway at {args.url}: {exc}{hint}", file=sys.stderr
        )
        return None
    try:
        doc = response.json()
    except ValueError:
        doc = {}
    return response.status_code, doc if isinstance(doc, dict) else {}


def _refused(command: str, status: int, doc: dict[str, object]) -> int:
    error = doc.get("error")
    message = error.get("message") if isinstance(error, dict) else None
    print(
        f"redline {command}: error: HTTP {status}: {message or 'unexpected answer'}",
        file=sys.stderr,
    )
    return 3 if status >= 500 else 1


def _halt_offline(data_dir: Path, scope: str, reason: str) -> int:
    from redline.errors import StoreError
    from redline.killswitch.service import halt_offline
    from redline.killswitch.stores import SqliteHaltStore

    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry
        user = "unknown"
    by = f"local:{user}"
    url = _fleet_url()
    try:
        if url is not None:
            from redline.fleet.schema import HALT_TABLE
            from redline.killswitch.stores import PostgresHaltStore

            fleet_store = PostgresHaltStore(url, table=HALT_TABLE)

            async def fleet_halt() -> HaltResult:
                try:
                    return await halt_offline(fleet_store, scope, reason=reason, by=by)
                finally:
                    await fleet_store.aclose()

            result = asyncio.run(fleet_halt())
            where = "the fleet database"
        else:
            store = SqliteHaltStore.in_data_dir(data_dir)
            try:
                result = asyncio.run(halt_offline(store, scope, reason=reason, by=by))
            finally:
                store.close()
            where = str(data_dir / "halts.db")
    except StoreError as exc:
        print(f"redline halt: error: {exc}", file=sys.stderr)
        return 3
    halt = result.halt
    print(
        f"halted {halt.scope}: {halt.reason} (by {halt.by}, {halt.at}; written to "
        f"{where} version {result.version}; running gateways apply it "
        "within 0.5 s and record it in the audit log)"
    )
    return 0
