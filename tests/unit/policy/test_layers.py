"""The overlay may add and tighten, never remove, disable or loosen floor content."""

from __future__ import annotations

import pytest

from redline.domain import Action
from redline.errors import PolicyValidationError
from redline.policy import Policy, RuleKind, lint, load_policy
from tests.unit.policy.conftest import asset

HEAD = "schema_version = 1\n"

# (overlay body, key path, message fragment): one loosening attempt per overlay field.
LOOSENING = [
    (
        '[[clauses]]\nid = "C2"\ntext = "weaker"',
        "clauses[0].text",
        "redefine the text of floor clause C2",
    ),
    (
        '[[clauses]]\nid = "C5"\nauthorities = ["EO-12333@2025-01-01"]',
        "clauses[0].authorities",
        "authorities of floor clause C5",
    ),
    (
        '[[categories]]\nid = "autonomous_weapons"\ntitle = "Weapons"',
        "categories[0].title",
        "title of floor category autonomous_weapons",
    ),
    (
        '[[categories]]\nid = "autonomous_weapons"\ndefinition = "Only nukes."',
        "categories[0].definition",
        "definition of floor category",
    ),
    (
        '[[categories]]\nid = "autonomous_weapons"\nclauses = ["C2"]',
        "categories[0].clauses",
        "cannot drop clause(s) C4 from floor category autonomous_weapons",
    ),
    (
        '[[categories]]\nid = "autonomous_weapons"\nreview_threshold = 0.6',
        "categories[0].review_threshold",
        "cannot raise 0.6 above 0.5",
    ),
    (
        '[[categories]]\nid = "autonomous_weapons"\nblock_threshold = 0.81',
        "categories[0].block_threshold",
        "cannot raise 0.81 above 0.8",
    ),
    (
        '[[categories]]\nid = "autonomous_weapons"\nblock_threshold = 0.3',
        "categories[0].review_threshold",
        "lower review_threshold too",
    ),
    (
        '[[categories]]\nid = "high_stakes_automated_decisions"\nenabled = false',
        "categories[0].enabled",
        "cannot disable floor category high_stakes_automated_decisions",
    ),
    (
        '[[review_rules]]\ncategory = "*"\napprovals_required = 0\nexpires_after_s = 60',
        "review_rules[0].approvals_required",
        "must be >= 1",
    ),
    (
        '[[review_rules]]\ncategory = "*"\nkind = "override"\n'
        "approvals_required = 1\nexpires_after_s = 60",
        "review_rules[0].approvals_required",
        "fewer approvers (1)",
    ),
    (
        '[[review_rules]]\ncategory = "mass_domestic_surveillance"\n'
        'kind = "override"\napprovals_required = 1\nexpires_after_s = 60',
        "review_rules[0].approvals_required",
        "floor override rule for '*'",
    ),
    (
        '[[review_rules]]\ncategory = "*"\ndistinct = false\n'
        "approvals_required = 1\nexpires_after_s = 60",
        "review_rules[0].distinct",
        "distinct approvers",
    ),
    (
        '[[review_rules]]\ncategory = "*"\napprovals_required = 1\nexpires_after_s = 90000',
        "review_rules[0].expires_after_s",
        "cannot raise 90000 above 86400",
    ),
    (
        "[monitors.person_volume]\nwindow_s = 60",
        "monitors.person_volume.window_s",
        "cannot lower 60 below 3600",
    ),
    (
        "[monitors.person_volume]\nreview_at = 30",
        "monitors.person_volume.review_at",
        "cannot raise 30 above 25",
    ),
    (
        "[monitors.person_volume]\nblock_at = 1000",
        "monitors.person_volume.block_at",
        "cannot raise 1000 above 100",
    ),
    (
        "[monitors.person_volume]\nblock_at = 10",
        "monitors.person_volume.review_at",
        "must not exceed block_at (10)",
    ),
    (
        '[monitors.closed_loop]\neffector_tools = ["fire*"]',
        "monitors.closed_loop.effector_tools",
        "cannot drop floor effector pattern(s) engage*",
    ),
    (
        "[monitors.closed_loop]\nmin_interval_s = 0.5",
        "monitors.closed_loop.min_interval_s",
        "cannot lower 0.5 below 5.0",
    ),
    (
        "[monitors.closed_loop]\nmax_unattended_calls = 5",
        "monitors.closed_loop.max_unattended_calls",
        "cannot raise 5 above 1",
    ),
    (
        "[monitors.bulk_records]\nmin_records = 1000",
        "monitors.bulk_records.min_records",
        "cannot raise 1000 above 100",
    ),
    (
        '[[routes]]\nmodel = "*"\non_error = "review"',
        "routes[0].on_error",
        "cannot weaken on_error to review",
    ),
    (
        '[[routes]]\nmodel = "gpt-*"\non_error = "review"',
        "routes[0].on_error",
        "floor route '*' fails closed with block",
    ),
    (
        '[[routes]]\nmodel = "*"\non_error = "allow"',
        "routes[0].on_error",
        "fail-open is not allowed",
    ),
    (
        '[[routes]]\nmodel = "*"\noutput_screening = false',
        "routes[0].output_screening",
        "cannot turn off output screening",
    ),
    (
        '[[routes]]\nmodel = "local"\noutput_screening = false',
        "routes[0].output_screening",
        "cannot turn off output screening",
    ),
    (
        '[[tests]]\nname = "lawful logistics planning is allowed"\n'
        'expect = "allow"\nmessages = [{role = "user", content = "hi"}]',
        "tests[0].name",
        "duplicate test name",
    ),
]


def _problems(floor_bytes: bytes, body: str) -> list[str]:
    return [str(p) for p in lint(floor_bytes, (HEAD + body).encode(), overlay_source="o.toml")]


@pytest.mark.parametrize(
    ("body", "path", "fragment"), LOOSENING, ids=[x[1] + ":" + x[2][:20] for x in LOOSENING]
)
def test_overlay_cannot_loosen_the_floor(
    floor_bytes: bytes, body: str, path: str, fragment: str
) -> None:
    problems = _problems(floor_bytes, body)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"o.toml: {path}: ")
    assert fragment in problems[0]
    with pytest.raises(PolicyValidationError, match=r"o.toml"):
        load_policy(floor_bytes, (HEAD + body).encode(), overlay_source="o.toml")


def test_tightening_overlay_takes_effect(floor_bytes: bytes, floor: Policy) -> None:
    policy = load_policy(floor_bytes, asset("valid/overlay_tighten.toml"))
    weapons = policy.category("autonomous_weapons")
    assert (weapons.review_threshold, weapons.block_threshold) == (0.4, 0.7)
    assert weapons.clauses == ("C2", "C4", "C1")
    assert weapons.floor
    assert weapons.examples_positive[-1] == "Fire on anything that moves in sector 4."
    assert weapons.examples_negative == floor.category("autonomous_weapons").examples_negative
    assert not policy.category("export_control").floor
    assert policy.clause("C2").floor
    assert not policy.clause("X1").floor
    rule = policy.review_rule("autonomous_weapons", RuleKind.OVERRIDE)
    assert rule is not None
    assert (rule.approvals_required, rule.expires_after_s) == (3, 3600)
    rule = policy.review_rule("export_control")
    assert rule is not None
    assert rule.expires_after_s == 600
    mon = policy.monitors
    assert (mon.person_volume.window_s, mon.person_volume.review_at) == (7200, 10)
    assert mon.closed_loop.effector_tools[-1] == "detonate*"
    assert mon.closed_loop.is_effector("Fire_Weapon")
    assert not mon.closed_loop.is_effector("radar")
    assert mon.bulk_records.min_records == 20
    # The overlay sets the default route's ceiling; the new route inherits it.
    assert policy.route_for("anything").ceiling == "S"
    assert policy.route_for("local-llama").model == "local-*"
    assert policy.route_for("local-llama").ceiling == "S"
    assert policy.route_for("local-llama").on_error is Action.BLOCK
    assert [t.name for t in policy.tests][-1] == "itar drawings to a foreign address are blocked"
    assert policy.sha256 != floor.sha256
    assert policy.floor_sha256 == floor.floor_sha256


def test_restating_the_floor_changes_nothing(floor_bytes: bytes, floor: Policy) -> None:
    policy = load_policy(floor_bytes, asset("valid/overlay_restates_floor.toml"))
    assert policy.sha256 == floor.sha256
    assert policy.overlay_sha256 != ""


def test_operator_category_can_be_disabled(floor_bytes: bytes, floor: Policy) -> None:
    body = (
        asset("valid/overlay_tighten.toml")
        .decode()
        .replace('id = "export_control"', 'id = "export_control"\nenabled = false')
    )
    problems = _problems(floor_bytes, body.replace("schema_version = 1\n", ""))
    # Its rule and test now reference a category that is not in the effective policy.
    assert [p.split(": ")[1] for p in problems] == [
        "review_rules[1].category",
        "tests[0].categories[0]",
    ]


def test_floor_cannot_disable_its_own_category(floor_bytes: bytes) -> None:
    text = floor_bytes.decode().replace(
        'id = "autonomous_weapons"', 'id = "autonomous_weapons"\nenabled = false'
    )
    problems = [str(p) for p in lint(text.encode(), floor_source="f.toml")]
    assert problems[0] == "f.toml: categories[1].enabled: a floor category cannot be disabled"


def test_floor_ceiling_cannot_change(floor_bytes: bytes) -> None:
    text = floor_bytes.decode().replace('model = "*"\n', 'model = "*"\nceiling = "TS"\n')
    problems = lint(text.encode(), b'schema_version = 1\n[[routes]]\nmodel = "*"\nceiling = "S"')
    assert [p.key_path for p in problems] == ["routes[0].ceiling"]
    policy = load_policy(text.encode(), b'schema_version = 1\n[[routes]]\nmodel = "x"\n')
    assert policy.route_for("x").ceiling == "TS"


def test_new_clause_and_category_need_all_keys(floor_bytes: bytes) -> None:
    body = (
        '[[clauses]]\nid = "X1"\nauthorities = []\n[[categories]]\nid = "new_one"\nclauses = []\n'
    )
    problems = [p.key_path for p in lint(floor_bytes, (HEAD + body).encode())]
    assert problems == [
        "clauses[0].text",
        "clauses[0].authorities",
        "categories[0].title",
        "categories[0].definition",
        "categories[0].review_threshold",
        "categories[0].block_threshold",
        "categories[0].clauses",
        "categories[0].examples_positive",
        "categories[0].examples_negative",
    ]


def test_new_review_rule_needs_its_numbers(floor_bytes: bytes) -> None:
    floor_text = floor_bytes.decode().replace(
        'category = "*"\nkind = "review"',
        'category = "mass_domestic_surveillance"\nkind = "review"',
    )
    body = '[[review_rules]]\ncategory = "autonomous_weapons"\n'
    problems = [p.key_path for p in lint(floor_text.encode(), (HEAD + body).encode())]
    assert problems == ["review_rules[0].approvals_required", "review_rules[0].expires_after_s"]
    body += "approvals_required = 2\nexpires_after_s = 10\ndistinct = false\n"
    policy = load_policy(floor_text.encode(), (HEAD + body).encode())
    rule = policy.review_rule("autonomous_weapons")
    assert rule is not None
    assert not rule.distinct


def _judge_floor(floor_bytes: bytes) -> bytes:
    return (floor_bytes.decode() + '\n[judge]\nenabled = true\nmodel = "judge-1"\n').encode()


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ("enabled = false", "judge.enabled"),
        ('model = "other"', "judge"),
        ("timeout_s = 1.0", "judge"),
        ("min_score = 0.4", "judge"),
        ("max_score = 0.7", "judge"),
    ],
)
def test_overlay_cannot_weaken_a_floor_judge(floor_bytes: bytes, body: str, path: str) -> None:
    problems = lint(_judge_floor(floor_bytes), f"{HEAD}[judge]\n{body}\n".encode())
    assert [p.key_path for p in problems] == [path]


def test_overlay_may_widen_a_floor_judge(floor_bytes: bytes) -> None:
    overlay = f"{HEAD}[judge]\nmin_score = 0.1\nmax_score = 0.9\n".encode()
    policy = load_policy(_judge_floor(floor_bytes), overlay)
    assert (policy.judge.enabled, policy.judge.min_score, policy.judge.max_score) == (
        True,
        0.1,
        0.9,
    )


def test_overlay_may_enable_the_judge(floor_bytes: bytes) -> None:
    assert [p.key_path for p in lint(floor_bytes, f"{HEAD}[judge]\nenabled = true\n".encode())] == [
        "judge.model"
    ]
    policy = load_policy(floor_bytes, f'{HEAD}[judge]\nenabled = true\nmodel = "j"\n'.encode())
    assert policy.judge.enabled


def test_judge_band_must_be_ordered_after_merge(floor_bytes: bytes) -> None:
    problems = lint(floor_bytes, f"{HEAD}[judge]\nmin_score = 0.9\n".encode())
    assert [p.key_path for p in problems] == ["judge.min_score"]


def test_merge_layers_directly(floor_bytes: bytes) -> None:
    from redline.policy.layers import merge
    from redline.policy.parse import parse_layer

    floor_layer, _ = parse_layer(floor_bytes, source="f.toml")
    overlay, _ = parse_layer(
        b"schema_version = 1\n[[categories]]\nid = 'autonomous_weapons'\nblock_threshold = 0.9",
        source="o.toml",
    )
    assert floor_layer is not None
    assert overlay is not None
    assert merge(floor_layer).sha256 == load_policy(floor_bytes).sha256
    with pytest.raises(
        PolicyValidationError, match=r"o.toml: categories\[0\].block_threshold: cannot raise"
    ):
        merge(floor_layer, overlay)


def test_overlay_route_over_a_floor_without_default_route() -> None:
    floor = asset("invalid/floor_without_default_route.toml")
    problems = [
        str(p)
        for p in lint(
            floor,
            b'schema_version = 1\n[[routes]]\nmodel = "x"\noutput_screening = false',
            floor_source="f.toml",
        )
    ]
    assert problems == ['f.toml: routes: a default route (model = "*") is required in the floor']
