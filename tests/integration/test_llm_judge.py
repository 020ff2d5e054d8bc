"""The optional LLM-judge tier over a real OpenAI-compatible server: it can only escalate,
and a failing judge fails closed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from redline.domain import Action, Message
from redline.policy import Policy, decide, load_policy
from redline.policy.load import builtin_floor_bytes
from redline.service.screening import Screener
from redline.upstream import OpenAIHttpUpstream
from tests.conftest import MockUpstream

LAWFUL = (Message(role="user", text="Summarise what FISA Section 702 allows, with citations."),)


def judged_policy(model: str) -> Policy:
    overlay = f"""schema_version = 1
[judge]
enabled = true
model = "{model}"
min_score = 0.0
max_score = 1.0
timeout_s = 5.0
""".encode()
    return load_policy(builtin_floor_bytes(), overlay)


@pytest.fixture
async def upstream(mock_upstream: MockUpstream) -> AsyncIterator[OpenAIHttpUpstream]:
    client = OpenAIHttpUpstream(name="judge", base_url=mock_upstream.url + "/v1")
    yield client
    await client.aclose()


async def test_judge_verdicts_join_the_classifier(upstream: OpenAIHttpUpstream) -> None:
    policy = judged_policy("mock-judge")
    screener = Screener(judge_upstream=lambda model: upstream)
    result = await screener.screen(policy, LAWFUL)
    assert "judge" in result.tiers
    assert any(v.source == "judge" and v.score == 0.97 for v in result.verdicts)
    decision = decide(policy, result.verdicts, errors=result.errors)
    assert decision.action is Action.BLOCK  # the judge escalated; it can never relax
    assert decision.categories == ("autonomous_weapons",)


async def test_unusable_judge_answer_fails_closed(upstream: OpenAIHttpUpstream) -> None:
    policy = judged_policy("mock-judge-bad")
    screener = Screener(judge_upstream=lambda model: upstream)
    result = await screener.screen(policy, LAWFUL)
    assert result.errors
    assert screener.failures == 1
    assert decide(policy, result.verdicts, errors=result.errors).action is Action.BLOCK


async def test_judge_is_off_by_default(upstream: OpenAIHttpUpstream) -> None:
    policy = load_policy(builtin_floor_bytes())
    screener = Screener(judge_upstream=lambda model: upstream)
    result = await screener.screen(policy, LAWFUL)
    assert "judge" not in result.tiers
    assert decide(policy, result.verdicts, errors=result.errors).action is Action.ALLOW
