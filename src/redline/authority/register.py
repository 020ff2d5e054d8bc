"""The authority register: the legal authorities requests may cite, as a signed TOML file.

An operator maintains the register (``redline authority add|list|revoke``) and signs it with
an Ed25519 key exactly like a policy file (:mod:`redline.policy.signing`: a detached
``FILE.sig`` over the exact bytes). The gateway reads only a register whose signature
verifies under the configured public key.

File layout::

    schema_version = 1

    [[authorities]]
    type = "fisa-order"                   # the TYPE of a TYPE:ID reference
    id = "2026-FISC-0042"                 # the ID
    issuer = "Foreign Intelligence Surveillance Court"
    selectors = ["phone (937) 555-0123", "jane.roe@example.com"]
    not_before = "2026-01-01T00:00:00Z"   # the time window in which it may be cited
    expires = "2027-01-01T00:00:00Z"
    revoked = "2026-06-01T12:00:00Z"      # optional: when it was revoked

Invariants:

* ``(type, id)`` is unique; ``not_before < expires``; times are RFC 3339 with a zone;
* unknown keys are errors (a typo must not widen an authority);
* :func:`to_toml` of a parsed register parses back to the same register, and its output is
  a pure function of the register (entries sorted by type and id), so re-signing an
  unchanged register gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime

from redline.domain import AuthorityRef
from redline.errors import AuthorityRegisterError

__all__ = ["MAX_REGISTER_BYTES", "Authority", "Register", "format_time", "parse_register"]

MAX_REGISTER_BYTES = 4 << 20
SCHEMA_VERSION = 1
_TYPE = re.compile(r"[a-z][a-z0-9-]{0,31}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")
_KEYS = frozenset({"type", "id", "issuer", "selectors", "not_before", "expires", "revoked"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Authority:
    """One entry of the register.

    ``selectors`` are the persons and identifiers the authority covers (its scope);
    ``not_before`` and ``expires`` bound when it may be cited; ``revoked`` ends it early.
    """

    type: str
    id: str
    issuer: str
    selectors: tuple[str, ...]
    not_before: datetime
    expires: datetime
    revoked: datetime | None = None

    @property
    def ref(self) -> AuthorityRef:
        """The ``TYPE:ID`` reference requests cite."""
        return AuthorityRef(type=self.type, id=self.id)

    def status_at(self, now: datetime) -> str:
        """``"in force"``, ``"revoked"``, ``"not yet in force"`` or ``"expired"`` at ``now``."""
        if self.revoked is not None and now >= self.revoked:
            return "revoked"
        if now < self.not_before:
            return "not yet in force"
        if now >= self.expires:
            return "expired"
        return "in force"


@dataclass(frozen=True, slots=True, kw_only=True)
class Register:
    """The parsed register; ``sha256`` is the digest of the exact file bytes."""

    authorities: tuple[Authority, ...] = ()
    sha256: str = ""

    def get(self, ref: AuthorityRef) -> Authority | None:
        """The entry cited by ``ref``, if any."""
        return next((a for a in self.authorities if a.ref == ref), None)

    def to_toml(self) -> bytes:
        """The register as a file (entries sorted by type and id)."""
        lines = ["schema_version = 1"]
        for a in sorted(self.authorities, key=lambda a: (a.type, a.id)):
            lines += [
                "",
                "[[authorities]]",
                f"type = {_q(a.type)}",
                f"id = {_q(a.id)}",
                f"issuer = {_q(a.issuer)}",
                "selectors = [" + ", ".join(_q(s) for s in a.selectors) + "]",
                f"not_before = {_q(format_time(a.not_before))}",
                f"expires = {_q(format_time(a.expires))}",
            ]
            if a.revoked is not None:
                lines.append(f"revoked = {_q(format_time(a.revoked))}")
        return ("\n".join(lines) + "\n").encode()


def format_time(value: datetime) -> str:
    """RFC 3339 UTC with seconds (``2026-01-01T00:00:00Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_register(data: bytes, *, source: str) -> Register:
    """Parse register bytes (the signature is checked by the caller, before this).

    Raises:
        AuthorityRegisterError: too large, not TOML, wrong schema, an unknown key, a missing
            or malformed value, or a duplicate ``(type, id)``; the message names the file
            and the key path.
    """
    if len(data) > MAX_REGISTER_BYTES:
        raise AuthorityRegisterError(f"{source}: larger than {MAX_REGISTER_BYTES} bytes")
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AuthorityRegisterError(f"{source}: not a UTF-8 TOML file: {exc}") from None
    extra = set(doc) - {"schema_version", "authorities"}
    if extra:
        raise AuthorityRegisterError(f"{source}: unknown key(s) {', '.join(sorted(extra))}")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise AuthorityRegisterError(f"{source}: schema_version must be {SCHEMA_VERSION}")
    entries = doc.get("authorities", [])
    if not isinstance(entries, list):
        raise AuthorityRegisterError(f"{source}: authorities must be an array of tables")
    out: list[Authority] = []
    seen: set[AuthorityRef] = set()
    for i, entry in enumerate(entries):
        authority = _entry(entry, f"{source}: authorities[{i}]")
        if authority.ref in seen:
            raise AuthorityRegisterError(f"{source}: authorities[{i}]: duplicate {authority.ref}")
        seen.add(authority.ref)
        out.append(authority)
    return Register(authorities=tuple(out), sha256=hashlib.sha256(data).hexdigest())


def _entry(entry: object, where: str) -> Authority:
    if not isinstance(entry, dict):
        raise AuthorityRegisterError(f"{where}: must be a table")
    extra = set(entry) - _KEYS
    if extra:
        raise AuthorityRegisterError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
    kind = _text(entry, "type", where)
    ident = _text(entry, "id", where)
    if not _TYPE.fullmatch(kind):
        raise AuthorityRegisterError(f"{where}.type: malformed ({_TYPE.pattern})")
    if not _ID.fullmatch(ident):
        raise AuthorityRegisterError(f"{where}.id: malformed ({_ID.pattern})")
    selectors = entry.get("selectors")
    if (
        not isinstance(selectors, list)
        or not selectors
        or not all(isinstance(s, str) and s.strip() for s in selectors)
    ):
        raise AuthorityRegisterError(
            f"{where}.selectors: a non-empty array of non-empty strings is required "
            "(an authority with no scope covers no one)"
        )
    not_before = _time(entry, "not_before", where)
    expires = _time(entry, "expires", where)
    if not not_before < expires:
        raise AuthorityRegisterError(f"{where}.expires: must be after not_before")
    revoked = _time(entry, "revoked", where) if "revoked" in entry else None
    return Authority(
        type=kind,
        id=ident,
        issuer=_text(entry, "issuer", where),
        selectors=tuple(selectors),
        not_before=not_before,
        expires=expires,
        revoked=revoked,
    )


def _text(entry: dict[str, object], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise AuthorityRegisterError(f"{where}.{key}: a non-empty string is required")
    return value


def _time(entry: dict[str, object], key: str, where: str) -> datetime:
    value = entry.get(key)
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise AuthorityRegisterError(f"{where}.{key}: not an RFC 3339 time") from None
    else:
        raise AuthorityRegisterError(f"{where}.{key}: an RFC 3339 time is required")
    if parsed.tzinfo is None:
        raise AuthorityRegisterError(f"{where}.{key}: the time needs a zone (e.g. Z)")
    return parsed.astimezone(UTC)


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
