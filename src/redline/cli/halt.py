"""``redline halt`` and ``redline resume``: the kill switch from the command line.

Both talk to a running gateway's admin API (``--url``, default ``http://127.0.0.1:8080``)
with an admin key (``--admin-key`` or ``$REDLINE_ADMIN_KEY``, read through Settings).

``redline halt --data-dir DIR`` instead writes the halt state in ``DIR/halts.db`` directly,
so traffic can be stopped even when the API is unreachable: the gateways' poll picks the
state up within 0.5 s and records the halt in the audit log. ``resume`` has no such mode:
a resume must be recorded in the audit log (and approved by two administrators through the
API) before it takes effect.

Exit codes: 0 done (for resume: also when the approval is pending), 1 the gateway refused
(not halted, same administrator twice, not an admin key), 2 usage error, 3 the gateway or
the store is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path

from redline.cli.common import UsageError
from redline.settings import Settings

__all__ = ["register"]

DEFAULT_URL = "http://127.0.0.1:8080"
_ADMIN_PATH = "/redline/v1/admin"


def register(parser: argparse.ArgumentParser, name: str) -> None:
    """Add the arguments of ``redline halt`` or ``redline resume`` (``name``)."""
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("--all", action="store_true", help="all traffic")
    scope.add_argument("--tenant", metavar="T", help="one tenant's traffic")
    scope.add_argument("--model", metavar="M", help="one model's traffic")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"gateway URL (default {DEFAULT_URL})")
    parser.add_argument(
        "--admin-key", default=None, help="admin API key (default: $REDLINE_ADMIN_KEY)"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
    if name == "halt":
        parser.add_argument("--reason", default="", help="shown to every halted caller")
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="write DIR/halts.db directly instead of calling the API (emergency stop)",
        )
        parser.set_defaults(handler=_halt)
    else:
        parser.set_defaults(handler=_resume)


def _scope(args: argparse.Namespace) -> str:
    if args.all:
        return "all"
    if args.tenant is not None:
        return f"tenant:{args.tenant}"
    return f"model:{args.model}"


def _admin_key(args: argparse.Namespace) -> str:
    if args.admin_key:
        return str(args.admin_key)
    settings = Settings.load(os.environ)  # noqa: TID251 - the CLI is a composition root
    if not settings.admin_key:
        raise UsageError("an admin key is required: pass --admin-key or set REDLINE_ADMIN_KEY")
    return settings.admin_key


def _halt(args: argparse.Namespace) -> int:
    scope = _scope(args)
    if args.data_dir is not None:
        return _halt_offline(args.data_dir, scope, args.reason)
    answer = _call(args, "/halt", {"scope": scope, "reason": args.reason})
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
    answer = _call(args, "/resume", {"scope": scope})
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


def _call(
    args: argparse.Namespace, path: str, payload: dict[str, str]
) -> tuple[int, dict[str, object]] | None:
    """POST to the admin API: (status, JSON body), or None (reported) if unreachable."""
    import httpx

    key = _admin_key(args)
    url = str(args.url).rstrip("/") + _ADMIN_PATH + path
    try:
        response = httpx.post(
            url, json=payload, headers={"authorization": f"Bearer {key}"}, timeout=args.timeout
        )
    except httpx.HTTPError as exc:
        hint = " (use --data-dir DIR to halt through the store)" if path == "/halt" else ""
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
    from redline.service.halts import halt_offline
    from redline.store.halts import SqliteHaltStore

    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry
        user = "unknown"
    by = f"local:{user}"
    try:
        store = SqliteHaltStore.in_data_dir(data_dir)
        try:
            result = asyncio.run(halt_offline(store, scope, reason=reason, by=by))
        finally:
            store.close()
    except StoreError as exc:
        print(f"redline halt: error: {exc}", file=sys.stderr)
        return 3
    halt = result.halt
    print(
        f"halted {halt.scope}: {halt.reason} (by {halt.by}, {halt.at}; written to "
        f"{data_dir / 'halts.db'} version {result.version}; running gateways apply it "
        "within 0.5 s and record it in the audit log)"
    )
    return 0
