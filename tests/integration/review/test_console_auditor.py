"""The auditor in the console: the live oversight page and receipt downloads, read-only;
no queue or item for an auditor, no oversight page for a reviewer."""

from __future__ import annotations

from pathlib import Path

from redline.audit import Receipt
from redline.store.keys import SqliteKeyStore
from tests.integration.review.console_support import (
    PROMPT,
    client,
    hold,
    issue_keys,
    running_app,
    sign_in,
)


def _auditor_key(data_dir: Path) -> str:
    store = SqliteKeyStore(data_dir / "keys.db")
    key = store.create(tenant="ig", roles=frozenset({"auditor"})).plaintext
    store.close()
    return key


async def test_the_auditor_reads_the_live_report_and_downloads_a_receipt(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    auditor = _auditor_key(tmp_path)
    async with running_app(tmp_path) as (app, web), client(app) as http:
        item = await hold(web, keys)
        signed = await sign_in(http, auditor)
        assert signed.status_code == 303
        queue = await http.get("/console/")
        assert queue.status_code == 303
        assert queue.headers["location"] == "/console/oversight"
        assert (await http.get(f"/console/items/{item.id}")).status_code == 404

        page = await http.get("/console/oversight")
        assert page.status_code == 200
        assert "Checkpoint tree size" in page.text
        assert "<svg" in page.text
        assert "Review outcomes and times" in page.text
        assert PROMPT not in page.text
        assert "script" not in page.headers["content-security-policy"]

        receipt = await http.get("/console/oversight/receipt", params={"request_id": "req_console"})
        assert receipt.status_code == 200
        assert receipt.headers["content-disposition"].startswith("attachment;")
        assert Receipt.parse(receipt.content).index >= 0
        missing = await http.get("/console/oversight/receipt", params={"request_id": "req_none"})
        assert missing.status_code == 404
        bad = await http.get("/console/oversight/receipt", params={"request_id": "<x>"})
        assert bad.status_code == 404


async def test_a_reviewer_without_the_auditor_role_gets_no_oversight_page(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, _), client(app) as http:
        await sign_in(http, keys.alice)
        assert (await http.get("/console/oversight")).status_code == 403
        receipt = await http.get("/console/oversight/receipt", params={"request_id": "req_x"})
        assert receipt.status_code == 403


async def test_a_key_with_neither_role_cannot_sign_in(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, _), client(app) as http:
        refused = await sign_in(http, keys.plain)
        assert refused.status_code == 403
        assert (await http.get("/console/oversight")).status_code == 303  # to the login page
