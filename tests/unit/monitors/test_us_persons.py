"""U.S.-person facts for authority rules: targeting, the identifiers, and selector hashing."""

from __future__ import annotations

from redline.domain import ChatRequest, Endpoint, Message
from redline.monitors import Monitors


def _request(text: str) -> ChatRequest:
    return ChatRequest(
        endpoint=Endpoint.CHAT, model="m", messages=(Message(role="user", text=text),)
    )


def test_tracking_a_us_phone_is_targeting_and_the_selector_covers_it(monitors: Monitors) -> None:
    targeted, digests = monitors.us_persons(_request("Track the phone (937) 555-0123 all week."))
    assert targeted
    assert len(digests) == 1
    assert monitors.selector_digests("phone 937.555.0123") == digests
    assert monitors.selector_digests("phone (614) 555-0199").isdisjoint(digests)


def test_naming_a_person_without_a_tracking_task_is_not_targeting(monitors: Monitors) -> None:
    targeted, digests = monitors.us_persons(_request("Call (937) 555-0123 about the convoy."))
    assert not targeted
    assert len(digests) == 1  # still checked against a cited authority's scope
    assert monitors.us_persons(_request("Call (937) 555-0123."), scope=False) == (
        False,
        frozenset(),
    )


def test_foreign_identifiers_are_not_us_persons(monitors: Monitors) -> None:
    targeted, digests = monitors.us_persons(_request("Track the phone +44 20 7946 0958."))
    assert (targeted, digests) == (False, frozenset())
