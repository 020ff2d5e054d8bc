"""The fleet's PostgreSQL key store and review queue, against a real database."""

from __future__ import annotations

import asyncio

from redline.errors import InvalidTransition
from redline.policy.model import RuleKind
from redline.review import BodyCipher, ReviewService, ReviewState
from redline.review.postgres import PostgresReviewQueue
from redline.store.postgres_keys import PostgresKeyStore
from tests.unit.review.fakes import DECISION, REQUESTER, T0, RecordingAudit, principal

KEY = b"k" * 32
BODY = b'{"model":"m","messages":[{"role":"user","content":"hello"}]}'


async def test_keys_are_shared_and_revocation_is_seen_by_every_store(fleet_url: str) -> None:
    one, two = PostgresKeyStore(fleet_url), PostgresKeyStore(fleet_url)
    try:
        issued = one.create(tenant="acme", roles=frozenset({"admin"}), clearance="S")
        found = await two.lookup(issued.key.key_id)
        assert found == issued.key
        assert [k.key_id for k in two.list(tenant="acme")] == [issued.key.key_id]
        assert two.revoke(issued.key.key_id)
        assert not one.revoke(issued.key.key_id)
        again = one.get(issued.key.key_id)
        assert again is not None
        assert again.revoked_at is not None
        assert await one.lookup("nope") is None
    finally:
        one.close()
        two.close()


async def test_a_held_item_is_decided_once_across_replicas(fleet_url: str) -> None:
    audit = RecordingAudit()
    queues = [PostgresReviewQueue(fleet_url) for _ in range(3)]
    services = [ReviewService(q, cipher=BodyCipher(KEY), audit=audit) for q in queues]
    try:
        item = await services[0].submit(
            request_id="req_1",
            principal=REQUESTER,
            label_banner="SECRET//NOFORN",
            request_body=BODY,
            decision=DECISION,
            kind=RuleKind.REVIEW,
            approvals_required=1,
            expires_after_s=600,
            now=T0,
        )
        for svc in services:  # visible everywhere, body readable with the fleet's key
            listed = await svc.list_for(principal("key:r0", clearance="S"), T0)
            assert [i.id for i in listed] == [item.id]
            assert await svc.request_body_for(listed[0]) == BODY
        results = await asyncio.gather(
            *(
                svc.decide(item.id, principal(f"key:r{i}", clearance="S"), approve=i == 0,
                           rationale="r", now=T0)
                for i, svc in enumerate(services)
            ),
            return_exceptions=True,
        )  # fmt: skip
        winners = [r for r in results if not isinstance(r, BaseException)]
        assert len(winners) == 1
        assert all(isinstance(r, InvalidTransition) for r in results if r not in winners)
        stored = await queues[2].get(item.id)
        assert stored is not None
        assert stored.state is not ReviewState.PENDING
        assert await queues[1].pending() == []
    finally:
        for queue in queues:
            queue.close()
