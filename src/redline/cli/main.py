"""``redline``: the command-line entry point.

Each command group lives in its own module under ``redline.cli`` and exposes
``register(subparsers)``; its handler returns the process exit code. Modules are imported
only when their command runs, so ``redline audit verify`` loads nothing of the gateway.

Exit codes: 0 success, 1 the checked thing failed (verification, eval targets), 2 usage or
input error, 3 evidence of a fork (audit), 4 internal error (a bug: please report it).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from redline import __version__
from redline.cli.common import UsageError

__all__ = ["UsageError", "main"]

# command -> (module, one-line help). The module registers its own arguments.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("redline.cli.serve", "run the gateway"),
    "keys": ("redline.cli.keys", "create, list and revoke API keys"),
    "policy": ("redline.cli.policy", "show, lint, sign, verify and test policies"),
    "screen": ("redline.cli.screen", "screen conversations from a JSONL file"),
    "eval": ("redline.cli.evaluate", "measure the safety stack on a labelled JSONL file"),
    "train": ("redline.cli.train", "reproduce the safety stack's trained artifacts"),
    "marking": ("redline.cli.marking", "parse and roll up classification markings"),
    "audit": ("redline.cli.audit", "export, prove and verify the audit log"),
    "authority": (
        "redline.cli.authority",
        "add, list and revoke entries of the authority register",
    ),
    "report": (
        "redline.cli.report",
        "oversight report (HTML and PDF) from a verified audit export",
    ),
    "halt": ("redline.cli.halt", "stop traffic (kill switch), or list the halts in force"),
    "resume": ("redline.cli.halt", "resume halted traffic (two administrators)"),
    "db": ("redline.cli.db", "create or upgrade the fleet database's schema"),
    "doctor": ("redline.cli.doctor", "check a deployment and say what is wrong"),
}

Handler = Callable[[argparse.Namespace], int]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported and asked for its arguments."""
    parser = argparse.ArgumentParser(
        prog="redline",
        description="Redline: an OpenAI-compatible gateway that holds AI deployments to red lines.",
    )
    parser.add_argument("--version", action="version", version=f"redline {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, text) in COMMANDS.items():
        group = sub.add_parser(name, help=text, description=text)
        if name == command:
            importlib.import_module(module).register(group, name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except UsageError as exc:
        print(f"redline {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI boundary: no traceback for users
        from redline.errors import GatewayError

        if isinstance(exc, GatewayError):
            print(f"redline {args.command}: error: {exc}", file=sys.stderr)
            return 2
        print(
            f"redline {args.command}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr
        )
        return 4


if __name__ == "__main__":
    sys.exit(main())
