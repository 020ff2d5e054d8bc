"""C2SP signed notes with Ed25519 keys (c2sp.org/signed-note, AUDIT_LOG.md §1.4, §4.4.1).

A note is UTF-8 text ending in ``\\n``, a blank line, then signature lines
``— <name> <base64(key ID[4] || signature)>``. The key ID is
``SHA-256(name || 0x0A || type || public key)[:4]``. Keys are written as Go's
``golang.org/x/mod/sumdb/note`` does: verifier ``<name>+<hex id>+<base64(0x01 || pub)>`` and
signer ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>``.

Parsing is strict (invariants of :func:`open_note`): no control characters but ``\\n``; the
text/signature split is the **last** blank line; every signature line is well-formed with
at least 5 decoded bytes; at most :data:`MAX_SIGNATURES` lines; signatures by unknown keys
are ignored; a known key that fails, or appears twice, rejects the note; at least one
known key must verify. Every failure raises :class:`SignatureError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from redline.errors import SignatureError

__all__ = [
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "NoteSigner",
    "NoteVerifier",
    "SignedNote",
    "generate_signer",
    "key_id",
    "open_note",
    "sign_note",
]

ED25519 = 0x01
MAX_SIGNATURES = 100
MAX_NOTE_BYTES = 1 << 20
_DASH = "\u2014 "
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def key_id(name: str, key_type: int, public: bytes) -> bytes:
    """``SHA-256(name || "\\n" || type || public key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name) or _CONTROL.search(name):
        raise SignatureError(f"invalid key name {name!r}")


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise SignatureError("invalid base64") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteVerifier:
    """A public Ed25519 note key."""

    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID."""
        return key_id(self.name, ED25519, self.public)

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        """Parse ``<name>+<hex id>+<base64(type || key)>`` (base64 may contain ``+``).

        Raises:
            SignatureError: malformed key, unsupported type or a key ID that does not match.
        """
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise SignatureError("verifier key must be <name>+<id>+<key>")
        name, hex_id, b64 = parts
        _check_name(name)
        raw = _b64decode(b64)
        if len(raw) != 33 or raw[0] != ED25519:
            raise SignatureError("verifier key is not an Ed25519 note key")
        verifier = cls(name=name, public=raw[1:])
        if not re.fullmatch(r"[0-9a-f]{8}", hex_id) or bytes.fromhex(hex_id) != verifier.key_id:
            raise SignatureError("verifier key ID does not match the key")
        return verifier

    def encode(self) -> str:
        """The vkey string."""
        b64 = base64.b64encode(bytes([ED25519]) + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{b64}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteSigner:
    """A private Ed25519 note key (``seed`` is the 32-byte private key)."""

    name: str
    seed: bytes = field(repr=False)

    @property
    def verifier(self) -> NoteVerifier:
        """The matching public key."""
        pub = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()
        return NoteVerifier(name=self.name, public=pub)

    @classmethod
    def parse(cls, skey: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>``.

        Raises:
            SignatureError: malformed key or a key ID that does not match.
        """
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise SignatureError("signer key must be PRIVATE+KEY+<name>+<id>+<key>")
        _check_name(parts[2])
        raw = _b64decode(parts[4])
        if len(raw) != 33 or raw[0] != ED25519:
            raise SignatureError("signer key is not an Ed25519 note key")
        signer = cls(name=parts[2], seed=raw[1:])
        if parts[3] != signer.verifier.key_id.hex():
            raise SignatureError("signer key ID does not match the key")
        return signer

    def encode(self) -> str:
        """The skey string (a secret)."""
        b64 = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{b64}"

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature of ``message``."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def generate_signer(name: str) -> NoteSigner:
    """A fresh random signer key named ``name``."""
    _check_name(name)
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return NoteSigner(name=name, seed=seed)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedNote:
    """A verified note: its text and the names of the known keys that signed it."""

    text: str
    signers: tuple[str, ...]


def sign_note(text: str, signers: Sequence[NoteSigner]) -> bytes:
    """Sign ``text`` (which must end in ``\\n``) and return the note bytes."""
    if not text.endswith("\n") or _CONTROL.search(text):
        raise SignatureError("note text must end in a newline and hold no control characters")
    message = text.encode()
    lines = [
        f"{_DASH}{s.name} {base64.b64encode(s.verifier.key_id + s.sign(message)).decode()}\n"
        for s in signers
    ]
    return (text + "\n" + "".join(lines)).encode()


def _split(note: bytes) -> tuple[str, list[str]]:
    if len(note) > MAX_NOTE_BYTES:
        raise SignatureError("note is too large")
    try:
        decoded = note.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SignatureError("note is not UTF-8") from exc
    if _CONTROL.search(decoded) or not decoded.endswith("\n"):
        raise SignatureError("note holds control characters or does not end in a newline")
    cut = decoded.rfind("\n\n")
    if cut < 0:
        raise SignatureError("note has no signature block")
    text, sigs = decoded[: cut + 1], decoded[cut + 2 :]
    lines = sigs[:-1].split("\n") if sigs else []
    if not lines or len(lines) > MAX_SIGNATURES:
        raise SignatureError("note has no signatures or too many")
    return text, lines


def open_note(note: bytes, verifiers: Sequence[NoteVerifier]) -> SignedNote:
    """Parse and verify a signed note against known keys (rules in the module docstring).

    Raises:
        SignatureError: malformed note, a bad or duplicated known signature, or no known
            signature at all.
    """
    text, lines = _split(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    seen: set[tuple[str, bytes]] = set()
    for line in lines:
        if not line.startswith(_DASH):
            raise SignatureError("malformed signature line")
        fields = line[len(_DASH) :].split(" ")
        if len(fields) != 2:
            raise SignatureError("malformed signature line")
        name, b64 = fields
        _check_name(name)
        raw = _b64decode(b64)
        if len(raw) < 5:
            raise SignatureError("signature is too short")
        verifier = known.get((name, raw[:4]))
        if verifier is None:
            continue  # unknown keys are ignored (cosignatures, other logs' keys)
        if (name, raw[:4]) in seen:
            raise SignatureError(f"duplicate signature by {name}")
        seen.add((name, raw[:4]))
        if not verifier.verify(text.encode(), raw[4:]):
            raise SignatureError(f"signature by {name} does not verify")
    if not seen:
        raise SignatureError("note has no signature by a known key")
    return SignedNote(text=text, signers=tuple(sorted(name for name, _ in seen)))
