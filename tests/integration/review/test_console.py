"""The reviewer console through httpx against the ASGI app (real SQLite, real audit log)."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from redline.domain import Principal
from redline.gateway.review_api import ReviewWeb
from redline.policy.model import RuleKind
from redline.store.keys import SqliteKeyStore
from tests.integration.review.console_support import (
    ECHOED,
    PROMPT,
    audit_events,
    client,
    csrf_of,
    hold,
    issue_keys,
    principal_id,
    running_app,
    sign_in,
)
from tests.unit.review.fakes import DECISION


async def test_login_sets_a_strict_secure_session_cookie(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, _), client(app) as http:
        response = await sign_in(http, keys.alice)
        assert response.status_code == 303
        assert response.headers["location"] == "/console/"
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("redline_console=")
        )
        for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/console"):
            assert attribute.lower() in cookie.lower()
        queue = await http.get("/console/")
        assert queue.status_code == 200
        assert "Review queue" in queue.text
        assert queue.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in queue.headers["content-security-policy"]
        css = await http.get("/console/static/console.css")
        assert css.status_code == 200
        assert "text/css" in css.headers["content-type"]


async def test_login_with_a_non_reviewer_key_is_refused(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, _), client(app) as http:
        response = await sign_in(http, keys.requester)
        assert response.status_code == 403
        assert "does not have the reviewer role" in response.text
        assert "redline_console" not in http.cookies
        assert (await http.get("/console/")).status_code == 303


async def test_login_with_a_bad_key_is_refused(tmp_path: Path) -> None:
    issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, _), client(app) as http:
        response = await sign_in(http, "rl_0000_nope")
        assert response.status_code == 401
        assert "Invalid API key" in response.text


async def test_login_without_a_valid_csrf_token_is_403(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, _):
        for token in (None, "", "forged-token"):
            async with client(app) as http:
                await http.get("/console/login")
                extra = {"csrf_token": token} if token is not None else {}
                response = await http.post("/console/login", data={"api_key": keys.alice} | extra)
                assert response.status_code == 403, token
                assert "redline_console" not in http.cookies


async def test_decide_requires_the_session_csrf_token(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, web), client(app) as http:
        item = await hold(web, keys)
        await sign_in(http, keys.alice)
        url = f"/console/items/{item.id}/decide"
        decision = {"decision": "approve", "rationale": "lawful"}
        assert (await http.post(url, data=decision)).status_code == 403
        bad = await http.post(url, data=decision | {"csrf_token": "x" * 43})
        assert bad.status_code == 403
        # Another session's token does not work either.
        async with client(app) as other:
            await sign_in(other, keys.bob)
            foreign = await csrf_of(other)
        assert (await http.post(url, data=decision | {"csrf_token": foreign})).status_code == 403
        current = await web.runtime.service.get_for(item.id, await _p(web, keys.alice))
        assert current.state.value == "pending"


async def _p(web: ReviewWeb, key: str) -> Principal:
    return await web.authenticator.authenticate("Bearer " + key)


async def test_full_review_in_the_console(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, web), client(app) as http:
        hold_item = await hold(web, keys)
        override = await hold(web, keys, kind=RuleKind.OVERRIDE)
        await sign_in(http, keys.alice)

        queue = await http.get("/console/")
        assert queue.text.index(override.id) < queue.text.index(hold_item.id)
        assert "block override" in queue.text
        assert PROMPT not in queue.text  # content only on the item page

        page = await http.get(f"/console/items/{hold_item.id}")
        assert page.status_code == 200
        assert PROMPT in page.text
        assert page.text.count("SECRET//NOFORN") >= 3  # banners top, bottom and the label
        assert "mass_domestic_surveillance" in page.text
        assert "RL1.2" in page.text
        assert "track every resident" in page.text
        # The decision reads once (not "review: review: ..."), scores are drawn against the
        # policy's thresholds (a high red-line score is not a green bar), and the requester
        # is named by its key's label.
        assert "review: score above" not in page.text
        assert 'low="0.5" high="0.8" optimum="0"' in page.text
        assert "clearance <code>S</code>" in page.text

        token = await csrf_of(http, f"/console/items/{hold_item.id}")
        done = await http.post(
            f"/console/items/{hold_item.id}/decide",
            data={"decision": "approve", "rationale": "Lawful warrant", "csrf_token": token},
        )
        assert done.status_code == 303
        assert done.headers["location"] == f"/console/items/{hold_item.id}"
        after = await http.get(done.headers["location"])
        assert 'id="state" class="state state-approved">approved' in after.text
        await web.runtime.service.drain()

        status = await http.get(
            f"/redline/v1/reviews/{hold_item.id}",
            headers={"authorization": "Bearer " + keys.requester},
        )
        assert status.status_code == 200
        body = status.json()
        assert body["status"] == "approved"
        # The approved request ran through the built-in model as the requester; output
        # screening did not re-block the category the reviewer released.
        assert body["answer"]["choices"][0]["message"]["content"] == ECHOED

        # The override needs a second person.
        token = await csrf_of(http, f"/console/items/{override.id}")
        form = {"decision": "approve", "rationale": "first", "csrf_token": token}
        await http.post(f"/console/items/{override.id}/decide", data=form)
        again = await http.post(f"/console/items/{override.id}/decide", data=form)
        assert again.status_code == 409
        assert "already approved" in again.text

    actions = [(e["action"], e["actor"], e.get("rationale")) for e in audit_events(tmp_path)]
    alice = principal_id(keys.alice)
    requester = principal_id(keys.requester)
    assert actions == [
        ("submit", requester, None),
        ("submit", requester, None),
        ("approve", alice, "Lawful warrant"),
        ("answer", "system", None),
        ("approve", alice, "first"),
    ]
    for record in caplog.records:
        assert PROMPT not in record.getMessage()
        assert "Lawful warrant" not in record.getMessage()


async def test_reviewer_below_the_label_sees_nothing(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, web), client(app) as http:
        item = await hold(web, keys)
        await sign_in(http, keys.low)
        queue = await http.get("/console/")
        assert item.id not in queue.text
        assert "No items are waiting" in queue.text
        hidden = await http.get(f"/console/items/{item.id}")
        unknown = await http.get("/console/items/rev_000000000000000000000000")
        assert hidden.status_code == unknown.status_code == 404
        assert hidden.text.replace(item.id, "") == unknown.text.replace(
            "rev_000000000000000000000000", ""
        )
        token = await csrf_of(http)
        post = await http.post(
            f"/console/items/{item.id}/decide",
            data={"decision": "approve", "rationale": "x", "csrf_token": token},
        )
        assert post.status_code == 404


async def test_huge_rationale_is_rejected_clearly(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, web), client(app) as http:
        item = await hold(web, keys)
        await sign_in(http, keys.alice)
        token = await csrf_of(http, f"/console/items/{item.id}")
        url = f"/console/items/{item.id}/decide"
        long = await http.post(
            url, data={"decision": "deny", "rationale": "x" * 5000, "csrf_token": token}
        )
        assert long.status_code == 400
        assert "5000 characters long; the limit is 4000" in long.text
        huge = await http.post(
            url, data={"decision": "deny", "rationale": "x" * 200_000, "csrf_token": token}
        )
        assert huge.status_code == 413
        empty = await http.post(
            url, data={"decision": "deny", "rationale": "  ", "csrf_token": token}
        )
        assert empty.status_code == 400
        assert "rationale is required" in empty.text


async def test_self_review_in_the_console_is_refused(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, web), client(app) as http:
        alice = await _p(web, keys.alice)
        item = await web.runtime.service.submit(
            request_id="req_self",
            principal=alice,
            label_banner="SECRET//NOFORN",
            request_body=b"{}",
            decision=DECISION,
            kind=RuleKind.REVIEW,
            approvals_required=1,
            expires_after_s=60,
            now=web.clock.now(),
        )
        await sign_in(http, keys.alice)
        page = await http.get(f"/console/items/{item.id}")
        assert "your own request" in page.text
        assert 'id="approve"' not in page.text
        token = await csrf_of(http)
        post = await http.post(
            f"/console/items/{item.id}/decide",
            data={"decision": "approve", "rationale": "mine", "csrf_token": token},
        )
        assert post.status_code == 403


async def test_logout_and_revocation_end_the_session(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, _web), client(app) as http:
        await sign_in(http, keys.alice)
        token = await csrf_of(http)
        assert (await http.post("/console/logout", data={})).status_code == 403
        out = await http.post("/console/logout", data={"csrf_token": token})
        assert out.status_code == 303
        assert (await http.get("/console/")).status_code == 303

        await sign_in(http, keys.bob)
        assert (await http.get("/console/")).status_code == 200
        store = SqliteKeyStore(tmp_path / "keys.db")
        store.revoke(keys.bob.split("_")[1])
        store.close()
        assert (await http.get("/console/")).status_code == 303


async def test_console_cookie_is_not_sent_over_plain_http(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, _):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            page = await http.get("/console/login")
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            # The login CSRF cookie is Secure too: over plain http it never comes back.
            response = await http.post(
                "/console/login", data={"api_key": keys.alice, "csrf_token": token}
            )
            assert response.status_code == 403
