"""``redline keys`` as operators run it: only real roles and clearances, a readable list."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.cli.main import main
from redline.store.keys import ROLES
from tests.support.servers import redline_cli, subprocess_env

pytestmark = pytest.mark.e2e


def keys(capsys: pytest.CaptureFixture[str], data: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["keys", *argv, "--data-dir", str(data)])
    out, err = capsys.readouterr()
    return code, out, err


def test_unknown_role_is_refused_listing_the_valid_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = keys(capsys, tmp_path, "create", "--tenant", "ops", "--role", "superuser")
    assert code == 2
    assert out == ""
    assert "unknown role 'superuser'" in err
    for role in ("admin", "auditor", "operator", "reviewer", "reviewer:all"):
        assert f"  {role} " in err
    assert not (tmp_path / "keys.db").exists()  # nothing was issued
    code, _, err = keys(capsys, tmp_path, "create", "--tenant", "ops", "--role", "Admin")
    assert code == 2
    assert "unknown role 'Admin'" in err


def test_every_role_the_gateway_checks_is_valid() -> None:
    from redline.gateway.admin import ADMIN_ROLE
    from redline.gateway.oversight_api import AUDITOR_ROLE
    from redline.review import ALL_TENANTS_ROLE, REVIEWER_ROLE

    assert {ADMIN_ROLE, REVIEWER_ROLE, ALL_TENANTS_ROLE, AUDITOR_ROLE, "operator"} == set(ROLES)


def test_clearance_and_nationality_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = keys(capsys, tmp_path, "create", "--tenant", "t", "--clearance", "TOPSECRET")
    assert code == 2
    assert "--clearance must be one of U, C, S, TS, got 'TOPSECRET'" in err
    code, _, err = keys(capsys, tmp_path, "create", "--tenant", "t", "--nationality", "US")
    assert code == 2
    assert "--nationality must be a country trigraph" in err
    code, out, _ = keys(capsys, tmp_path, "create", "--tenant", "t", "--clearance", "ts")
    assert code == 0
    assert out.startswith("rl_")


def test_list_has_a_header_and_shows_roles_clearance_and_revocation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = keys(capsys, tmp_path, "list")
    assert code == 0
    assert "no keys" in err  # no key store yet; listing does not create one
    assert not (tmp_path / "keys.db").exists()
    keys(capsys, tmp_path, "create", "--tenant", "acme", "--label", "app")
    code, out, _ = keys(
        capsys,
        tmp_path,
        "create",
        "--tenant",
        "provider",
        "--role",
        "reviewer",
        "--role",
        "reviewer:all",
        "--clearance",
        "S",
    )
    assert code == 0
    reviewer_id = out.strip().split("_")[1]
    assert keys(capsys, tmp_path, "revoke", reviewer_id)[0] == 0
    code, out, _ = keys(capsys, tmp_path, "list")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == [
        "KEY",
        "ID",
        "TENANT",
        "ROLES",
        "CLEARANCE",
        "CREATED",
        "REVOKED",
        "LABEL",
    ]
    assert len(rows) == 2
    by_tenant = {row.split()[1]: row.split() for row in rows}
    assert by_tenant["acme"][2:4] == ["-", "U"]
    assert by_tenant["acme"][5] == "-"  # not revoked
    assert by_tenant["acme"][6] == "app"
    assert by_tenant["provider"][2:4] == ["reviewer,reviewer:all", "S"]
    assert by_tenant["provider"][5].endswith("Z")  # revoked at (RFC 3339)
    assert by_tenant["provider"][6] == "-"


def test_keys_default_to_the_data_directory(tmp_path: Path) -> None:
    env = subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "data"))
    created = redline_cli("keys", "create", "--tenant", "ops", "--role", "admin", env=env)
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "data" / "keys.db").is_file()
    listed = redline_cli("keys", "list", env=env)
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[0].startswith("KEY ID")
    assert "admin" in listed.stdout
