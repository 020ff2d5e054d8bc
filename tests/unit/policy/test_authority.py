"""Authority rules and purposes: parsed strictly, tightened only, combined by ``decide``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.domain import Action, AuthorityRef, Declared, OversightFacts, Verdict
from redline.errors import PolicyError
from redline.policy import Policy, decide, load_policy, to_toml
from redline.policy.model import SEVERITY

SURVEILLANCE = "mass_domestic_surveillance"
RULE = b"""
[[authority.rules]]
id = "usp"
category = "mass_domestic_surveillance"
models = ["gpt-*"]
allowed_types = ["fisa-order", "warrant", "eo12333-procedure"]
missing = "review"
"""


@pytest.fixture(scope="module")
def floor_with_rule(floor_bytes: bytes) -> bytes:
    return floor_bytes + RULE


def facts(
    *types: str,
    us: bool = True,
    purpose: str = "",
    model: str = "gpt-4",
    problems: tuple[str, ...] = (),
) -> OversightFacts:
    refs = tuple(AuthorityRef(type=t, id="X") for t in types)
    return OversightFacts(
        declared=Declared(purpose=purpose, authorities=refs),
        model=model,
        us_person=us,
        valid_types=frozenset(types),
        problems=problems,
    )


def test_the_floor_forbids_domestic_law_enforcement(floor: Policy) -> None:
    d = decide(floor, [], oversight=facts(us=False, purpose="domestic-law-enforcement"))
    assert (d.action, d.categories, d.clauses) == (Action.BLOCK, (), ("C7",))
    assert d.notes == ("purpose 'domestic-law-enforcement' is never allowed",)


def test_a_purpose_the_policy_does_not_define_is_blocked(floor: Policy) -> None:
    d = decide(floor, [], oversight=facts(us=False, purpose="curiosity"))
    assert d.action is Action.BLOCK
    assert "not defined by the policy" in d.reason


def test_a_defined_purpose_changes_nothing(floor: Policy) -> None:
    assert decide(floor, [], oversight=facts(us=False, purpose="logistics")).action is Action.ALLOW


def test_rule_applies_only_to_its_routes_and_to_us_person_targeting(floor_with_rule: bytes) -> None:
    policy = load_policy(floor_with_rule)
    assert decide(policy, [], oversight=facts()).action is Action.REVIEW
    assert decide(policy, [], oversight=facts(model="llama")).action is Action.ALLOW
    assert decide(policy, [], oversight=facts(us=False)).action is Action.ALLOW
    assert decide(policy, [], oversight=facts("warrant")).action is Action.ALLOW
    assert decide(policy, [], oversight=facts("statute")).action is Action.REVIEW


def test_min_score_triggers_the_rule_from_screening(floor_bytes: bytes) -> None:
    policy = load_policy(floor_bytes + RULE.replace(b'missing = "review"', b"min_score = 0.2"))
    low = [Verdict(category=SURVEILLANCE, score=0.1, source="clf")]
    high = [Verdict(category=SURVEILLANCE, score=0.3, source="clf")]
    assert decide(policy, low, oversight=facts(us=False)).action is Action.ALLOW
    d = decide(policy, high, oversight=facts(us=False))
    assert (d.action, d.categories) == (Action.BLOCK, (SURVEILLANCE,))
    assert d.reason.startswith("block: authority rule usp")  # no score claim below threshold


def test_a_screening_block_is_never_lowered_by_an_authority(floor_with_rule: bytes) -> None:
    policy = load_policy(floor_with_rule)
    d = decide(
        policy,
        [Verdict(category=SURVEILLANCE, score=0.9, source="clf")],
        oversight=facts("fisa-order"),
    )
    assert d.action is Action.BLOCK


def test_unconfirmed_authorities_block(floor: Policy) -> None:
    d = decide(floor, [], oversight=facts(us=False, problems=("warrant:X: expired",)))
    assert d.action is Action.BLOCK
    assert d.notes == ("authority not confirmed: warrant:X: expired",)


def test_no_oversight_facts_is_the_old_rule(floor_with_rule: bytes) -> None:
    policy = load_policy(floor_with_rule)
    assert decide(policy, []).action is Action.ALLOW


def test_the_effective_policy_prints_as_a_policy_file_that_loads_to_the_same_hash(
    floor_with_rule: bytes,
) -> None:
    policy = load_policy(floor_with_rule)
    printed = to_toml(policy).encode()
    again = load_policy(printed)
    assert again.authority == policy.authority


def _overlay(**fields: object) -> bytes:
    lines = ["schema_version = 1", "[[authority.rules]]", 'id = "usp"']
    for key, value in fields.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        elif isinstance(value, float):
            lines.append(f"{key} = {value}")
        else:
            items = ", ".join(f'"{v}"' for v in value)  # type: ignore[attr-defined]
            lines.append(f"{key} = [{items}]")
    return ("\n".join(lines) + "\n").encode()


TYPES = ["fisa-order", "warrant", "eo12333-procedure", "statute"]


@given(
    types=st.none() | st.lists(st.sampled_from(TYPES), unique=True),
    missing=st.none() | st.sampled_from(["block", "review"]),
    verify=st.none() | st.booleans(),
    min_score=st.none() | st.floats(min_value=0.0, max_value=1.0),
    us=st.booleans(),
    cited=st.lists(st.sampled_from(TYPES), unique=True, max_size=2),
    score=st.floats(min_value=0.0, max_value=0.49),
)
def test_an_overlay_never_loosens_a_floor_authority_rule(
    floor_with_rule: bytes,
    types: list[str] | None,
    missing: str | None,
    verify: bool | None,
    min_score: float | None,
    us: bool,
    cited: list[str],
    score: float,
) -> None:
    """Whatever an overlay restates, it either fails to load or decides at least as
    severely as the floor alone, for every request."""
    fields: dict[str, object] = {}
    if types is not None:
        fields["allowed_types"] = types
    if missing is not None:
        fields["missing"] = missing
    if verify is not None:
        fields["verify"] = verify
    if min_score is not None:
        fields["min_score"] = min_score
    base = load_policy(floor_with_rule)
    try:
        tightened = load_policy(floor_with_rule, _overlay(**fields))
    except PolicyError:
        return
    verdicts = [Verdict(category=SURVEILLANCE, score=score, source="clf")]
    f = facts(*cited, us=us)
    before = decide(base, verdicts, oversight=f).action
    after = decide(tightened, verdicts, oversight=f).action
    assert SEVERITY[after] >= SEVERITY[before]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"allowed_types": ["fisa-order", "court-letter"]}, "cannot add authority type"),
        ({"missing": "review", "verify": False, "category": "autonomous_weapons"}, "category"),
        ({"models": ["*"]}, "cannot change the models"),
        ({"allowed_types": []}, "at least one authority type"),
    ],
)
def test_loosening_a_floor_rule_is_refused_with_the_key(
    floor_bytes: bytes, fields: dict[str, object], message: str
) -> None:
    floor = floor_bytes + RULE.replace(b'missing = "review"', b'missing = "block"\nverify = true')
    with pytest.raises(PolicyError, match=message):
        load_policy(floor, _overlay(**fields))
    with pytest.raises(PolicyError, match="cannot weaken missing"):
        load_policy(floor, _overlay(missing="review"))
    with pytest.raises(PolicyError, match="cannot turn off verification"):
        load_policy(floor, _overlay(verify=False))


def test_an_overlay_cannot_allow_a_floor_forbidden_purpose(floor_bytes: bytes) -> None:
    overlay = b'schema_version = 1\n[authority]\npurposes = ["domestic-law-enforcement"]\n'
    policy = load_policy(floor_bytes, overlay)
    assert "domestic-law-enforcement" not in policy.authority.purposes
    d = decide(policy, [], oversight=facts(us=False, purpose="domestic-law-enforcement"))
    assert d.action is Action.BLOCK
