"""GET /redline/v1/reviews/{id}: the requester's view, through the ASGI app."""

from __future__ import annotations

from pathlib import Path

from tests.integration.review.console_support import client, hold, issue_keys, running_app


async def test_requester_sees_pending_then_denied(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, web), client(app) as http:
        item = await hold(web, keys)
        auth = {"authorization": "Bearer " + keys.requester}
        pending = await http.get(f"/redline/v1/reviews/{item.id}", headers=auth)
        assert pending.status_code == 200
        body = pending.json()
        assert body["object"] == "redline.review"
        assert body["status"] == "pending"
        assert body["approvals"] == 0
        assert body["approvals_required"] == 1
        assert body["answer"] is None
        bob = await web.authenticator.authenticate("Bearer " + keys.bob)
        await web.runtime.service.decide(
            item.id, bob, approve=False, rationale="no", now=web.clock.now()
        )
        denied = (await http.get(f"/redline/v1/reviews/{item.id}", headers=auth)).json()
        assert denied["status"] == "denied"
        assert denied["decided_at"] is not None
        assert denied["answer"] is None


async def test_other_tenants_and_unknown_ids_are_404_alike(tmp_path: Path) -> None:
    keys = issue_keys(tmp_path)
    async with running_app(tmp_path) as (app, web), client(app) as http:
        item = await hold(web, keys)
        other = {"authorization": "Bearer " + keys.plain}
        theirs = await http.get(f"/redline/v1/reviews/{item.id}", headers=other)
        unknown = await http.get("/redline/v1/reviews/rev_nope", headers=other)
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json()["error"]["code"] == "review_not_found"
        anonymous = await http.get(f"/redline/v1/reviews/{item.id}")
        assert anonymous.status_code == 401
