"""``redline screen FILE.jsonl``: decisions for conversations, one JSON object per line.

Input lines: ``{"id", "messages": [...], ...}`` (other fields ignored). Output lines, in
input order: ``{"id", "decision", "categories", "scores", "clauses"}`` (ARCHITECTURE.md
"Fixed contracts"). A line that is not a JSON object with a ``messages`` array is an error
naming the line (exit 2); nothing is silently skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from redline.cli.common import UsageError
from redline.policy import Policy, load_builtin_floor, load_policy
from redline.policy.load import builtin_floor_bytes

__all__ = ["load_cli_policy", "register"]


def register(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("file", type=Path, help="JSON Lines file ('-' for standard input)")
    parser.add_argument("--overlay", type=Path, default=None, help="operator policy overlay")
    parser.set_defaults(handler=run)


def load_cli_policy(overlay: Path | None) -> Policy:
    """The built-in floor, joined with an overlay file if given."""
    if overlay is None:
        return load_builtin_floor()
    try:
        data = overlay.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read overlay {overlay}: {exc.strerror}") from exc
    return load_policy(builtin_floor_bytes(), data, overlay_source=str(overlay))


def run(args: argparse.Namespace) -> int:
    from redline.screening import Screen
    from redline.screening.conversation import messages_from_json, tools_from_json

    screen = Screen(load_cli_policy(args.overlay))
    stream = sys.stdin if str(args.file) == "-" else _open(args.file)
    out = sys.stdout
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise UsageError(f"{args.file}:{number}: not valid JSON: {exc}") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("messages"), list):
            raise UsageError(f"{args.file}:{number}: expected an object with a 'messages' array")
        decision = screen.decide(
            messages_from_json(obj["messages"]), tools_from_json(obj.get("tools"))
        )
        record = {
            "id": obj.get("id"),
            "decision": decision.action.value,
            "categories": list(decision.categories),
            "scores": {k: round(v, 6) for k, v in decision.scores.items()},
            "clauses": list(decision.clauses),
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    return 0


def _open(path: Path) -> TextIO:
    try:
        return path.open(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
