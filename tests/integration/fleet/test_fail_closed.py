"""A fleet replica whose database goes away answers nothing unrecorded: 503, then serves
again when the database is back. Real PostgreSQL (connections to the test's own database
are refused and terminated), real Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import psycopg

from redline.bootstrap import build_app
from redline.store.postgres_keys import PostgresKeyStore
from tests.integration.fleet.conftest import fleet_settings, replica_dir
from tests.support.fleet import PG_ADMIN_URL

CHAT = {"model": "redline-echo", "messages": [{"role": "user", "content": "status report"}]}


def set_reachable(url: str, reachable: bool) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as db:
        db.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {str(reachable).lower()}")
        if not reachable:
            db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )


def logged_request_ids(url: str) -> list[str]:
    from redline.audit import decode_record

    with psycopg.connect(url) as db:
        rows = db.execute("SELECT entry FROM redline_audit.leaves ORDER BY idx").fetchall()
    return [str(decode_record(bytes(r[0])).payload.get("request_id")) for r in rows]


async def test_database_outage_refuses_then_recovers(fleet_url: str, tmp_path: Path) -> None:
    keys = PostgresKeyStore(fleet_url)
    key = keys.create(tenant="acme").plaintext
    keys.close()
    app = build_app(fleet_settings(fleet_url, replica_dir(tmp_path, "r1")), sighup=False)
    auth = {"authorization": f"Bearer {key}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        ok = await http.post(
            "/v1/chat/completions", json=CHAT, headers={**auth, "x-request-id": "before"}
        )
        assert ok.status_code == 200, ok.text
        set_reachable(fleet_url, False)
        try:
            down = await http.post(
                "/v1/chat/completions", json=CHAT, headers={**auth, "x-request-id": "during"}
            )
            assert down.status_code == 503, down.text
            assert down.json()["error"]["code"] == "redline_audit_unavailable"
        finally:
            set_reachable(fleet_url, True)
        for _ in range(200):  # the stores reconnect on their next call
            again = await http.post(
                "/v1/chat/completions", json=CHAT, headers={**auth, "x-request-id": "after"}
            )
            if again.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert again.status_code == 200, again.text
    logged = logged_request_ids(fleet_url)
    assert "before" in logged
    assert "after" in logged
    assert "during" not in logged
