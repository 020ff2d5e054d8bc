"""Declared purpose, authorities and case: headers and the OpenAI ``metadata`` object."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.domain import AuthorityRef, Declared, Endpoint
from redline.errors import MetadataError
from redline.wire import MAX_AUTHORITIES, parse_declared

P, A, C = "x-redline-purpose", "x-redline-authority", "x-redline-case"


def test_nothing_declared_is_empty() -> None:
    assert parse_declared({}, {"model": "m"}) == Declared()


def test_headers_repeated_and_comma_separated_are_one_ordered_set() -> None:
    declared = parse_declared(
        {P: ["foreign-intelligence"], A: ["fisa-order:1, warrant:W-2", "fisa-order:1"], C: ["R-9"]},
        {},
    )
    assert declared == Declared(
        purpose="foreign-intelligence",
        authorities=(
            AuthorityRef(type="fisa-order", id="1"),
            AuthorityRef(type="warrant", id="W-2"),
        ),
        case="R-9",
    )


def test_metadata_keys_join_the_headers() -> None:
    body = {"metadata": {A: "eo12333-procedure:DoDM-5240.01", P: "counterintelligence"}}
    declared = parse_declared({A: ["warrant:W-2"]}, body)  # type: ignore[arg-type]
    assert [str(a) for a in declared.authorities] == [
        "warrant:W-2",
        "eo12333-procedure:DoDM-5240.01",
    ]
    assert declared.purpose == "counterintelligence"


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({A: ["fisa-order"]}, {}),
        ({A: [":id"]}, {}),
        ({A: ["FISA:1"]}, {}),
        ({A: ["warrant:has space"]}, {}),
        ({A: ["warrant:1,,warrant:2"]}, {}),
        ({P: ["logistics", "training"]}, {}),
        ({P: ["logistics"]}, {"metadata": {P: "training"}}),
        ({P: ["Logistics"]}, {}),
        ({C: ["a b"]}, {}),
        ({}, {"metadata": {A: 7}}),
    ],
)
def test_malformed_or_conflicting_metadata_is_refused(
    headers: dict[str, list[str]], body: dict[str, object]
) -> None:
    with pytest.raises(MetadataError):
        parse_declared(headers, body)  # type: ignore[arg-type]


def test_too_many_authorities_are_refused() -> None:
    refs = ",".join(f"warrant:{i}" for i in range(MAX_AUTHORITIES + 1))
    with pytest.raises(MetadataError, match="at most"):
        parse_declared({A: [refs]}, {})


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True),
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,8}", fullmatch=True),
        ),
        min_size=1,
        max_size=MAX_AUTHORITIES,
        unique=True,
    )
)
def test_every_well_formed_reference_round_trips(refs: list[tuple[str, str]]) -> None:
    header = ", ".join(f"{t}:{i}" for t, i in refs)
    declared = parse_declared({A: [header]}, {})
    assert [(a.type, a.id) for a in declared.authorities] == refs


def test_a_held_request_keeps_what_it_declared() -> None:
    from redline.wire import held_bytes, held_declared, parse_held, parse_request

    request = parse_request(
        Endpoint.CHAT, b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'
    )
    declared = Declared(
        purpose="counterintelligence",
        authorities=(AuthorityRef(type="warrant", id="W-1"), AuthorityRef(type="statute", id="S")),
        case="CASE-7",
    )
    held = held_bytes(request, declared)
    assert held_declared(held) == declared
    assert parse_held(held).body == request.body
    assert held_bytes(request, Declared()) == held_bytes(request)  # nothing declared
    assert held_declared(held_bytes(request)) == Declared()
