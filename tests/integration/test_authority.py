"""Purpose and authority through a real gateway: a signed register, authority rules in the
overlay, and the official OpenAI client. Every decision's audit entry carries what the
request declared."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from redline.bootstrap import build_app
from redline.cli.main import main as redline
from redline.policy.signing import generate_keypair
from tests.conftest import MockUpstream, gateway_settings
from tests.support.servers import serve_in_thread

# Screening alone allows this (one named person, no bulk): the authority rule is what stops it.
TARGETED = "Track the phone (937) 555-0123 of the suspect and summarise where it was this week."
OTHER_TARGET = "Track the phone (614) 555-0199 of the suspect and summarise where it was."
LAWFUL = "Estimate the fuel needed to move a battalion's vehicles 300 km by road."
ORDER = "fisa-order:2026-FISC-0042"

OVERLAY = b"""schema_version = 1

[[authority.rules]]
id = "usp-needs-order"
category = "mass_domestic_surveillance"
allowed_types = ["fisa-order", "warrant"]
missing = "block"

[[authority.rules]]
id = "verify-on-public-name"
category = "mass_domestic_surveillance"
models = ["public-name"]
allowed_types = ["fisa-order", "warrant"]
verify = true
"""


@dataclass
class Gateway:
    url: str
    key: str
    data_dir: Path
    register: Path
    signing_key: Path


def _cli(*args: str) -> None:
    assert redline(list(args)) == 0


@pytest.fixture
def gateway(
    tmp_path: Path, data_dir: Path, api_key: str, mock_upstream: MockUpstream
) -> Iterator[Gateway]:
    private, public = generate_keypair()
    (tmp_path / "op.key").write_bytes(private)
    (tmp_path / "op.pub").write_bytes(public)
    register = tmp_path / "authorities.toml"
    common = ["--key", str(tmp_path / "op.key"), "--issuer", "FISC"]
    _cli(
        "authority",
        "add",
        str(register),
        *common,
        "--type",
        "fisa-order",
        "--id",
        "2026-FISC-0042",
        "--selector",
        "phone (937) 555-0123",
        "--not-before",
        "2000-01-01T00:00:00Z",
        "--expires",
        "2100-01-01T00:00:00Z",
    )
    _cli(
        "authority",
        "add",
        str(register),
        *common,
        "--type",
        "warrant",
        "--id",
        "OLD-1",
        "--selector",
        "phone (937) 555-0123",
        "--not-before",
        "2000-01-01T00:00:00Z",
        "--expires",
        "2001-01-01T00:00:00Z",
    )
    overlay = tmp_path / "overlay.toml"
    overlay.write_bytes(OVERLAY)
    settings = replace(
        gateway_settings(data_dir, mock_upstream.url),
        policy_overlay=overlay,
        authority_register=register,
        authority_public_key=tmp_path / "op.pub",
    )
    with serve_in_thread(build_app(settings)) as url:
        yield Gateway(url, api_key, data_dir, register, tmp_path / "op.key")


def _post(gw: Gateway, text: str, *, model: str = "mock-ok", **headers: str) -> httpx.Response:
    return httpx.post(
        gw.url + "/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": text}]},
        headers={"authorization": f"Bearer {gw.key}", **headers},
        timeout=30,
    )


def _events(data_dir: Path, kind: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(data_dir / "audit.db")
    try:
        rows = conn.execute("select entry from leaves order by idx").fetchall()
    finally:
        conn.close()
    records = [json.loads(bytes(r[0])) for r in rows]
    return [r["payload"] for r in records if r["type"] == kind]


def test_targeted_request_without_an_authority_is_blocked(
    gateway: Gateway, mock_upstream: MockUpstream
) -> None:
    response = _post(gateway, TARGETED, **{"x-redline-purpose": "counterintelligence"})
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "redline_blocked"
    assert "usp-needs-order" in error["message"]
    assert mock_upstream.recorder.bodies == []


def test_targeted_request_passes_with_a_valid_authority_and_is_audited_as_declared(
    gateway: Gateway, mock_upstream: MockUpstream
) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=gateway.key, max_retries=0)
    reply = client.chat.completions.create(
        model="mock-ok",
        messages=[{"role": "user", "content": TARGETED}],
        extra_headers={"x-redline-authority": ORDER, "x-redline-case": "CASE-7"},
        metadata={"x-redline-purpose": "counterintelligence"},
    )
    client.close()
    assert reply.choices[0].message.content
    assert len(mock_upstream.recorder.bodies) == 1
    (request,) = _events(gateway.data_dir, "request_decision")
    assert request["action"] == "allow"
    assert (request["purpose"], request["authorities"], request["case"]) == (
        "counterintelligence",
        [ORDER],
        "CASE-7",
    )
    assert request["us_person"] is True
    (response,) = _events(gateway.data_dir, "response_decision")
    assert (response["purpose"], response["authorities"], response["case"]) == (
        "counterintelligence",
        [ORDER],
        "CASE-7",
    )


@pytest.mark.parametrize(
    ("text", "authority", "problem"),
    [
        (TARGETED, "warrant:OLD-1", "warrant:OLD-1: expired"),
        (TARGETED, "fisa-order:NOT-IN-REGISTER", "unknown"),
        (OTHER_TARGET, ORDER, "out of scope"),
    ],
    ids=["expired", "unknown", "out-of-scope"],
)
def test_an_authority_the_register_does_not_confirm_is_refused(
    gateway: Gateway, mock_upstream: MockUpstream, text: str, authority: str, problem: str
) -> None:
    response = _post(gateway, text, **{"x-redline-authority": authority})
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "redline_authority_invalid"
    assert problem in error["message"]
    assert mock_upstream.recorder.bodies == []
    (request,) = _events(gateway.data_dir, "request_decision")
    assert request["action"] == "block"
    assert request["authorities"] == [authority]
    assert problem in request["authority_problems"][0]


def test_the_route_that_verifies_authorities_holds_the_request_for_review(
    gateway: Gateway, mock_upstream: MockUpstream
) -> None:
    response = _post(gateway, TARGETED, model="public-name", **{"x-redline-authority": ORDER})
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "redline_review"
    assert "held for verification" in error["message"]
    assert mock_upstream.recorder.bodies == []
    (request,) = _events(gateway.data_dir, "request_decision")
    assert (request["action"], request["categories"]) == (
        "review",
        ["mass_domestic_surveillance"],
    )


def test_a_forbidden_purpose_is_blocked_citing_posse_comitatus(
    gateway: Gateway, mock_upstream: MockUpstream
) -> None:
    response = _post(gateway, LAWFUL, **{"x-redline-purpose": "domestic-law-enforcement"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "redline_blocked"
    assert "C7" in response.json()["error"]["message"]
    assert mock_upstream.recorder.bodies == []
    (request,) = _events(gateway.data_dir, "request_decision")
    assert (request["action"], request["clauses"]) == ("block", ["C7"])


@pytest.mark.parametrize(
    "headers",
    [
        {"x-redline-authority": "no-colon"},
        {"x-redline-authority": "Fisa:1"},
        {"x-redline-purpose": "Not A Code"},
        {"x-redline-case": "bad case id"},
    ],
)
def test_malformed_metadata_is_a_named_400(
    gateway: Gateway, mock_upstream: MockUpstream, headers: dict[str, str]
) -> None:
    response = _post(gateway, LAWFUL, **headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "redline_invalid_metadata"
    assert mock_upstream.recorder.bodies == []


def test_conflicting_purposes_in_header_and_metadata_are_refused(gateway: Gateway) -> None:
    response = httpx.post(
        gateway.url + "/v1/chat/completions",
        json={
            "model": "mock-ok",
            "messages": [{"role": "user", "content": LAWFUL}],
            "metadata": {"x-redline-purpose": "training"},
        },
        headers={"authorization": f"Bearer {gateway.key}", "x-redline-purpose": "logistics"},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "redline_invalid_metadata"


def test_a_revocation_takes_effect_on_the_next_request_and_is_audited(
    gateway: Gateway,
) -> None:
    assert _post(gateway, TARGETED, **{"x-redline-authority": ORDER}).status_code == 200
    _cli("authority", "revoke", str(gateway.register), "--key", str(gateway.signing_key), ORDER)
    response = _post(gateway, TARGETED, **{"x-redline-authority": ORDER})
    assert response.status_code == 403
    assert "revoked" in response.json()["error"]["message"]
    loads = _events(gateway.data_dir, "authority_register")
    assert [e["outcome"] for e in loads] == ["loaded", "loaded"]
    assert loads[0]["added"] == [ORDER, "warrant:OLD-1"]
    assert loads[1]["revoked"] == [ORDER]
    assert loads[1]["previous_sha256"] == loads[0]["sha256"]


def test_a_register_edited_after_signing_is_refused_not_used(gateway: Gateway) -> None:
    text = gateway.register.read_text(encoding="utf-8")
    gateway.register.write_text(text.replace("2001-01-01", "2101-01-01"), encoding="utf-8")
    response = _post(gateway, TARGETED, **{"x-redline-authority": "warrant:OLD-1"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "redline_authority_register_unavailable"
    assert _events(gateway.data_dir, "authority_register")[-1]["outcome"] == "rejected"


async def test_the_gateway_does_not_start_on_a_register_that_does_not_verify(
    tmp_path: Path, data_dir: Path, mock_upstream: MockUpstream
) -> None:
    from redline.errors import ConfigError

    _, public = generate_keypair()
    other, _ = generate_keypair()
    (tmp_path / "op.pub").write_bytes(public)
    (tmp_path / "other.key").write_bytes(other)
    register = tmp_path / "authorities.toml"
    args = ["authority", "add", str(register), "--key", str(tmp_path / "other.key")]
    args += ["--type", "warrant", "--id", "W-1", "--issuer", "court", "--selector", "x@y.example"]
    args += ["--not-before", "2000-01-01T00:00:00Z", "--expires", "2100-01-01T00:00:00Z"]
    _cli(*args)  # signed by a key the gateway does not trust
    settings = replace(
        gateway_settings(data_dir, mock_upstream.url),
        authority_register=register,
        authority_public_key=tmp_path / "op.pub",
    )
    app = build_app(settings, sighup=False)
    with pytest.raises(ConfigError, match="signature does not verify"):
        async with app.router.lifespan_context(app):
            pass
