"""``redline policy``: show, lint, sign, verify, keygen and test policies.

Exit codes: 0 success; 1 the checked thing failed (a signature that does not verify, a
policy test that fails); 2 usage or input error (including lint findings:
``FILE: key.path: message`` per line on stdout). A clean lint prints one ``ok: ...`` line.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from redline.cli.main import UsageError
from redline.errors import PolicyError, SignatureError
from redline.policy import Policy, lint, load_policy, run_policy_tests, to_document, to_toml
from redline.policy.cases import Screen
from redline.policy.load import BUILTIN_FLOOR_SOURCE, builtin_floor_bytes
from redline.policy.parse import DEFAULT_MAX_BYTES, read_policy_file
from redline.policy.signing import SIGNATURE_SUFFIX, generate_keypair, sign, verify

__all__ = ["register"]


def register(parser: argparse.ArgumentParser, name: str) -> None:
    """Add the ``policy`` sub-commands to ``parser``."""
    sub = parser.add_subparsers(dest="policy_command", required=True, metavar="SUBCOMMAND")

    show = sub.add_parser("show", help="print the effective policy and its sha256")
    _add_source_args(show)
    show.add_argument("--format", choices=("toml", "json"), default="toml")
    show.set_defaults(handler=_show)

    lint_ = sub.add_parser("lint", help="check policy files; one problem per line")
    lint_.add_argument("files", nargs="+", type=Path, metavar="FILE")
    lint_.add_argument(
        "--as-floor",
        action="store_true",
        help="check each FILE as a complete floor, not as an overlay",
    )
    lint_.add_argument(
        "--floor",
        type=Path,
        help="floor that overlays are checked against (default: the built-in floor)",
    )
    lint_.set_defaults(handler=_lint)

    sign_ = sub.add_parser("sign", help="write FILE.sig, an Ed25519 signature over FILE")
    sign_.add_argument("--key", type=Path, required=True, help="PEM private key")
    sign_.add_argument("file", type=Path, metavar="FILE")
    sign_.set_defaults(handler=_sign)

    verify_ = sub.add_parser("verify", help="verify FILE.sig over FILE (exit 0 or 1)")
    verify_.add_argument("--key", type=Path, required=True, help="PEM public key")
    verify_.add_argument("--signature", type=Path, help="default: FILE.sig")
    verify_.add_argument("file", type=Path, metavar="FILE")
    verify_.set_defaults(handler=_verify)

    keygen = sub.add_parser("keygen", help="write OUT_PREFIX.key and OUT_PREFIX.pub")
    keygen.add_argument("prefix", type=Path, metavar="OUT_PREFIX")
    keygen.set_defaults(handler=_keygen)

    test = sub.add_parser("test", help="run the policy's own [[tests]] through screening")
    _add_source_args(test)
    test.set_defaults(handler=_test)


def _add_source_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overlay", type=Path, help="operator overlay")
    parser.add_argument("--floor", type=Path, help="floor file (default: the built-in floor)")
    parser.add_argument("--signature", type=Path, help="floor signature (default: FLOOR.sig)")
    parser.add_argument("--provider-key", type=Path, help="require a floor signed by this key")


def _read(path: Path) -> bytes:
    try:
        return read_policy_file(path, max_bytes=DEFAULT_MAX_BYTES)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def _read_small(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(64 * 1024)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def _load(args: argparse.Namespace) -> Policy:
    floor_path: Path | None = args.floor
    floor_bytes = _read(floor_path) if floor_path else builtin_floor_bytes()
    floor_source = str(floor_path) if floor_path else BUILTIN_FLOOR_SOURCE
    signature = None
    key = _read_small(args.provider_key) if args.provider_key else None
    if key is not None:
        sig_path: Path = args.signature or Path(floor_source + SIGNATURE_SUFFIX)
        signature = _read_small(sig_path) if sig_path.exists() else None
    overlay: Path | None = args.overlay
    return load_policy(
        floor_bytes,
        _read(overlay) if overlay else None,
        floor_source=floor_source,
        overlay_source=str(overlay),
        floor_signature=signature,
        provider_public_key=key,
    )


def _show(args: argparse.Namespace) -> int:
    policy = _load(args)
    if args.format == "json":
        doc = to_document(policy)
        doc.update(
            sha256=policy.sha256,
            floor_sha256=policy.floor_sha256,
            overlay_sha256=policy.overlay_sha256,
        )
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        print(to_toml(policy), end="")
    return 0


def _lint(args: argparse.Namespace) -> int:
    base_path: Path | None = args.floor
    base = _read(base_path) if base_path else builtin_floor_bytes()
    base_source = str(base_path) if base_path else BUILTIN_FLOOR_SOURCE
    found = 0
    for path in args.files:
        try:
            data = read_policy_file(path)
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror or exc}")
            found += 1
            continue
        except PolicyError as exc:  # too large: report it and go on with the next file
            print(exc)
            found += 1
            continue
        if args.as_floor:
            problems = lint(data, floor_source=str(path))
        else:
            problems = lint(base, data, floor_source=base_source, overlay_source=str(path))
        for problem in problems:
            print(problem)
        found += len(problems)
    if found:
        return 2
    files = str(args.files[0]) if len(args.files) == 1 else f"{len(args.files)} files"
    how = "as a floor" if args.as_floor else f"as an overlay of {base_source}"
    if len(args.files) > 1:
        how = "as floors" if args.as_floor else f"as overlays of {base_source}"
    print(f"ok: {files}: no problems (checked {how})")
    return 0


def _sign(args: argparse.Namespace) -> int:
    data = _read(args.file)
    out = Path(str(args.file) + SIGNATURE_SUFFIX)
    out.write_bytes(sign(data, _read_small(args.key)))
    print(f"wrote {out}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    data = _read(args.file)
    sig_path: Path = args.signature or Path(str(args.file) + SIGNATURE_SUFFIX)
    if not sig_path.exists():
        print(f"{args.file}: FAILED: no signature file {sig_path}")
        return 1
    try:
        verify(data, _read_small(sig_path), _read_small(args.key))
    except SignatureError as exc:
        print(f"{args.file}: FAILED: {exc}")
        return 1
    print(f"{args.file}: OK")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    private_path = Path(f"{args.prefix}.key")
    public_path = Path(f"{args.prefix}.pub")
    for path in (private_path, public_path):
        if path.exists():
            raise UsageError(f"{path} exists; refusing to overwrite a key")
    private_pem, public_pem = generate_keypair()
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(public_pem)
    print(f"wrote {private_path} (keep it secret) and {public_path}")
    return 0


def _test(args: argparse.Namespace) -> int:
    policy = _load(args)
    try:
        screening = importlib.import_module("redline.screening")
        factory: Callable[[Policy], Screen] = screening.screen_messages_factory
    except (ImportError, AttributeError) as exc:
        print(
            "redline policy test: error: the safety stack is not available "
            f"(redline.screening.screen_messages_factory: {exc})",
            file=sys.stderr,
        )
        return 2
    results = asyncio.run(run_policy_tests(policy, factory(policy)))
    failed = 0
    for result in results:
        status = "PASS" if result.passed else "FAIL"
        line = f"{status} {result.test.name}"
        print(f"{line}: {result.message}" if result.message else line)
        failed += not result.passed
    print(f"{len(results) - failed} passed, {failed} failed (policy {policy.sha256})")
    return 1 if failed else 0
