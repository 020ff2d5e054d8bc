"""The authority register in force: verified, reloaded when its file changes, audited.

Why the gateway audits the register (and the CLI does not): the audit log has one writer,
the gateway's sequencer, and the policy's changes are audited the same way, when the gateway
loads them. The register is re-read when its file or its signature file changes (checked by
``stat`` on each use, so ``redline authority revoke`` takes effect on the next request
without a restart); each version the gateway loads is an ``authority_register`` event with
the SHA-256 of the file and the references added, removed and revoked since the previous
version. A version that does not verify or parse is recorded as ``rejected`` and nothing is
served from the register until a good version is written: requests that cite an authority
are refused (503 ``redline_authority_register_unavailable``), never checked against a stale
register that a revocation was meant to change.

Invariant: :meth:`RegisterInForce.current` returns only a register whose signature verified
under the configured public key.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from redline.authority.register import (
    MAX_REGISTER_BYTES,
    Authority,
    Register,
    format_time,
    parse_register,
)
from redline.domain import AuditSink, JSONValue
from redline.errors import AuditError, AuthorityRegisterError, ConfigError, SignatureError
from redline.policy.signing import SIGNATURE_SUFFIX, verify

__all__ = ["RegisterInForce", "load_signed_register"]

logger = logging.getLogger(__name__)


def load_signed_register(path: Path, public_key_pem: bytes) -> Register:
    """Read, verify and parse a register file and its detached ``.sig``.

    Raises:
        AuthorityRegisterError: unreadable, too large, unsigned, badly signed or malformed.
    """
    sig_path = path.with_name(path.name + SIGNATURE_SUFFIX)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_REGISTER_BYTES + 1)
        signature = sig_path.read_bytes()
    except OSError as exc:
        raise AuthorityRegisterError(f"cannot read the authority register: {exc}") from None
    if len(data) > MAX_REGISTER_BYTES:
        raise AuthorityRegisterError(f"{path}: larger than {MAX_REGISTER_BYTES} bytes")
    try:
        verify(data, signature, public_key_pem)
    except (SignatureError, ConfigError) as exc:
        raise AuthorityRegisterError(f"{path}: {exc}") from None
    return parse_register(data, source=str(path))


@dataclass(frozen=True, slots=True)
class _Stamp:
    register: tuple[int, int]
    signature: tuple[int, int]


class RegisterInForce:
    """The verified register, re-read when its files change; every version is audited."""

    def __init__(self, path: Path, public_key_pem: bytes, audit: AuditSink) -> None:
        self._path = path
        self._key = public_key_pem
        self._audit = audit
        self._lock = asyncio.Lock()
        self._stamp: _Stamp | None = None
        self._register: Register | None = None
        self._error = "the authority register has not been loaded"

    async def open(self) -> None:
        """Load the register at start-up.

        Raises:
            AuthorityRegisterError: it does not verify or parse (the gateway must not start).
            AuditStoreError: its loading cannot be recorded.
        """
        await self.current()

    async def current(self) -> Register:
        """The register in force, re-read first if its files changed.

        Raises:
            AuthorityRegisterError: the present version does not verify or parse.
        """
        stamp = self._stat()
        if stamp != self._stamp:
            async with self._lock:
                if stamp != self._stamp:
                    await self._reload(stamp)
        if self._register is None:
            raise AuthorityRegisterError(self._error)
        return self._register

    def _stat(self) -> _Stamp:
        sig = self._path.with_name(self._path.name + SIGNATURE_SUFFIX)
        return _Stamp(register=_stamp_of(self._path), signature=_stamp_of(sig))

    async def _reload(self, stamp: _Stamp) -> None:
        old = self._register
        try:
            new = await asyncio.to_thread(load_signed_register, self._path, self._key)
        except AuthorityRegisterError as exc:
            self._register, self._stamp, self._error = None, stamp, str(exc)
            logger.error("authority register rejected: %s", exc)
            await self._record({"outcome": "rejected", "error": str(exc)[:2000]}, strict=False)
            return
        await self._record(_change(old, new), strict=True)
        self._register, self._stamp = new, stamp

    async def _record(self, payload: dict[str, JSONValue], *, strict: bool) -> None:
        try:
            await self._audit.record("authority_register", payload)
        except AuditError:
            if strict:  # an unrecorded version is not put in force (fail closed)
                raise
            logger.error("rejected authority register was not audited")


def _stamp_of(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)
    return (st.st_mtime_ns, st.st_size)


def _change(old: Register | None, new: Register) -> dict[str, JSONValue]:
    before = {str(a.ref): a for a in (old.authorities if old else ())}
    after = {str(a.ref): a for a in new.authorities}
    revoked = [
        ref
        for ref, a in after.items()
        if a.revoked is not None and (ref not in before or before[ref].revoked != a.revoked)
    ]
    return {
        "outcome": "loaded",
        "sha256": new.sha256,
        "previous_sha256": old.sha256 if old else "",
        "entries": len(new.authorities),
        "added": list[JSONValue](sorted(set(after) - set(before))),
        "removed": list[JSONValue](sorted(set(before) - set(after))),
        "revoked": list[JSONValue](sorted(revoked)),
        "revoked_at": {ref: _when(after[ref]) for ref in sorted(revoked)},
    }


def _when(authority: Authority) -> str:
    return format_time(authority.revoked) if authority.revoked is not None else ""
