"""Load the effective policy: size bound -> floor signature -> parse -> merge.

Order matters: the size is checked before anything else, and when provider keys are given
the floor's signature is verified over the exact file bytes *before* those bytes are parsed,
so an unsigned or foreign floor is never even read as TOML: an unsigned floor is refused
("unsigned floor"), as is one signed by another key or altered after signing. The built-in
floor ships inside the package and is loaded without a signature; any other floor must be
signed by a provider key shipped in ``redline/policy/trust/`` (:func:`trusted_provider_keys`;
the gateway's policy runtime enforces this, configuration cannot change the keys).
"""

from __future__ import annotations

from importlib import resources

from redline.errors import ConfigError, PolicyValidationError, SignatureError
from redline.policy import signing
from redline.policy.layers import build
from redline.policy.model import Policy
from redline.policy.parse import DEFAULT_MAX_BYTES, Problem, parse_layer, problems_error

__all__ = [
    "BUILTIN_FLOOR_SOURCE",
    "builtin_floor_bytes",
    "lint",
    "load_builtin_floor",
    "load_policy",
    "trusted_provider_keys",
]

BUILTIN_FLOOR_SOURCE = "redline/policy/floor.toml"


def builtin_floor_bytes() -> bytes:
    """The exact bytes of the provider floor shipped in the package."""
    return resources.files("redline.policy").joinpath("floor.toml").read_bytes()


def trusted_provider_keys() -> tuple[bytes, ...]:
    """The provider public keys shipped with Redline (``redline/policy/trust/*.pub``)."""
    trust = resources.files("redline.policy").joinpath("trust")
    if not trust.is_dir():
        return ()
    return tuple(
        entry.read_bytes()
        for entry in sorted(trust.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".pub")
    )


def load_builtin_floor() -> Policy:
    """The effective policy of the shipped floor alone (no overlay, no signature check)."""
    return load_policy(builtin_floor_bytes(), floor_source=BUILTIN_FLOOR_SOURCE)


def load_policy(
    floor_bytes: bytes,
    overlay_bytes: bytes | None = None,
    *,
    floor_source: str = "floor.toml",
    overlay_source: str = "overlay.toml",
    floor_signature: bytes | None = None,
    provider_public_key: bytes | None = None,
    provider_public_keys: tuple[bytes, ...] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Policy:
    """Build the effective policy from a floor and an optional overlay.

    Args:
        floor_bytes: the exact floor file bytes.
        overlay_bytes: the operator overlay file bytes, if any.
        floor_source: the floor's file name, used in error messages.
        overlay_source: the overlay's file name, used in error messages.
        floor_signature: content of the detached ``floor.toml.sig`` (base64).
        provider_public_key: PEM Ed25519 public key; when given, the floor must be signed
            by it.
        provider_public_keys: several keys; when given, the floor must be signed by one.
        max_bytes: size bound per file, checked before parsing.

    Raises:
        PolicyParseError: a file is too large, not TOML, or does not fit the schema.
        PolicyValidationError: the floor signature is missing or wrong, the provider key is
            not an Ed25519 public key, or the policy is invalid or loosens the floor.
    """
    keys = (*provider_public_keys, *([provider_public_key] if provider_public_key else []))
    if keys and len(floor_bytes) <= max_bytes:
        _check_any_signature(floor_bytes, floor_signature, keys, source=floor_source)
    policy, problems = _build(floor_bytes, overlay_bytes, floor_source, overlay_source, max_bytes)
    if policy is None:
        raise problems_error(problems)
    return policy


def check_floor_signature(
    floor_bytes: bytes, signature: bytes | None, public_key: bytes, *, source: str
) -> None:
    """Raise unless ``signature`` is the provider's signature over exactly ``floor_bytes``.

    Raises:
        PolicyValidationError: unsigned floor, bad signature, or a provider key of the wrong
            type.
    """
    if signature is None:
        raise PolicyValidationError(
            f"{source}: unsigned floor (a provider key is configured; "
            f"expected a detached signature {source}.sig)"
        )
    try:
        signing.verify(floor_bytes, signature, public_key)
    except SignatureError as exc:
        raise PolicyValidationError(
            f"{source}: floor signed by another key or altered after signing ({exc})"
        ) from None
    except ConfigError as exc:
        raise PolicyValidationError(f"provider public key: {exc}") from None


def _check_any_signature(
    floor_bytes: bytes, signature: bytes | None, keys: tuple[bytes, ...], *, source: str
) -> None:
    """Raise unless one of ``keys`` verifies ``signature`` over ``floor_bytes``."""
    failure: PolicyValidationError | None = None
    for key in keys:
        try:
            check_floor_signature(floor_bytes, signature, key, source=source)
        except PolicyValidationError as exc:
            failure = exc
        else:
            return
    if failure is not None:
        raise failure


def lint(
    floor_bytes: bytes,
    overlay_bytes: bytes | None = None,
    *,
    floor_source: str = "floor.toml",
    overlay_source: str = "overlay.toml",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[Problem]:
    """Every problem of a floor (and overlay): parse problems first, then merge problems.

    Merge problems are reported only when both files parse cleanly (a broken file would
    otherwise cause misleading follow-on errors).
    """
    _, problems = _build(floor_bytes, overlay_bytes, floor_source, overlay_source, max_bytes)
    return problems


def _build(
    floor_bytes: bytes,
    overlay_bytes: bytes | None,
    floor_source: str,
    overlay_source: str,
    max_bytes: int,
) -> tuple[Policy | None, list[Problem]]:
    floor, problems = parse_layer(floor_bytes, source=floor_source, max_bytes=max_bytes)
    overlay = None
    if overlay_bytes is not None:
        overlay, more = parse_layer(overlay_bytes, source=overlay_source, max_bytes=max_bytes)
        problems += more
    if problems or floor is None:
        return None, problems
    return build(floor, overlay)
