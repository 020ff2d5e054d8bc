"""C2SP tlog-checkpoint signed tree heads and c2sp.org/tlog-proof@v1 receipts.

Spec: AUDIT_LOG.md §1.4. A checkpoint's note text is the origin, the decimal tree size (no
leading zeros), the base64 RFC 6962 root, then optional non-empty extension lines. A
receipt is ``c2sp.org/tlog-proof@v1\\n[extra <b64>\\n]index <i>\\n<b64 hash>...\\n\\n`` followed
by the signed checkpoint note.

Invariants: parsing is strict (exact line shapes, 32-byte roots, canonical decimals) and
round-trips; a receipt verifies only if its checkpoint is signed by a known key and its
inclusion proof reaches that checkpoint's root exactly (:mod:`merkle`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from redline.errors import ProofError, SignatureError

from .merkle import HASH_SIZE, verify_inclusion
from .note import NoteSigner, NoteVerifier, open_note, sign_note

__all__ = [
    "RECEIPT_HEADER",
    "Checkpoint",
    "Receipt",
    "open_checkpoint",
    "sign_checkpoint",
    "verify_receipt",
]

RECEIPT_HEADER = "c2sp.org/tlog-proof@v1"
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
_MAX_PROOF = 64


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str, error: type[SignatureError | ProofError]) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise error("invalid base64") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """A tree head: origin, size and root (plus rarely used extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The note text."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse note text strictly.

        Raises:
            SignatureError: any deviation from the tlog-checkpoint grammar.
        """
        if not text.endswith("\n"):
            raise SignatureError("checkpoint does not end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or not lines[0] or any(not line for line in lines[3:]):
            raise SignatureError("checkpoint has the wrong number of lines")
        if not _DECIMAL.fullmatch(lines[1]):
            raise SignatureError("checkpoint size is not a canonical decimal")
        root = _unb64(lines[2], SignatureError)
        if len(root) != HASH_SIZE:
            raise SignatureError("checkpoint root is not 32 bytes")
        return cls(origin=lines[0], size=int(lines[1]), root=root, extensions=tuple(lines[3:]))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> bytes:
    """Return the signed note of ``checkpoint``."""
    return sign_note(checkpoint.body(), [signer])


def open_checkpoint(
    note: bytes, verifiers: Sequence[NoteVerifier], *, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint and parse it.

    Args:
        note: the signed note bytes.
        verifiers: the pinned log keys.
        origin: the expected origin; defaults to the verifying key's name.

    Raises:
        SignatureError: bad note, no valid log signature, or an unexpected origin.
    """
    opened = open_note(note, verifiers)
    checkpoint = Checkpoint.parse(opened.text)
    wanted = {origin} if origin is not None else set(opened.signers)
    if checkpoint.origin not in wanted:
        raise SignatureError(f"unexpected checkpoint origin {checkpoint.origin!r}")
    return checkpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """A c2sp.org/tlog-proof@v1 file: proof that one entry is in a signed checkpoint."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint: bytes
    extra: bytes | None = None

    def encode(self) -> bytes:
        """The receipt file bytes."""
        head = [RECEIPT_HEADER]
        if self.extra is not None:
            head.append(f"extra {_b64(self.extra)}")
        head.append(f"index {self.index}")
        head.extend(_b64(h) for h in self.proof)
        return ("\n".join(head) + "\n\n").encode() + self.checkpoint

    @classmethod
    def parse(cls, data: bytes) -> Receipt:
        """Parse a receipt strictly (the checkpoint is verified by :func:`verify_receipt`).

        Raises:
            ProofError: malformed header, index or proof lines.
        """
        cut = data.find(b"\n\n")
        if cut < 0:
            raise ProofError("receipt has no checkpoint")
        try:
            lines = data[:cut].decode("ascii").split("\n")
        except UnicodeDecodeError as exc:
            raise ProofError("receipt header is not ASCII") from exc
        if lines[0] != RECEIPT_HEADER:
            raise ProofError("not a c2sp.org/tlog-proof@v1 file")
        pos, extra = 1, None
        if len(lines) > 1 and lines[1].startswith("extra "):
            extra, pos = _unb64(lines[1][6:], ProofError), 2
        if len(lines) <= pos or not lines[pos].startswith("index "):
            raise ProofError("receipt has no index line")
        if not _DECIMAL.fullmatch(lines[pos][6:]):
            raise ProofError("receipt index is not a canonical decimal")
        proof = tuple(_unb64(line, ProofError) for line in lines[pos + 1 :])
        if len(proof) > _MAX_PROOF or any(len(h) != HASH_SIZE for h in proof):
            raise ProofError("receipt proof hashes are malformed")
        return cls(index=int(lines[pos][6:]), proof=proof, checkpoint=data[cut + 2 :], extra=extra)


def verify_receipt(
    receipt: Receipt,
    leaf: bytes,
    verifiers: Sequence[NoteVerifier],
    *,
    origin: str | None = None,
) -> Checkpoint:
    """Verify a receipt for the entry whose leaf hash is ``leaf``; return its checkpoint.

    Raises:
        SignatureError: the checkpoint does not verify.
        ProofError: the inclusion proof is malformed or does not reach the root.
    """
    checkpoint = open_checkpoint(receipt.checkpoint, verifiers, origin=origin)
    verify_inclusion(receipt.index, checkpoint.size, leaf, receipt.proof, checkpoint.root)
    return checkpoint
