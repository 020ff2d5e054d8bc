"""``redline policy ...`` in-process: exit codes and output."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from redline.cli.main import main
from redline.domain import Decision
from redline.policy import Policy, load_builtin_floor
from tests.unit.policy.conftest import ASSETS


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["policy", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_show_toml_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    floor = load_builtin_floor()
    code, out, _ = run(capsys, "show")
    assert code == 0
    assert f"# sha256 = {floor.sha256}" in out
    overlay = str(ASSETS / "valid/overlay_tighten.toml")
    code, out, _ = run(capsys, "show", "--overlay", overlay, "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["floor_sha256"] == floor.floor_sha256
    assert doc["sha256"] != floor.sha256


def test_show_with_bad_overlay(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "show", "--overlay", str(ASSETS / "invalid/on_error_allow.toml"))
    assert code == 2
    assert "on_error_allow.toml: routes[0].on_error: fail-open is not allowed" in err
    code, _, err = run(capsys, "show", "--overlay", "/nonexistent/o.toml")
    assert code == 2
    assert "cannot read /nonexistent/o.toml" in err


def test_lint(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = str(ASSETS / "valid/overlay_tighten.toml")
    assert run(capsys, "lint", good) == (
        0,
        f"ok: {good}: no problems (checked as an overlay of redline/policy/floor.toml)\n",
        "",
    )
    minimal = str(ASSETS / "valid/overlay_minimal.toml")
    code, out, _ = run(capsys, "lint", good, minimal)
    assert (code, out.splitlines()) == (
        0,
        ["ok: 2 files: no problems (checked as overlays of redline/policy/floor.toml)"],
    )
    bad = ASSETS / "invalid/raise_floor_threshold.toml"
    huge = tmp_path / "huge.toml"
    with huge.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)
    code, out, _ = run(capsys, "lint", good, str(bad), str(huge), str(tmp_path / "missing.toml"))
    lines = out.splitlines()
    assert code == 2
    assert len(lines) == 3
    assert lines[0].startswith(f"{bad}: categories[0].block_threshold: cannot raise 0.95")
    assert lines[1] == f"{huge}: file exceeds 1048576 bytes"
    assert lines[2].startswith(f"{tmp_path / 'missing.toml'}: cannot read")


def test_lint_as_floor_and_against_another_floor(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    floor_path = tmp_path / "floor.toml"
    floor_path.write_bytes(load_floor_bytes())
    assert run(capsys, "lint", "--as-floor", str(floor_path)) == (
        0,
        f"ok: {floor_path}: no problems (checked as a floor)\n",
        "",
    )
    code, out, _ = run(
        capsys, "lint", "--as-floor", str(ASSETS / "invalid/floor_missing_monitor.toml")
    )
    assert code == 2
    assert "monitors.bulk_records.min_records: required" in out
    assert (
        run(capsys, "lint", "--floor", str(floor_path), str(ASSETS / "valid/overlay_minimal.toml"))[
            0
        ]
        == 0
    )


def load_floor_bytes() -> bytes:
    from redline.policy.load import builtin_floor_bytes

    return builtin_floor_bytes()


def test_keygen_sign_verify_and_signed_floor(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    prefix = tmp_path / "provider"
    code, out, _ = run(capsys, "keygen", str(prefix))
    assert code == 0
    assert (tmp_path / "provider.key").stat().st_mode & 0o777 == 0o600
    code, _, err = run(capsys, "keygen", str(prefix))
    assert code == 2
    assert "refusing to overwrite" in err
    floor = tmp_path / "floor.toml"
    floor.write_bytes(load_floor_bytes())
    key, pub = str(tmp_path / "provider.key"), str(tmp_path / "provider.pub")
    # Without a signature the provider key refuses the floor.
    code, _, err = run(capsys, "show", "--floor", str(floor), "--provider-key", pub)
    assert code == 2
    assert "unsigned floor" in err
    code, out, _ = run(capsys, "verify", "--key", pub, str(floor))
    assert code == 1
    assert "FAILED: no signature file" in out
    assert run(capsys, "sign", "--key", key, str(floor))[0] == 0
    assert (tmp_path / "floor.toml.sig").exists()
    assert run(capsys, "verify", "--key", pub, str(floor)) == (0, f"{floor}: OK\n", "")
    assert run(capsys, "show", "--floor", str(floor), "--provider-key", pub)[0] == 0
    # Edit the floor after signing: verification and loading both refuse it.
    floor.write_bytes(
        floor.read_bytes().replace(b"block_threshold = 0.8", b"block_threshold = 0.9")
    )
    code, out, _ = run(
        capsys, "verify", "--key", pub, "--signature", str(floor) + ".sig", str(floor)
    )
    assert code == 1
    assert "does not verify" in out
    code, _, err = run(capsys, "show", "--floor", str(floor), "--provider-key", pub)
    assert code == 2
    assert "floor signed by another key or altered" in err
    # A private key where a public one belongs is a clear error.
    code, _, err = run(capsys, "verify", "--key", key, str(floor))
    assert code == 2
    assert "got a private key" in err
    code, _, err = run(capsys, "verify", "--key", str(tmp_path / "nope.pub"), str(floor))
    assert code == 2
    assert "cannot read" in err


def test_test_without_screening_module(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "redline.screening", types.ModuleType("redline.screening"))
    code, _, err = run(capsys, "test")
    assert code == 2
    assert "the safety stack is not available" in err


def _fake_screening(action: str) -> types.ModuleType:
    module = types.ModuleType("redline.screening")

    def screen_messages_factory(policy: Policy):  # type: ignore[no-untyped-def]
        async def screen(messages: object, /, *, oversight: object = None) -> Decision:
            from redline.domain import Action

            test = next(t for t in policy.tests if t.messages == messages)
            chosen = test.expect if action == "expected" else Action(action)
            return Decision(action=chosen, categories=test.categories or ())

        return screen

    module.screen_messages_factory = screen_messages_factory  # type: ignore[attr-defined]
    return module


def test_test_runs_the_policy_tests(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "redline.screening", _fake_screening("expected"))
    code, out, _ = run(capsys, "test")
    assert code == 0
    assert out.splitlines()[0] == "PASS lawful logistics planning is allowed"
    assert "6 passed, 0 failed" in out
    monkeypatch.setitem(sys.modules, "redline.screening", _fake_screening("allow"))
    code, out, _ = run(capsys, "test")
    assert code == 1
    assert "FAIL automatic fire command is blocked: expected block, got allow" in out
