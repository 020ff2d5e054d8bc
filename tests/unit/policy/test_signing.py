"""Ed25519 signing of exact floor bytes, and the floor signature check at load."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from redline.errors import ConfigError, PolicyParseError, PolicyValidationError, SignatureError
from redline.policy import generate_keypair, load_policy, sign, verify
from redline.policy.load import check_floor_signature

DATA = b"schema_version = 1\n"


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    return generate_keypair()


def _rsa_public() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _ec_private() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_sign_and_verify(keys: tuple[bytes, bytes]) -> None:
    private, public = keys
    sig = sign(DATA, private)
    assert sig.endswith(b"\n")
    assert len(base64.b64decode(sig)) == 64
    verify(DATA, sig, public)


def test_signature_over_other_bytes_fails(keys: tuple[bytes, bytes]) -> None:
    private, public = keys
    with pytest.raises(SignatureError, match=r"another key, or over other bytes"):
        verify(DATA + b"#", sign(DATA, private), public)


def test_signature_by_another_key_fails(keys: tuple[bytes, bytes]) -> None:
    other_private, _ = generate_keypair()
    with pytest.raises(SignatureError, match=r"does not verify"):
        verify(DATA, sign(DATA, other_private), keys[1])


@pytest.mark.parametrize(
    ("sig", "message"),
    [
        (b"  \n", "empty signature"),
        (b"not base64!!", "not base64"),
        (base64.b64encode(b"x" * 10), "10 bytes; Ed25519 needs 64"),
    ],
)
def test_malformed_signature(keys: tuple[bytes, bytes], sig: bytes, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        verify(DATA, sig, keys[1])


def test_wrong_key_types(keys: tuple[bytes, bytes]) -> None:
    private, public = keys
    with pytest.raises(ConfigError, match=r"expected an Ed25519 public key, got RSAPublicKey"):
        verify(DATA, sign(DATA, private), _rsa_public())
    with pytest.raises(ConfigError, match=r"got a private key"):
        verify(DATA, sign(DATA, private), private)
    with pytest.raises(ConfigError, match=r"not a PEM public key"):
        verify(DATA, sign(DATA, private), b"garbage")
    with pytest.raises(ConfigError, match=r"expected an Ed25519 private key, got ECPrivateKey"):
        sign(DATA, _ec_private())
    with pytest.raises(ConfigError, match=r"\(is this a public key\?\)"):
        sign(DATA, public)
    with pytest.raises(ConfigError, match=r"not an unencrypted PEM private key: "):
        sign(DATA, b"garbage")


def test_load_requires_a_floor_signed_by_the_provider(
    floor_bytes: bytes, keys: tuple[bytes, bytes]
) -> None:
    private, public = keys
    policy = load_policy(
        floor_bytes, floor_signature=sign(floor_bytes, private), provider_public_key=public
    )
    assert len(policy.sha256) == 64
    with pytest.raises(PolicyValidationError, match=r"floor.toml: unsigned floor"):
        load_policy(floor_bytes, provider_public_key=public)
    other, _ = generate_keypair()
    with pytest.raises(PolicyValidationError, match=r"floor signed by another key or altered"):
        load_policy(
            floor_bytes, floor_signature=sign(floor_bytes, other), provider_public_key=public
        )
    edited = floor_bytes.replace(b"block_threshold = 0.8", b"block_threshold = 0.99")
    with pytest.raises(PolicyValidationError, match=r"floor signed by another key or altered"):
        load_policy(edited, floor_signature=sign(floor_bytes, private), provider_public_key=public)
    with pytest.raises(
        PolicyValidationError, match=r"provider public key: expected an Ed25519 public key, got RSA"
    ):
        load_policy(
            floor_bytes,
            floor_signature=sign(floor_bytes, private),
            provider_public_key=_rsa_public(),
        )


def test_signature_is_not_checked_for_oversized_floor(keys: tuple[bytes, bytes]) -> None:
    with pytest.raises(PolicyParseError, match=r"file is 11 bytes"):
        load_policy(b"# 11 bytes\n", provider_public_key=keys[1], max_bytes=10)


def test_check_floor_signature_directly(keys: tuple[bytes, bytes]) -> None:
    check_floor_signature(DATA, sign(DATA, keys[0]), keys[1], source="f")
