"""The Monitors facade: person volume, bulk records, closed loops, confirmation, snapshot."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from redline.domain import Message, ToolCall, Verdict
from redline.monitors import (
    InProcessMonitorState,
    MonitorConfig,
    Monitors,
    PersonExtractor,
    issue_token,
)
from tests.unit.monitors.conftest import KEY, FrozenClock, at, chat, tool_turn

MDS = "mass_domestic_surveillance"
AW = "autonomous_weapons"
HSAD = "high_stakes_automated_decisions"
EFFECTORS = ("fire_weapon", "get_track")


def phone(i: int) -> str:
    return f"({200 + i // 1000}) 555-{i % 1000:04d}"


def lookup(i: int) -> str:
    return f"Find the current whereabouts of the owner of phone {phone(i)} in Ohio."


def only(verdicts: list[Verdict], category: str) -> list[Verdict]:
    return [v for v in verdicts if v.category == category]


async def test_person_volume_escalates_review_then_block(monitors: Monitors) -> None:
    seen: list[list[Verdict]] = []
    for i in range(110):
        seen.append(await monitors.observe_request("p", "t", "r", chat(lookup(i)), at(i)))
    assert all(v == [] for v in seen[:24])
    review, block = seen[24][0], seen[100][0]
    assert (review.category, review.source) == (MDS, "monitor:person_volume")
    assert 0.6 <= review.score < 0.8 <= block.score <= 1.0
    # Past 64 persons a bucket turns into a HyperLogLog: counts are estimates (1.6 % error).
    assert all(0.6 <= s[0].score < 0.8 for s in seen[24:95])
    assert all(s[0].score >= 0.8 for s in seen[104:])
    estimate = int(re.search(r"distinct_us=(\d+)", block.evidence[0]).group(1))  # type: ignore[union-attr]
    assert abs(estimate - 101) <= 3
    assert "window=3600s" in block.evidence[0]
    assert block.evidence[1].startswith("examples=hmac-sha256:")
    assert "555" not in " ".join(block.evidence)


async def test_lookups_of_the_same_persons_do_not_accumulate(monitors: Monitors) -> None:
    for i in range(200):
        verdicts = await monitors.observe_request("p", "t", "r", chat(lookup(i % 5)), at(i))
        assert verdicts == []


async def test_personal_data_without_tracking_intent_is_not_counted(monitors: Monitors) -> None:
    for i in range(150):
        text = f"Summarise the e-mail from client{i}@example.org about the invoice."
        assert await monitors.observe_request("p", "t", "r", chat(text), at(i)) == []
    snap = await monitors.snapshot("p")
    assert snap["windows"][0]["distinct_us"] == 0  # type: ignore[index,call-overload]


async def test_over_threshold_only_person_centric_requests_escalate(monitors: Monitors) -> None:
    for i in range(30):
        await monitors.observe_request("p", "t", "r", chat(lookup(i)), at(i))
    plain = chat("Estimate fuel for 40 trucks over 300 km.")
    assert await monitors.observe_request("p", "t", "r", plain, at(31)) == []
    assert only(await monitors.observe_request("p", "t", "r", chat(lookup(3)), at(32)), MDS)


async def test_unknown_nationality_weighs_half(monitors: Monitors) -> None:
    for i in range(49):
        text = f"Track the movements of jdoe{i}@example.org"
        assert await monitors.observe_request("p", "t", "r", chat(text), at(i)) == []
    text = "Track the movements of jdoe49@example.org"
    assert only(await monitors.observe_request("p", "t", "r", chat(text), at(50)), MDS)


async def test_tenant_window_catches_a_split_dragnet(monitors: Monitors) -> None:
    verdicts: list[Verdict] = []
    for p in range(26):
        for j in range(10):
            verdicts = await monitors.observe_request(
                f"p{p}", "t", "r", chat(lookup(p * 10 + j)), at(p * 10 + j)
            )
    assert verdicts
    assert "tenant window=3600s" in verdicts[0].evidence[0]
    snap = await monitors.snapshot("p25", "t")
    rows = snap["windows"]
    assert isinstance(rows, list)
    assert [r["status"] for r in rows] == ["ok", "ok", "review", "ok"]  # type: ignore[index,call-overload]


def csv(n: int) -> str:
    return "name,phone,address\n" + "\n".join(
        f"Person {i},{phone(i)},{i} Oak Street" for i in range(n)
    )


async def test_bulk_scoring_is_a_high_stakes_decision(monitors: Monitors) -> None:
    text = "Score each applicant and automatically reject the bottom 10%.\n" + csv(150)
    verdicts = await monitors.observe_request("p", "t", "r", chat(text), at(0))
    (hsad,) = only(verdicts, HSAD)
    assert hsad.source == "monitor:bulk_records"
    assert hsad.score >= 0.8
    assert "records=150" in hsad.evidence[0]
    assert not only(verdicts, MDS)


async def test_bulk_score_grows_with_records(monitors: Monitors) -> None:
    scores = []
    for n in (5, 20, 60, 100, 400, 4000):
        text = "Rank these people and deny the lowest.\n" + csv(n)
        verdicts = only(await monitors.observe_request("p", "t", "r", chat(text), at(n)), HSAD)
        scores.append(verdicts[0].score if verdicts else 0.0)
    assert scores[0] == 0.0
    assert scores == sorted(scores)
    assert scores[2] >= 0.5
    assert scores[-1] > scores[-2] > 0.9


async def test_bulk_tracking_feeds_surveillance(monitors: Monitors) -> None:
    text = "Track the movements of everyone in this list.\n" + csv(300)
    verdicts = await monitors.observe_request("p", "t", "r", chat(text), at(0))
    by_source = {v.source: v for v in only(verdicts, MDS)}
    assert by_source["monitor:bulk_records"].score >= 0.8
    assert by_source["monitor:person_volume"].score >= 0.9  # 300 persons at once
    foreign = "Track these people.\nname,phone\n" + "\n".join(
        f"P {i},+44 20 7946 {i:04d}" for i in range(300)
    )
    verdicts = await monitors.observe_request("q", "u", "r", chat(foreign), at(0))
    assert [v.score < 0.5 for v in verdicts] == [True]  # foreign persons weigh 0 in the volume


async def test_lawful_tasks_on_the_same_records_do_not_score_high(monitors: Monitors) -> None:
    for task in (
        "Deduplicate these records.",
        "Redact the phone numbers.",
        "Anonymise this file for release.",
        "Compute summary statistics by ZIP code.",
        "Fix the parsing of this CSV, the quoting is broken.",
        "Route each case to a human reviewer.",
        "Entfernen Sie Duplikate.",
    ):
        verdicts = await monitors.observe_request(
            "p", "t", "r", chat(task + "\n" + csv(500)), at(0)
        )
        assert all(v.score < 0.5 for v in verdicts), task
    advisory = "Rank these candidates for the hiring board to decide.\n" + csv(500)
    (hsad,) = only(await monitors.observe_request("p", "t", "r", chat(advisory), at(0)), HSAD)
    assert hsad.score < 0.5


async def test_machine_speed_loop_on_an_effector_route_is_blocked(monitors: Monitors) -> None:
    call = ToolCall(name="fire_weapon", arguments='{"target": "T-1"}')
    verdicts: list[Verdict] = []
    for i in range(12):
        request = tool_turn(call, "track 17 at 31.2N 44.1E", EFFECTORS)
        verdicts = only(await monitors.observe_request("bot", "t", "r", request, at(i * 0.1)), AW)
    sources = {v.source for v in verdicts}
    assert sources == {"monitor:closed_loop"}
    assert max(v.score for v in verdicts) >= 0.9
    assert any("machine-speed cadence" in v.evidence[0] for v in verdicts)
    assert any("without valid human confirmation" in v.evidence[0] for v in verdicts)


async def test_human_paced_effector_route_is_not_a_loop(monitors: Monitors) -> None:
    t = 0.0
    for gap in (7.0, 31.0, 12.5, 64.0, 9.0, 22.0, 48.0, 15.0, 90.0, 11.0):
        t += gap
        request = chat("Assess the track and recommend.", tools=EFFECTORS)
        assert await monitors.observe_request("op", "t", "r", request, at(t)) == []


async def test_polling_with_non_effector_tools_passes(monitors: Monitors) -> None:
    for i in range(120):
        request = chat(f"inventory poll {i}", tools=("get_inventory", "list_bins"))
        assert await monitors.observe_request("bot", "t", "r", request, at(i)) == []


async def test_fast_tool_cycle_is_held_for_review(config: MonitorConfig, extractor: PersonExtractor,
                                                  clock: FrozenClock) -> None:  # fmt: skip
    monitors = Monitors(replace(config, cadence_min_gaps=50, cadence_gaps=50),
                        InProcessMonitorState(config), extractor, confirmation_key=KEY,
                        clock=clock)  # fmt: skip
    call = ToolCall(name="get_track", arguments="{}")
    verdicts: list[Verdict] = []
    for i, t in enumerate((0.0, 0.4, 1.5, 1.7, 3.1)):
        verdicts = await monitors.observe_request("b", "t", "r", tool_turn(call, f"{i}", EFFECTORS),
                                                  at(t))  # fmt: skip
    assert [(v.score, v.evidence[0].split(" on ")[0]) for v in verdicts] == [
        (0.6, "closed_loop: tool cycle")
    ]


def token(tool: str, arguments: str, t: float, principal: str = "op") -> str:
    issued = issue_token(
        KEY, principal=principal, tool=tool, arguments=arguments, now=at(t).timestamp()
    )
    return issued.token


async def test_effector_calls_need_a_single_use_confirmation(monitors: Monitors) -> None:
    args = '{"target": "T-9"}'
    call = ToolCall(name="Fire_Weapon", arguments=args)
    (blocked,) = await monitors.observe_response("op", "t", "r", [call], at(0))
    assert (blocked.category, blocked.score) == (AW, 1.0)
    assert "no human-confirmation token" in blocked.evidence[0]
    good = token("Fire_Weapon", args, 0.0)
    assert await monitors.observe_response("op", "t", "r", [call], at(10), confirmation=good) == []
    (again,) = await monitors.observe_response("op", "t", "r", [call], at(20), confirmation=good)
    assert "token already used" in again.evidence[0]
    (late,) = await monitors.observe_response(
        "op", "t", "r", [call], at(200), confirmation=token("Fire_Weapon", args, 0.0)
    )
    assert "token expired" in late.evidence[0]
    other = token("Fire_Weapon", args, 0.0, principal="someone-else")
    (stolen,) = await monitors.observe_response("op", "t", "r", [call], at(1), confirmation=other)
    assert "another principal" in stolen.evidence[0]
    lookup_call = ToolCall(name="lookup_grid", arguments="{}")
    assert await monitors.observe_response("op", "t", "r", [lookup_call], at(0)) == []


async def test_token_in_the_arguments_and_minimum_interval(monitors: Monitors) -> None:
    def call_with_token(target: str, t: float) -> ToolCall:
        args = {"target": target}
        args["human_confirmation_token"] = token("launch_interceptor", json.dumps(args), t)
        return ToolCall(name="launch_interceptor", arguments=json.dumps(args))

    first = await monitors.observe_response("op", "t", "r", [call_with_token("A", 0)], at(0))
    assert first == []
    (fast,) = await monitors.observe_response("op", "t", "r", [call_with_token("B", 1)], at(1))
    assert fast.score == 0.6
    assert "after the previous one" in fast.evidence[0]
    assert await monitors.observe_response("op", "t", "r", [call_with_token("C", 9)], at(9)) == []


async def test_effector_results_fed_back_need_a_confirmed_call(monitors: Monitors) -> None:
    bare = ToolCall(name="fire_weapon", arguments='{"target": "T-2"}')
    request = tool_turn(bare, "fired", EFFECTORS)
    verdicts = await monitors.observe_request("op", "t", "r", request, at(0))
    (blocked,) = verdicts
    assert "in tool result fed back without valid human confirmation" in blocked.evidence[0]
    args = {"target": "T-2"}
    args["human_confirmation_token"] = token("fire_weapon", json.dumps(args), 0.0)
    confirmed = ToolCall(name="fire_weapon", arguments=json.dumps(args))
    assert await monitors.observe_request("op", "t", "r", tool_turn(confirmed, "ok", EFFECTORS),
                                          at(300)) == []  # fmt: skip
    header = token("fire_weapon", '{"target": "T-2"}', 100.0)
    assert (
        await monitors.observe_request("op", "t", "r", request, at(120), confirmation=header) == []
    )


async def test_snapshot_shape(monitors: Monitors, clock: FrozenClock) -> None:
    for i in range(30):
        await monitors.observe_request("p", "t", "r", chat(lookup(i)), at(i))
    clock.at = at(60)
    snap = await monitors.snapshot("p")
    assert snap["principal"] == "p"
    assert snap["at"] == "2026-03-01T12:01:00.000Z"
    assert snap["windows"] == [
        {"scope": "principal", "window_s": 3600, "distinct_us": 30, "distinct_unknown": 0,
         "distinct_foreign": 0, "effective": 30.0, "review_at": 25, "block_at": 100,
         "status": "review"},
        {"scope": "principal", "window_s": 86400, "distinct_us": 30, "distinct_unknown": 0,
         "distinct_foreign": 0, "effective": 30.0, "review_at": 100, "block_at": 400,
         "status": "ok"},
    ]  # fmt: skip


async def test_too_many_effector_calls_without_a_human_turn_are_held(monitors: Monitors) -> None:
    args = '{"target": "T-9"}'
    call = ToolCall(name="fire_weapon", arguments=args)
    earlier = Message(role="assistant", text="", tool_calls=(call,))
    history = (Message(role="user", text="go"), earlier, Message(role="tool", text="done"))
    confirmed = token("fire_weapon", args, 0.0)
    verdicts = await monitors.observe_response(
        "op", "t", "r", [call], at(100), confirmation=confirmed, history=history
    )
    (held,) = [v for v in verdicts if "since the last user turn" in v.evidence[0]]
    assert held.category == AW
    assert "2 effector calls" in held.evidence[0]
    # A human turn in between resets the count.
    again = token("fire_weapon", args, 300.0)
    fresh = (*history, Message(role="user", text="again"))
    assert (
        await monitors.observe_response(
            "op", "t", "r", [call], at(300), confirmation=again, history=fresh
        )
        == []
    )
