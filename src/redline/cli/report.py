"""``redline report EXPORT_DIR --key VKEY --out DIR [--from T] [--to T]``.

Verifies the exported audit log first (every check of ``redline audit verify``) and refuses
an export that does not verify (exit 1, with the findings). It reads nothing but the export
directory, and writes ``DIR/report.html`` and ``DIR/report.pdf``. ``--from`` (inclusive)
and ``--to`` (exclusive) take an RFC 3339 time or a date (``2026-03-01`` = its start, UTC).
The same export and period always give byte-identical files.

Exit codes: 0 written, 1 the export does not verify, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from redline.cli.common import UsageError

__all__ = ["register"]


def register(parser: argparse.ArgumentParser, name: str) -> None:
    """Add the ``report`` arguments to ``parser``."""
    parser.add_argument("export", type=Path, metavar="EXPORT_DIR", help="a tlog-tiles export")
    parser.add_argument(
        "--key", required=True, action="append", help="log verifier key (vkey text or file)"
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--from", dest="start", help="first time included (RFC 3339 or date)")
    parser.add_argument("--to", dest="end", help="first time excluded (RFC 3339 or date)")
    parser.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from redline.audit import NoteVerifier
    from redline.errors import SignatureError, VerificationError
    from redline.report import (
        build_report,
        compute_figures,
        read_verified_export,
        render_html,
        render_pdf,
    )

    if not args.export.is_dir():
        raise UsageError(f"{args.export} is not a directory")
    try:
        verifiers = [NoteVerifier.parse(_key_text(k)) for k in args.key]
    except SignatureError as exc:
        raise UsageError(f"bad verifier key: {exc}") from None
    start, end = _time(args.start, "--from"), _time(args.end, "--to")
    if start and end and not start < end:
        raise UsageError("--from must be before --to")
    try:
        export = read_verified_export(args.export, verifiers)
    except VerificationError as exc:
        print(f"redline report: refused: {exc}", file=sys.stderr)
        return 1
    figures = compute_figures(export.records, start=start, end=end)
    period = f"{args.start or 'start of log'} to {args.end or 'checkpoint'}"
    report = build_report(
        figures, origin=export.origin, size=export.size, root_hex=export.root_hex, period=period
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.html").write_bytes(render_html(report))
    (args.out / "report.pdf").write_bytes(render_pdf(report))
    print(
        f"wrote {args.out / 'report.html'} and {args.out / 'report.pdf'} "
        f"(checkpoint size {export.size}, root {export.root_hex})"
    )
    return 0


def _key_text(value: str) -> str:
    path = Path(value)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    if "+" in value:
        return value.strip()
    raise UsageError(f"key file {value} does not exist")


def _time(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag}: not an RFC 3339 time or a date: {text!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
