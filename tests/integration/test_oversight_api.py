"""The auditor's live view: the report from the running log and a signed receipt per
decision, through a real server; other roles are refused."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from redline.audit import NoteVerifier, Receipt, decode_record, verify_receipt
from redline.audit.merkle import leaf_hash
from redline.bootstrap import build_app
from redline.store.keys import SqliteKeyStore
from tests.conftest import MockUpstream, gateway_settings
from tests.support.servers import serve_in_thread

LAWFUL = "Estimate the fuel needed to move a battalion's vehicles 300 km by road."
RID = "req_oversight0000000000000001"


@dataclass
class Served:
    url: str
    user: str
    auditor: str
    data_dir: Path


@pytest.fixture
def served(data_dir: Path, mock_upstream: MockUpstream) -> Iterator[Served]:
    data_dir.mkdir(parents=True, exist_ok=True)
    store = SqliteKeyStore(data_dir / "keys.db")
    user = store.create(tenant="acme").plaintext
    auditor = store.create(tenant="ig", roles=frozenset({"auditor"})).plaintext
    store.close()
    with serve_in_thread(build_app(gateway_settings(data_dir, mock_upstream.url))) as url:
        yield Served(url, user, auditor, data_dir)


def _get(s: Served, key: str, path: str) -> httpx.Response:
    return httpx.get(
        s.url + "/redline/v1/oversight" + path,
        headers={"authorization": f"Bearer {key}"},
        timeout=30,
    )


def test_the_auditor_sees_the_live_report_and_others_do_not(served: Served) -> None:
    for _ in range(6):
        response = httpx.post(
            served.url + "/v1/chat/completions",
            json={"model": "mock-ok", "messages": [{"role": "user", "content": LAWFUL}]},
            headers={"authorization": f"Bearer {served.user}"},
            timeout=30,
        )
        assert response.status_code == 200
    refused = _get(served, served.user, "/report")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "redline_access_denied"
    report = _get(served, served.auditor, "/report")
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    html = report.text
    assert "Redline oversight report" in html
    assert "<td>acme</td><td>6</td>" in html
    assert LAWFUL not in html
    size = int(html.split("<td>Checkpoint tree size</td><td>")[1].split("<")[0])
    assert size >= 12  # six request and six response decisions


def test_a_receipt_for_a_decision_verifies_offline(served: Served) -> None:
    response = httpx.post(
        served.url + "/v1/chat/completions",
        json={"model": "mock-ok", "messages": [{"role": "user", "content": LAWFUL}]},
        headers={"authorization": f"Bearer {served.user}", "x-request-id": RID},
        timeout=30,
    )
    assert response.status_code == 200
    assert _get(served, served.user, f"/receipts/{RID}").status_code == 403
    got = _get(served, served.auditor, f"/receipts/{RID}")
    assert got.status_code == 200, got.text
    assert got.headers["content-disposition"] == f'attachment; filename="{RID}.tlog-proof"'
    receipt = Receipt.parse(got.content)
    conn = sqlite3.connect(served.data_dir / "audit.db")
    entry = bytes(
        conn.execute("select entry from leaves where idx = ?", (receipt.index,)).fetchone()[0]
    )
    conn.close()
    assert decode_record(entry).request_id == RID
    vkey = (served.data_dir / "audit.vkey").read_text(encoding="utf-8").strip()
    verify_receipt(receipt, leaf_hash(entry), [NoteVerifier.parse(vkey)])
    missing = _get(served, served.auditor, "/receipts/req_000000000000000000000000")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "redline_receipt_not_found"
    assert _get(served, served.auditor, "/receipts/not-an-id").status_code == 404
