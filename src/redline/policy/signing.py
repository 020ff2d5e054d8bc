"""Ed25519 signatures over exact policy bytes (detached, base64, ``FILE.sig``).

The provider signs the floor file as it is on disk: the signature covers the exact bytes,
not a re-serialisation, so what is verified is what is parsed (no canonicalisation gap).
A signature file holds the 64-byte Ed25519 signature in standard base64, one line.

Keys are PEM files: PKCS#8 private keys (unencrypted; protect the file) and
SubjectPublicKeyInfo public keys. A key of another type (RSA, EC, ...) or a private key
given where a public one is expected is a :class:`~redline.errors.ConfigError` that says so;
a missing, malformed or non-verifying signature is a :class:`~redline.errors.SignatureError`.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from redline.errors import ConfigError, SignatureError

__all__ = [
    "SIGNATURE_SUFFIX",
    "generate_keypair",
    "load_private_key",
    "load_public_key",
    "sign",
    "verify",
]

SIGNATURE_SUFFIX = ".sig"
_SIGNATURE_LEN = 64


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as ``(private_pem, public_pem)``."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """Parse an unencrypted PKCS#8 PEM Ed25519 private key.

    Raises:
        ConfigError: not a PEM private key, encrypted, or not Ed25519.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        hint = " (is this a public key?)" if b"PUBLIC KEY" in pem else ""
        raise ConfigError(f"not an unencrypted PEM private key{hint}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"expected an Ed25519 private key, got {type(key).__name__}")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """Parse a SubjectPublicKeyInfo PEM Ed25519 public key.

    Raises:
        ConfigError: not a PEM public key (a private key is refused too), or not Ed25519.
    """
    if b"PRIVATE KEY" in pem:
        raise ConfigError("expected an Ed25519 public key, got a private key (never ship it)")
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"expected an Ed25519 public key, got {type(key).__name__}")
    return key


def sign(data: bytes, private_key_pem: bytes) -> bytes:
    """The detached signature file content (base64 + newline) for ``data``.

    Raises:
        ConfigError: the key is not an Ed25519 private key.
    """
    signature = load_private_key(private_key_pem).sign(data)
    return base64.b64encode(signature) + b"\n"


def verify(data: bytes, signature_file: bytes, public_key_pem: bytes) -> None:
    """Return if ``signature_file`` is a valid signature over exactly ``data``; else raise.

    Raises:
        SignatureError: the signature is empty, not base64, of the wrong length, or does
            not verify (signed by another key, or over other bytes).
        ConfigError: the key is not an Ed25519 public key.
    """
    key = load_public_key(public_key_pem)
    text = signature_file.strip()
    if not text:
        raise SignatureError("empty signature")
    try:
        signature = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("signature is not base64") from None
    if len(signature) != _SIGNATURE_LEN:
        raise SignatureError(f"signature is {len(signature)} bytes; Ed25519 needs 64")
    try:
        key.verify(signature, data)
    except InvalidSignature:
        raise SignatureError(
            "signature does not verify: signed by another key, or over other bytes"
        ) from None
