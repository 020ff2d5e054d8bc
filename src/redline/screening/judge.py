"""Optional tier 3: a policy-conditioned LLM judge for borderline scores (off by default).

When the policy enables it, a conversation whose highest red-line score falls in
``[min_score, max_score)`` is sent to the judge model over any OpenAI-compatible upstream
with the policy's own category definitions and clauses, and the judge answers with a
probability per category as JSON. Its verdicts join the classifier's and ``decide`` takes
the maximum per category, so the judge can only escalate, never relax. A judge that fails,
times out or answers malformed JSON yields an error, which ``decide`` turns into the
route's fail-closed action.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import orjson

from redline.domain import Endpoint, JSONObject, Message, Verdict
from redline.errors import ClassifierError, GatewayError
from redline.policy import Policy
from redline.upstream.base import Upstream

__all__ = ["judge_prompt", "run_judge", "should_judge"]

_MAX_CONVERSATION_CHARS = 12_000


def should_judge(policy: Policy, scores: Mapping[str, float]) -> bool:
    """Whether the policy wants the judge for these scores."""
    judge = policy.judge
    if not judge.enabled or not scores:
        return False
    return judge.min_score <= max(scores.values()) < judge.max_score


def judge_prompt(policy: Policy, messages: Sequence[Message]) -> JSONObject:
    """The chat request sent to the judge: definitions and clauses, then the conversation."""
    lines = [
        "You are a compliance judge for a deployment agreement. For each category below, give "
        "the probability (0 to 1) that the conversation's final turn asks for, or the system "
        "would deliver, what the category prohibits. Lawful defense and intelligence work that "
        "does not meet a definition must score low. Answer with one JSON object mapping each "
        "category id to a number, and nothing else.",
        "",
    ]
    for category in policy.categories:
        clauses = "; ".join(f"{c.id}: {c.text}" for c in policy.clauses_for((category.id,)))
        lines.append(f"- {category.id}: {category.definition} (clauses: {clauses})")
    transcript = "\n".join(f"[{m.role}] {m.text}" for m in messages)[-_MAX_CONVERSATION_CHARS:]
    return {
        "model": policy.judge.model,
        "temperature": 0,
        "messages": [
            {"role": "system", "content": "\n".join(lines)},
            {"role": "user", "content": "Conversation to judge:\n" + transcript},
        ],
    }


async def run_judge(
    policy: Policy, upstream: Upstream, messages: Sequence[Message]
) -> list[Verdict]:
    """Ask the judge; its probabilities as verdicts (source ``judge``).

    Raises:
        ClassifierError: the judge failed, timed out or answered something unusable.
    """
    try:
        async with asyncio.timeout(policy.judge.timeout_s):
            reply = await upstream.complete(Endpoint.CHAT, judge_prompt(policy, messages))
    except TimeoutError:
        raise ClassifierError("LLM judge timed out") from None
    except GatewayError as exc:
        raise ClassifierError(f"LLM judge failed: {type(exc).__name__}") from exc
    try:
        content = orjson.loads(reply.body)["choices"][0]["message"]["content"]
        start, end = content.index("{"), content.rindex("}") + 1
        answer = orjson.loads(content[start:end])
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError):
        raise ClassifierError("LLM judge answered no usable JSON") from None
    known = {c.id for c in policy.categories}
    verdicts = []
    for category, value in answer.items() if isinstance(answer, dict) else []:
        if category in known and isinstance(value, int | float) and not isinstance(value, bool):
            verdicts.append(
                Verdict(category=category, score=min(1.0, max(0.0, float(value))), source="judge")
            )
    if not verdicts:
        raise ClassifierError("LLM judge scored no known category")
    return verdicts
