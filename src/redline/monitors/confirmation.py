"""Human-confirmation tokens for effector tool calls (RL2: a human in the loop, provably).

Spec: DOMAIN.md §5.6 (RL2: "human authorization present"); DoDD 3000.09
(appropriate levels of human judgment over the use of force).

A human obtains a token through the console or the admin API for **one** call: a principal,
a tool name and the exact arguments. The client sends it back in the
``x-redline-human-confirmation`` header or in the tool call's ``human_confirmation_token``
argument. Format::

    rlhc1.<base64url(payload JSON)>.<base64url(HMAC-SHA256(key, DOMAIN || payload))>

with payload ``{"jti", "sub", "tool", "args", "iat", "exp"}``: ``args`` is the SHA-256 of the
canonical arguments JSON (sorted keys, no whitespace, the ``human_confirmation_token`` field
removed), ``iat``/``exp`` are Unix seconds. ``DOMAIN`` separates these MACs from any other
use of the key.

Invariants:

* a token never lives longer than ``max_ttl_s`` (issue refuses it; verify rejects it even if
  the key holder minted one);
* verification is a pure function returning a value (:class:`TokenCheck`); the caller
  records single use (``MonitorState.use_token``) - a token is good for one call;
* the MAC is compared with :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from redline.errors import ConfigError, RequestError

__all__ = [
    "CONFIRMATION_ARGUMENT",
    "CONFIRMATION_HEADER",
    "IssuedToken",
    "TokenCheck",
    "arguments_hash",
    "issue_token",
    "verify_token",
]

CONFIRMATION_HEADER = "x-redline-human-confirmation"
CONFIRMATION_ARGUMENT = "human_confirmation_token"
_PREFIX = "rlhc1"
_DOMAIN = b"redline-human-confirmation-v1\x00"
_MIN_KEY_BYTES = 32
_MAX_TOKEN_CHARS = 2048
DEFAULT_MAX_TTL_S = 120


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedToken:
    """A freshly issued token and what it is bound to."""

    token: str
    token_id: str
    expires_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenCheck:
    """The outcome of :func:`verify_token`; ``reason`` says why an invalid token failed."""

    valid: bool
    reason: str = ""
    token_id: str = ""
    expires_at: float = 0.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _check_key(key: bytes) -> None:
    if len(key) < _MIN_KEY_BYTES:
        raise ConfigError(f"confirmation key must be >= {_MIN_KEY_BYTES} bytes")


def arguments_hash(arguments: str) -> str:
    """SHA-256 of the canonical arguments JSON, without the confirmation-token field.

    Arguments that are not a JSON object are hashed as the exact string.
    """
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        value = None
    if isinstance(value, dict):
        value.pop(CONFIRMATION_ARGUMENT, None)
        canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()
    return hashlib.sha256(arguments.encode()).hexdigest()


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _DOMAIN + payload, hashlib.sha256).digest()


def issue_token(
    key: bytes,
    *,
    principal: str,
    tool: str,
    arguments: str,
    now: float,
    ttl_s: float = 60.0,
    max_ttl_s: float = DEFAULT_MAX_TTL_S,
) -> IssuedToken:
    """Issue a token confirming one effector call.

    Args:
        key: the deployment's confirmation key (>= 32 bytes).
        principal: the principal id that will make the call.
        tool: the tool name, exactly as the model will call it.
        arguments: the call's arguments JSON (the confirmation field is ignored).
        now: Unix seconds.
        ttl_s: lifetime; at most ``max_ttl_s``.
        max_ttl_s: the longest lifetime allowed.

    Raises:
        ConfigError: the key is too short.
        RequestError: the lifetime is not in ``(0, max_ttl_s]``.
    """
    _check_key(key)
    if not 0 < ttl_s <= max_ttl_s:
        raise RequestError(f"token lifetime must be in (0, {max_ttl_s:g}] s", param="ttl_s")
    token_id = secrets.token_hex(16)
    expires_at = round(now + ttl_s, 3)
    payload = json.dumps(
        {
            "jti": token_id,
            "sub": principal,
            "tool": tool,
            "args": arguments_hash(arguments),
            "iat": round(now, 3),
            "exp": expires_at,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    token = f"{_PREFIX}.{_b64(payload)}.{_b64(_mac(key, payload))}"
    return IssuedToken(token=token, token_id=token_id, expires_at=expires_at)


def verify_token(  # noqa: PLR0911 - one return per distinct rejection reason
    key: bytes,
    token: str,
    *,
    principal: str,
    tool: str,
    arguments: str,
    now: float,
    max_ttl_s: float = DEFAULT_MAX_TTL_S,
    grace_s: float = 0.0,
) -> TokenCheck:
    """Check a token's MAC, binding (principal, tool, arguments) and lifetime.

    Single use is **not** checked here: the caller records the ``token_id``.

    Args:
        key: the deployment's confirmation key.
        token: the token as received.
        principal: the principal making the call.
        tool: the tool being called.
        arguments: the call's arguments JSON.
        now: Unix seconds.
        max_ttl_s: the longest lifetime accepted.
        grace_s: accept a token up to this long after expiry (tool results fed back).

    Returns:
        A :class:`TokenCheck`; never raises for a malformed token.

    Raises:
        ConfigError: the key is too short.
    """
    _check_key(key)
    parts = token.strip().split(".")
    if len(token) > _MAX_TOKEN_CHARS or len(parts) != 3 or parts[0] != _PREFIX:
        return TokenCheck(valid=False, reason="malformed token")
    try:
        payload = _unb64(parts[1])
        mac = _unb64(parts[2])
    except ValueError:
        return TokenCheck(valid=False, reason="malformed token")
    if not hmac.compare_digest(mac, _mac(key, payload)):
        return TokenCheck(valid=False, reason="bad signature")
    try:
        claims = json.loads(payload)
        token_id, sub, name = str(claims["jti"]), str(claims["sub"]), str(claims["tool"])
        args, iat, exp = str(claims["args"]), float(claims["iat"]), float(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return TokenCheck(valid=False, reason="malformed claims")
    if not hmac.compare_digest(sub.encode(), principal.encode()):
        return TokenCheck(valid=False, reason="token is for another principal")
    if name != tool:
        return TokenCheck(valid=False, reason="token is for another tool")
    if not hmac.compare_digest(args, arguments_hash(arguments)):
        return TokenCheck(valid=False, reason="token is for other arguments")
    if exp - iat > max_ttl_s or exp <= iat:
        return TokenCheck(valid=False, reason="token lifetime exceeds the maximum")
    if now > exp + grace_s:
        return TokenCheck(valid=False, reason="token expired")
    if now < iat - 5.0:  # tolerate small clock skew between replicas
        return TokenCheck(valid=False, reason="token not yet valid")
    return TokenCheck(valid=True, token_id=token_id, expires_at=exp)
