"""``redline marking join|parse|extract``: classification markings from the command line.

``join`` prints the rolled-up banner of its arguments (DOMAIN.md §2.4); ``parse`` prints
one marking's label as JSON; ``extract`` reads free text from a file (or ``-`` for stdin)
and prints the banner of every mark found in it. A bad marking exits with status 2 and a
message naming the token and the rule (``MarkingError`` is mapped by ``cli.main``).
A roll-up with a marking defect (e.g. a classified portion without a foreign-disclosure
marking, R8) still prints, with a warning on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

from redline.markings import Label, extract_label, join, parse_marking

__all__ = ["register"]


def register(parser: argparse.ArgumentParser, name: str) -> None:
    sub = parser.add_subparsers(dest="marking_command", required=True, metavar="ACTION")
    join_cmd = sub.add_parser("join", help="print the rolled-up banner of the markings given")
    join_cmd.add_argument("markings", nargs="+", metavar="MARKING")
    join_cmd.add_argument("--portion", action="store_true", help="print a portion mark instead")
    join_cmd.set_defaults(handler=_join)
    parse_cmd = sub.add_parser("parse", help="print one marking's label as JSON")
    parse_cmd.add_argument("marking", metavar="TEXT")
    parse_cmd.set_defaults(handler=_parse)
    extract_cmd = sub.add_parser("extract", help="roll up every mark found in a text file")
    extract_cmd.add_argument("file", type=argparse.FileType("r", encoding="utf-8"))
    extract_cmd.set_defaults(handler=_extract)


def _print(label: Label, *, portion: bool = False) -> int:
    for defect in sorted(label.defects):
        print(
            f"redline marking: warning: marking defect {defect} (read as NOFORN)", file=sys.stderr
        )
    print(label.portion() if portion else label.banner())
    return 0


def _join(args: argparse.Namespace) -> int:
    return _print(join(*(parse_marking(m) for m in args.markings)), portion=args.portion)


def _parse(args: argparse.Namespace) -> int:
    print(json.dumps(parse_marking(args.marking).to_json(), indent=2, sort_keys=True))
    return 0


def _extract(args: argparse.Namespace) -> int:
    with args.file as handle:
        return _print(extract_label([handle.read()]))
