"""The authority register file, the check against it, and ``redline authority``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.authority import Authority, Register, check_authorities, parse_register
from redline.authority.runtime import load_signed_register
from redline.cli.main import main as redline
from redline.domain import AuthorityRef, Declared
from redline.errors import AuthorityRegisterError
from redline.monitors.persons import PersonExtractor
from redline.policy.signing import generate_keypair

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2027, 1, 1, tzinfo=UTC)
ORDER = Authority(
    type="fisa-order",
    id="2026-FISC-0042",
    issuer="FISC",
    selectors=("phone (937) 555-0123",),
    not_before=T0,
    expires=T1,
)
EXTRACTOR = PersonExtractor(b"0123456789abcdef")


def cover(selector: str) -> frozenset[str]:
    return frozenset(r.digest for r in EXTRACTOR.extract(selector).refs)


def persons(text: str) -> frozenset[str]:
    return frozenset(r.digest for r in EXTRACTOR.extract(text).refs)


def check(register: Register | None, *refs: AuthorityRef, now: datetime, text: str):  # type: ignore[no-untyped-def]
    return check_authorities(
        Declared(authorities=refs),
        register,
        model="m",
        now=now,
        us_person=True,
        persons=persons(text),
        cover=cover,
    )


@pytest.mark.parametrize(
    ("now", "text", "valid", "problem"),
    [
        (datetime(2026, 6, 1, tzinfo=UTC), "call 937-555-0123", {"fisa-order"}, ""),
        (datetime(2025, 6, 1, tzinfo=UTC), "call 937-555-0123", set(), "not yet in force"),
        (T1, "call 937-555-0123", set(), "expired"),
        (datetime(2026, 6, 1, tzinfo=UTC), "call 614-555-0199", set(), "out of scope"),
    ],
)
def test_check(now: datetime, text: str, valid: set[str], problem: str) -> None:
    facts = check(Register(authorities=(ORDER,)), ORDER.ref, now=now, text=text)
    assert facts.valid_types == valid
    assert (problem in facts.problems[0]) if problem else facts.problems == ()


def test_unknown_and_revoked_and_no_register() -> None:
    from dataclasses import replace

    revoked = replace(ORDER, revoked=datetime(2026, 3, 1, tzinfo=UTC))
    now = datetime(2026, 6, 1, tzinfo=UTC)
    other = AuthorityRef(type="warrant", id="W")
    facts = check(Register(authorities=(revoked,)), ORDER.ref, other, now=now, text="")
    assert facts.problems == (
        "fisa-order:2026-FISC-0042: revoked",
        "warrant:W: unknown (not in the authority register)",
    )
    assert check(None, other, now=now, text="").problems[0].startswith("warrant:W: unknown")


@given(
    st.lists(
        st.builds(
            Authority,
            type=st.from_regex(r"[a-z][a-z0-9-]{0,6}", fullmatch=True),
            id=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,6}", fullmatch=True),
            issuer=st.text(min_size=1, max_size=8).filter(str.strip),
            selectors=st.lists(
                st.text(min_size=1, max_size=8).filter(str.strip), min_size=1, max_size=3
            ).map(tuple),
            not_before=st.just(T0),
            expires=st.just(T1),
            revoked=st.none() | st.just(T0),
        ),
        max_size=4,
        unique_by=lambda a: (a.type, a.id),
    )
)
def test_the_file_round_trips_and_is_a_pure_function_of_the_entries(
    entries: list[Authority],
) -> None:
    data = Register(authorities=tuple(entries)).to_toml()
    parsed = parse_register(data, source="r")
    assert sorted(parsed.authorities, key=lambda a: (a.type, a.id)) == sorted(
        entries, key=lambda a: (a.type, a.id)
    )
    assert parsed.to_toml() == data


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"schema_version = 2\n", "schema_version"),
        (b"schema_version = 1\nextra = 1\n", "unknown key"),
        (
            b"schema_version = 1\n[[authorities]]\ntype='w'\nid='1'\nissuer='x'\n"
            b"selectors=['a']\nnot_before='2026-01-01T00:00:00Z'\nexpires='2025-01-01T00:00:00Z'\n",
            "after not_before",
        ),
        (
            b"schema_version = 1\n[[authorities]]\ntype='w'\nid='1'\nissuer='x'\n"
            b"selectors=[]\nnot_before='2026-01-01T00:00:00Z'\nexpires='2027-01-01T00:00:00Z'\n",
            "covers no one",
        ),
        (
            b"schema_version = 1\n[[authorities]]\ntype='w'\nid='1'\nissuer='x'\n"
            b"selectors=['a']\nnot_before='2026-01-01T00:00:00'\nexpires='2027-01-01T00:00:00Z'\n",
            "zone",
        ),
        (b"not toml", "not a UTF-8 TOML file"),
    ],
)
def test_malformed_registers_are_refused(text: bytes, message: str) -> None:
    with pytest.raises(AuthorityRegisterError, match=message):
        parse_register(text, source="r")


def _keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public = generate_keypair()
    (tmp_path / "k").write_bytes(private)
    (tmp_path / "k.pub").write_bytes(public)
    return tmp_path / "k", tmp_path / "k.pub"


def test_cli_add_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, pub = _keys(tmp_path)
    reg = tmp_path / "a.toml"
    add = [
        "authority",
        "add",
        str(reg),
        "--key",
        str(key),
        "--issuer",
        "FISC",
        "--selector",
        "phone (937) 555-0123",
        "--not-before",
        "2026-01-01T00:00:00Z",
        "--expires",
        "2027-01-01T00:00:00Z",
    ]
    assert redline([*add, "--type", "fisa-order", "--id", "A-1"]) == 0
    assert redline([*add, "--type", "fisa-order", "--id", "A-1"]) == 2  # duplicate
    assert (
        redline(
            [
                "authority",
                "revoke",
                str(reg),
                "--key",
                str(key),
                "fisa-order:A-1",
                "--at",
                "2026-05-01T00:00:00Z",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        redline(
            [
                "authority",
                "list",
                str(reg),
                "--public-key",
                str(pub),
                "--at",
                "2026-06-01T00:00:00Z",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "fisa-order:A-1" in out
    assert "revoked" in out
    assert "signature verified" in out
    assert load_signed_register(reg, pub.read_bytes()).authorities[0].revoked == datetime(
        2026, 5, 1, tzinfo=UTC
    )


def test_cli_refuses_to_re_sign_a_tampered_register(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, _ = _keys(tmp_path)
    reg = tmp_path / "a.toml"
    add = [
        "authority",
        "add",
        str(reg),
        "--key",
        str(key),
        "--issuer",
        "FISC",
        "--selector",
        "x@example.com",
        "--not-before",
        "2026-01-01T00:00:00Z",
        "--expires",
        "2027-01-01T00:00:00Z",
        "--type",
        "warrant",
    ]
    assert redline([*add, "--id", "1"]) == 0
    reg.write_text(reg.read_text().replace("2027", "2099"))
    capsys.readouterr()
    assert redline([*add, "--id", "2"]) == 2
    assert "refusing to change the register" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra",
    [
        ["--type", "Bad Type", "--id", "1"],
        ["--type", "warrant", "--id", "1", "--expires", "tomorrow"],
    ],
)
def test_cli_bad_input_is_a_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    key, _ = _keys(tmp_path)
    args = [
        "authority",
        "add",
        str(tmp_path / "a.toml"),
        "--key",
        str(key),
        "--issuer",
        "I",
        "--selector",
        "s",
        "--not-before",
        "2026-01-01T00:00:00Z",
        "--expires",
        "2027-01-01T00:00:00Z",
        *extra,
    ]
    assert redline(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("redline authority: error:")
    assert "Traceback" not in err
