"""Metrics, probes and logs of a real gateway (uvicorn on an OS-picked port) in front of a
real mock upstream, driven by the official ``openai`` client.

The exposition is validated by Prometheus's own ``promtool check metrics`` (Debian's
``prometheus`` package, installed by scripts/install-dev) and read back with
``prometheus_client``'s parser.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from redline.bootstrap import build_app
from redline.fleet.identity import register_identity
from redline.fleet.schema import upgrade
from redline.observability.logs import JsonFormatter, TextFormatter
from redline.store.keys import SqliteKeyStore
from tests.conftest import MockUpstream, gateway_settings
from tests.integration.test_safeguards import WEAPON
from tests.support.fleet import REDIS_URL
from tests.support.servers import serve_in_thread

PROMTOOL = shutil.which("promtool")
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Keys:
    plain: str
    admin: str


@pytest.fixture
def keys(data_dir: Path) -> Keys:
    store = SqliteKeyStore(data_dir / "keys.db")
    plain = store.create(tenant="acme", label="client").plaintext
    admin = store.create(tenant="ops", label="ops", roles=frozenset({"admin"})).plaintext
    store.close()
    return Keys(plain=plain, admin=admin)


@pytest.fixture
def gateway(data_dir: Path, keys: Keys, mock_upstream: MockUpstream) -> Iterator[str]:
    with serve_in_thread(build_app(gateway_settings(data_dir, mock_upstream.url))) as url:
        yield url


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _promtool(text: str) -> subprocess.CompletedProcess[str]:
    if PROMTOOL is None:
        pytest.fail("promtool is missing: run scripts/install-dev (Debian package prometheus)")
    return subprocess.run(
        [PROMTOOL, "check", "metrics"],
        check=False,
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _scrape(url: str, key: str) -> str:
    response = httpx.get(url + "/metrics", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


def test_metrics_after_mixed_traffic_pass_promtool(gateway: str, keys: Keys) -> None:
    client = openai.OpenAI(base_url=gateway + "/v1", api_key=keys.plain, max_retries=0)
    with client:
        for _ in range(3):
            client.chat.completions.create(
                model="mock-ok", messages=[{"role": "user", "content": "hello there"}]
            )
        with pytest.raises(openai.PermissionDeniedError):
            client.chat.completions.create(
                model="mock-ok", messages=[{"role": "user", "content": WEAPON}]
            )
        with pytest.raises(openai.PermissionDeniedError) as held:
            client.chat.completions.create(
                model="mock-ok",
                messages=[{"role": "user", "content": WEAPON}],
                extra_headers={"x-redline-contest-block": "1"},
            )
        assert "review" in str(held.value.body)
        with pytest.raises(openai.APIStatusError):
            client.chat.completions.create(
                model="mock-down", messages=[{"role": "user", "content": "hello"}]
            )
        client.moderations.create(input=["fine", WEAPON])
    admin = {"authorization": f"Bearer {keys.admin}"}
    halted = httpx.post(
        gateway + "/redline/v1/admin/halt", json={"scope": "model:mock-ok"}, headers=admin
    )
    assert halted.status_code == 200, halted.text

    text = _scrape(gateway, keys.admin)
    checked = _promtool(text)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    s = _samples(text)
    assert _value(s, "redline_decisions_total", stage="request", action="allow") == 4
    assert _value(s, "redline_decisions_total", stage="request", action="block") == 2
    assert _value(s, "redline_decisions_total", stage="response", action="allow") == 3
    assert _value(s, "redline_decisions_total", stage="moderation", action="allow") == 1
    assert _value(s, "redline_decisions_total", stage="moderation", action="block") == 1
    red_lines = {
        dict(labels)["red_line"]
        for (name, labels), v in s.items()
        if name == "redline_decision_red_lines_total" and v > 0
    }
    assert red_lines, "a block names the red line that drove it"
    assert _value(s, "redline_screening_seconds_count", tier="tier1") >= 9
    assert _value(s, "redline_screening_seconds_count", tier="units") >= 9
    assert _value(s, "redline_upstream_seconds_count", route="mock-ok") == 3
    assert _value(s, "redline_upstream_seconds_count", route="mock-down") == 1
    assert (
        _value(s, "redline_upstream_errors_total", route="mock-down", error="UpstreamUnavailable")
        == 1
    )
    assert (
        _value(s, "redline_upstream_errors_total", route="mock-ok", error="UpstreamUnavailable")
        == 0
    )
    assert _value(s, "redline_review_queue_depth") == 1
    assert _value(s, "redline_review_queue_oldest_age_seconds") >= 0
    assert _value(s, "redline_halts_in_force", scope="model") == 1
    assert _value(s, "redline_halts_in_force", scope="all") == 0
    assert _value(s, "redline_audit_commit_seconds_count") >= 10
    assert _value(s, "redline_audit_queue_depth") == 0
    assert _value(s, "redline_audit_log_running") == 1
    assert _value(s, "redline_audit_tree_size") >= 10
    # Every metric exposed is documented, and every documented one is exposed.
    doc = (Path(__file__).parents[2] / "docs" / "OBSERVABILITY.md").read_text()
    documented = set(re.findall(r"^\| `(redline_[a-z_]+)`", doc, re.MULTILINE))
    families = {f.name for f in text_string_to_metric_families(text)}
    assert families == {d.removesuffix("_total") for d in documented}
    # Labels name routes, actions, categories and scope kinds: never a tenant or content.
    assert "acme" not in text
    assert "loitering" not in text


def test_promtool_rejects_a_broken_exposition() -> None:
    """The check above can fail: promtool refuses what is not valid exposition."""
    broken = "# TYPE redline_x counter\nredline_x{a=unquoted} 1\n"
    assert _promtool(broken).returncode != 0


def test_documented_alert_rules_pass_promtool(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "OBSERVABILITY.md").read_text()
    rules = doc.split("## Alert rules", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "rules.yml"
    path.write_text(rules)
    if PROMTOOL is None:
        pytest.fail("promtool is missing: run scripts/install-dev (Debian package prometheus)")
    checked = subprocess.run(
        [PROMTOOL, "check", "rules", str(path)], check=False, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for name in ("redline_fail_closed_total", "redline_audit_queue_oldest_age_seconds"):
        assert name in rules


def test_fail_closed_counts_a_request_that_cannot_be_screened(gateway: str, keys: Keys) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    response = httpx.post(
        gateway + "/v1/chat/completions",
        json={"model": "mock-ok", "messages": [{"role": "user", "content": [image]}]},
        headers={"authorization": f"Bearer {keys.plain}"},
    )
    assert response.status_code in (400, 403), response.text
    s = _samples(_scrape(gateway, keys.admin))
    assert _value(s, "redline_fail_closed_total", reason="non_text_content") == 1


def test_metrics_need_an_admin_key_by_default(gateway: str, keys: Keys) -> None:
    assert httpx.get(gateway + "/metrics").status_code == 401
    plain = httpx.get(gateway + "/metrics", headers={"authorization": f"Bearer {keys.plain}"})
    assert plain.status_code == 403
    assert plain.json()["error"]["code"]


@pytest.mark.parametrize(("access", "status"), [("public", 200), ("off", 404)])
def test_metrics_access_setting_is_enforced(
    data_dir: Path, keys: Keys, mock_upstream: MockUpstream, access: str, status: int
) -> None:
    settings = gateway_settings(data_dir, mock_upstream.url, metrics=access)
    with serve_in_thread(build_app(settings)) as url:
        anonymous = httpx.get(url + "/metrics")
        admin = httpx.get(url + "/metrics", headers={"authorization": f"Bearer {keys.admin}"})
    assert anonymous.status_code == status
    assert admin.status_code == status
    if access == "off":
        assert anonymous.json()["error"]["code"] == "metrics_off"


def test_health_and_readiness(gateway: str) -> None:
    health = httpx.get(gateway + "/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = httpx.get(gateway + "/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"keys", "reviews", "halts", "audit", "policy"}
    assert all(check["ok"] is True for check in body["checks"].values())
    assert body["checks"]["audit"]["sequencer"] == "local"
    assert len(body["checks"]["policy"]["sha256"]) == 64


def test_not_ready_when_a_store_is_unreachable(
    data_dir: Path, keys: Keys, mock_upstream: MockUpstream
) -> None:
    """A fleet replica on a PostgreSQL database of its own, dropped under the running gateway."""
    name = f"redline_ready_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
        upgrade(url)
        register_identity(url, data_dir)  # the fleet's key files are this data directory's
        settings = gateway_settings(
            data_dir, mock_upstream.url, database_url=url, redis_url=REDIS_URL
        )
        with serve_in_thread(build_app(settings)) as gateway:
            assert httpx.get(gateway + "/readyz").status_code == 200
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
            ready = httpx.get(gateway + "/readyz", timeout=30)
            assert ready.status_code == 503, ready.text
            body = ready.json()
            assert body["status"] == "not ready"
            assert body["checks"]["halts"] == {"ok": False, "error": "StoreError"}
            assert body["checks"]["keys"] == {"ok": False, "error": "StoreError"}
            assert name not in ready.text  # an error class, never a connection string
            assert httpx.get(gateway + "/healthz").status_code == 200
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_request_log_line_is_json_with_the_request_id(
    gateway: str, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="redline.requests"):
        response = httpx.post(
            gateway + "/v1/chat/completions",
            json={"model": "mock-ok", "messages": [{"role": "user", "content": 'hi "quoted"'}]},
            headers={"authorization": f"Bearer {keys.plain}", "x-request-id": "req-log-check-1"},
        )
    assert response.status_code == 200
    records = [r for r in caplog.records if getattr(r, "request_id", None) == "req-log-check-1"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["request_id"] == "req-log-check-1"
    assert line["op"] == "chat.completions"
    assert line["status"] == 200
    assert line["tenant"] == "acme"
    assert line["level"] == "info"
    assert "quoted" not in JsonFormatter().format(records[0])
    text = TextFormatter().format(records[0])
    assert "request_id=req-log-check-1" in text
    assert "status=200" in text


HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(["/metrics", "/readyz", "/healthz"]),
    authorization=HEADER_TEXT,
    request_id=HEADER_TEXT,
    traceparent=HEADER_TEXT,
)
def test_probes_and_metrics_never_500(
    gateway: str, path: str, authorization: str, request_id: str, traceparent: str
) -> None:
    headers = {"authorization": authorization, "x-request-id": request_id}
    headers["traceparent"] = traceparent
    response = httpx.get(gateway + path, headers=headers)
    assert response.status_code in (200, 401, 403), response.text
    if response.status_code != 200:
        assert response.json()["error"]["code"]
