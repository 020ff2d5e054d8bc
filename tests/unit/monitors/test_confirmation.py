"""Human-confirmation tokens: binding, lifetime, tampering, malformed input."""

from __future__ import annotations

import base64
import json

import pytest

from redline.errors import ConfigError, RequestError
from redline.monitors import issue_token, verify_token
from redline.monitors.confirmation import arguments_hash
from tests.unit.monitors.conftest import KEY

ARGS = '{"target": "T-17", "rounds": 2}'


def issue(**overrides: object) -> str:
    values: dict[str, object] = {
        "principal": "op-1",
        "tool": "fire_weapon",
        "arguments": ARGS,
        "now": 1000.0,
        "ttl_s": 60.0,
    }
    values.update(overrides)
    return issue_token(KEY, **values).token  # type: ignore[arg-type]


def check(token: str, **overrides: object) -> tuple[bool, str]:
    values: dict[str, object] = {
        "principal": "op-1",
        "tool": "fire_weapon",
        "arguments": ARGS,
        "now": 1010.0,
    }
    values.update(overrides)
    result = verify_token(KEY, token, **values)  # type: ignore[arg-type]
    return result.valid, result.reason


def test_round_trip_and_argument_order_does_not_matter() -> None:
    issued = issue_token(
        KEY, principal="op-1", tool="fire_weapon", arguments=ARGS, now=1000.0, ttl_s=60
    )
    assert issued.expires_at == 1060.0
    same = '{"rounds": 2, "target": "T-17", "human_confirmation_token": "x"}'
    result = verify_token(
        KEY, issued.token, principal="op-1", tool="fire_weapon", arguments=same, now=1059.0
    )
    assert result.valid
    assert result.token_id == issued.token_id
    assert arguments_hash("not json") != arguments_hash("not json!")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"principal": "op-2"}, "token is for another principal"),
        ({"tool": "fire_missile"}, "token is for another tool"),
        ({"arguments": '{"target": "T-18", "rounds": 2}'}, "token is for other arguments"),
        ({"now": 1060.5}, "token expired"),
        ({"now": 900.0}, "token not yet valid"),
    ],
)
def test_binding_and_lifetime(overrides: dict[str, object], reason: str) -> None:
    assert check(issue(), **overrides) == (False, reason)


def test_grace_for_results_fed_back() -> None:
    assert check(issue(), now=1200.0, grace_s=600.0) == (True, "")


def test_tampering_and_malformed_tokens() -> None:
    token = issue()
    prefix, payload, mac = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "op-2"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert check(f"{prefix}.{forged}.{mac}", principal="op-2") == (False, "bad signature")
    assert check("garbage") == (False, "malformed token")
    assert check("rlhc1.!!!.???") == (False, "malformed token")
    assert check("x" * 5000) == (False, "malformed token")
    other = issue_token(b"another-key-of-at-least-32-bytes!!", principal="op-1",
                        tool="fire_weapon", arguments=ARGS, now=1000.0).token  # fmt: skip
    assert check(other) == (False, "bad signature")


def test_lifetime_bounds() -> None:
    with pytest.raises(RequestError):
        issue(ttl_s=121.0)
    with pytest.raises(RequestError):
        issue(ttl_s=0)
    long_lived = issue(ttl_s=300.0, max_ttl_s=600.0)
    assert check(long_lived) == (False, "token lifetime exceeds the maximum")


def test_short_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        issue_token(b"short", principal="p", tool="t", arguments="{}", now=0.0)
    with pytest.raises(ConfigError):
        verify_token(b"short", "x", principal="p", tool="t", arguments="{}", now=0.0)
