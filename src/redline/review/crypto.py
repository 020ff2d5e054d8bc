"""Encryption at rest of held request bodies and their answers (AES-256-GCM).

A held request is stored "at its classification, encrypted at rest". Each blob is
``version byte (0x01) || 12-byte random nonce || ciphertext+tag``, sealed with AES-256-GCM
under one data key, with associated data ``b"redline-review-v1\\x00" + purpose + b"\\x00" +
review id``: a blob copied onto another review row, or a request body swapped with an
answer, fails authentication instead of decrypting.

The key is 32 random bytes, supplied by the operator (settings) or kept in a key file in
the data directory, created on first use with mode 0600 (``O_CREAT | O_EXCL``, so two
processes starting together cannot both write one). A key file readable by group or world
is refused: the key protects classified text.

Invariants: nothing is decrypted without authenticating it; a failed authentication raises
:class:`~redline.errors.StoreError` and never returns partial plaintext.
"""

from __future__ import annotations

import os
import secrets
import stat
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from redline.errors import ConfigError, StoreError

__all__ = ["KEY_BYTES", "BodyCipher", "Purpose", "load_or_create_key"]

KEY_BYTES = 32
_VERSION = b"\x01"
_NONCE_BYTES = 12
_AD_PREFIX = b"redline-review-v1\x00"


class Purpose(StrEnum):
    """What a blob holds; part of the associated data."""

    REQUEST = "request"
    ANSWER = "answer"


class BodyCipher:
    """Seals and opens review blobs under one AES-256-GCM key."""

    def __init__(self, key: bytes) -> None:
        """
        Raises:
            ConfigError: the key is not 32 bytes.
        """
        if len(key) != KEY_BYTES:
            raise ConfigError(f"the review body key must be {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)

    @staticmethod
    def _ad(review_id: str, purpose: Purpose) -> bytes:
        return _AD_PREFIX + purpose.value.encode() + b"\x00" + review_id.encode()

    def seal(self, review_id: str, purpose: Purpose, plaintext: bytes) -> bytes:
        """Encrypt ``plaintext`` bound to ``review_id`` and ``purpose``."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, self._ad(review_id, purpose))

    def open(self, review_id: str, purpose: Purpose, blob: bytes) -> bytes:
        """Decrypt and authenticate a blob made by :meth:`seal`.

        Raises:
            StoreError: unknown format, or the blob does not authenticate for this review
                and purpose (tampered, moved, or sealed under another key).
        """
        if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _VERSION:
            raise StoreError(f"review {review_id}: stored {purpose.value} has an unknown format")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, self._ad(review_id, purpose))
        except InvalidTag as exc:
            raise StoreError(
                f"review {review_id}: stored {purpose.value} failed authentication"
            ) from exc


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``, creating it (32 random bytes, mode 0600) if it does not exist.

    Raises:
        ConfigError: the file has the wrong size, is readable by group or others, or
            cannot be read or created.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot create review key file {path}: {exc.strerror}") from exc
    else:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
    try:
        mode = path.stat().st_mode
        key = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read review key file {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"review key file {path} must not be accessible to group or others")
    if len(key) != KEY_BYTES:
        raise ConfigError(f"review key file {path} must hold {KEY_BYTES} bytes, has {len(key)}")
    return key
