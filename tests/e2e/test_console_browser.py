"""The reviewer console in a real headless Chromium (Debian ``chromium``, driven by Playwright).

A reviewer signs in with an API key, opens a held request, approves it with a rationale, and
the requester sees the status change through ``GET /redline/v1/reviews/{id}``. The gateway
runs in uvicorn on 127.0.0.1: Chromium treats loopback as a secure context, so the console's
``Secure`` cookies work over plain http there (and only there).

Needs ``/usr/bin/chromium`` (``apt-get install -y chromium``); ``playwright install`` is never
used.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from redline.bootstrap import build_app
from redline.clock import SystemClock
from redline.domain import Principal
from redline.policy.model import RuleKind
from redline.review import BodyCipher, ReviewItem, ReviewService, SqliteReviewQueue
from redline.review.crypto import load_or_create_key
from redline.settings import Settings
from redline.store.keys import SqliteKeyStore
from tests.integration.review.console_support import BODY, ECHOED, PROMPT, issue_keys
from tests.support.servers import serve_in_thread
from tests.unit.review.fakes import DECISION, RecordingAudit

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def submit_from_another_process(data_dir: Path, requester: Principal) -> ReviewItem:
    """Hold a request the way a second gateway replica would: same database and key file."""

    async def submit() -> ReviewItem:
        queue = SqliteReviewQueue(data_dir / "reviews.db")
        cipher = BodyCipher(load_or_create_key(data_dir / "review-body.key"))
        service = ReviewService(queue, cipher=cipher, audit=RecordingAudit())
        try:
            return await service.submit(
                request_id="req_browser",
                principal=requester,
                label_banner="SECRET//NOFORN",
                request_body=BODY,
                decision=DECISION,
                kind=RuleKind.REVIEW,
                approvals_required=1,
                expires_after_s=3600,
                now=SystemClock().now(),
            )
        finally:
            queue.close()

    return asyncio.run(submit())


def test_sign_in_approve_and_requester_sees_the_change(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is not installed: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    keys = issue_keys(tmp_path)
    app = build_app(Settings(data_dir=tmp_path))
    with serve_in_thread(app) as base:
        store = SqliteKeyStore(tmp_path / "keys.db")
        key = store.get(keys.requester.split("_")[1])
        store.close()
        assert key is not None
        item = submit_from_another_process(tmp_path, key.principal)
        status_url = f"{base}/redline/v1/reviews/{item.id}"
        auth = {"authorization": "Bearer " + keys.requester}
        assert httpx.get(status_url, headers=auth).json()["status"] == "pending"

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = browser.new_page()
                page.goto(base + "/console/login")
                page.fill("#api_key", keys.alice)
                page.click("#sign-in")
                page.wait_for_url(base + "/console/")
                cookie = next(c for c in page.context.cookies() if c["name"] == "redline_console")
                assert cookie["httpOnly"] is True
                assert cookie["secure"] is True
                assert cookie["sameSite"] == "Strict"
                assert cookie["path"] == "/console"

                page.click(f"text={item.id}")
                page.wait_for_url(f"{base}/console/items/{item.id}")
                assert PROMPT in page.content()
                assert PROMPT not in page.url
                assert page.inner_text("[data-testid=banner-top]") == "SECRET//NOFORN"

                page.fill("#rationale", "Lawful, scoped to one warrant; approved.")
                page.click("#approve")
                page.wait_for_selector("#state.state-approved")
                assert page.url == f"{base}/console/items/{item.id}"
            finally:
                browser.close()

        deadline = time.monotonic() + 10
        status = httpx.get(status_url, headers=auth).json()
        while status["answer"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
            status = httpx.get(status_url, headers=auth).json()
        assert status["status"] == "approved"
        assert status["approvals"] == 1
        assert status["answer"]["choices"][0]["message"]["content"] == ECHOED
        assert status["decided_at"] is not None
