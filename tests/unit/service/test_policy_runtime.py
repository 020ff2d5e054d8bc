"""PolicyRuntime: reload from files, audit before swap, failed reloads keep the old policy."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from redline.errors import PolicyError
from redline.policy import generate_keypair, load_builtin_floor, sign
from redline.policy.load import builtin_floor_bytes
from redline.service.policy_runtime import PolicyRuntime, PolicySources, install_sighup_reload
from tests.unit.policy.conftest import asset
from tests.unit.service.fakes import FakeAudit


async def test_builtin_floor_and_unchanged_reload() -> None:
    audit = FakeAudit()
    runtime = await PolicyRuntime.open(PolicySources(), audit)
    assert runtime.current.sha256 == load_builtin_floor().sha256
    result = await runtime.reload(by="key:a")
    assert result.ok
    assert not result.changed
    assert audit.events == [
        (
            "policy_change",
            {
                "outcome": "unchanged",
                "old_sha256": result.old_sha256,
                "new_sha256": result.new_sha256,
                "floor_sha256": runtime.current.floor_sha256,
                "overlay_sha256": runtime.current.overlay_sha256,
                "floor_signer": "built-in",
                "generation": 1,
                "by": "key:a",
                "trigger": "admin",
            },
        )
    ]


async def test_overlay_change_is_swapped_in_and_audited(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.toml"
    overlay.write_bytes(asset("valid/overlay_minimal.toml"))
    audit = FakeAudit()
    runtime = await PolicyRuntime.open(PolicySources(overlay_path=overlay), audit)
    before = runtime.current
    overlay.write_bytes(asset("valid/overlay_tighten.toml"))
    result = await runtime.reload(by="key:a")
    assert result.ok
    assert result.changed
    assert runtime.current is not before
    assert runtime.current.category("export_control").block_threshold == 0.7
    _, payload = audit.events[-1]
    assert payload["old_sha256"] == before.sha256
    assert payload["new_sha256"] == runtime.current.sha256 != before.sha256
    assert payload["outcome"] == "applied"


async def test_failed_reload_keeps_the_old_policy(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.toml"
    overlay.write_bytes(asset("valid/overlay_minimal.toml"))
    audit = FakeAudit()
    runtime = await PolicyRuntime.open(PolicySources(overlay_path=overlay, max_bytes=65536), audit)
    before = runtime.current
    bad_inputs = {
        "malformed": asset("invalid/malformed.toml"),
        "loosens the floor": asset("invalid/raise_floor_threshold.toml"),
        "too large": b"#" * 70000,
    }
    for name, data in bad_inputs.items():
        overlay.write_bytes(data)
        result = await runtime.reload(by="key:a")
        assert not result.ok, name
        assert result.error, name
        assert runtime.current is before, name
        assert audit.events[-1][1]["outcome"] == "rejected", name
    assert "cannot raise 0.95" in audit.events[1][1]["error"]  # type: ignore[operator]


async def test_missing_file_is_a_failed_reload(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.toml"
    overlay.write_bytes(asset("valid/overlay_minimal.toml"))
    runtime = await PolicyRuntime.open(PolicySources(overlay_path=overlay), FakeAudit())
    overlay.unlink()
    result = await runtime.reload(by="key:a")
    assert not result.ok
    assert "overlay.toml" in result.error


async def test_unauditable_change_is_not_applied(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.toml"
    overlay.write_bytes(asset("valid/overlay_minimal.toml"))
    audit = FakeAudit()
    runtime = await PolicyRuntime.open(PolicySources(overlay_path=overlay), audit)
    before = runtime.current
    overlay.write_bytes(asset("valid/overlay_tighten.toml"))
    audit.failing = True
    result = await runtime.reload(by="key:a")
    assert not result.ok
    assert "audit" in result.error
    assert runtime.current is before
    assert runtime.holder.generation == 0


async def test_signed_floor_required_with_a_provider_key(tmp_path: Path) -> None:
    private, public = generate_keypair()
    floor = tmp_path / "floor.toml"
    floor.write_bytes(builtin_floor_bytes())
    sources = PolicySources(floor_path=floor, trusted_keys=(public,))
    with pytest.raises(PolicyError, match="unsigned floor"):
        await PolicyRuntime.open(sources, FakeAudit())
    (tmp_path / "floor.toml.sig").write_bytes(sign(floor.read_bytes(), private))
    runtime = await PolicyRuntime.open(sources, FakeAudit())
    floor.write_bytes(floor.read_bytes().replace(b"0.8", b"0.99"))  # edited after signing
    result = await runtime.reload(by="key:a")
    assert not result.ok
    assert "signed by another key or altered" in result.error


async def test_a_reload_names_the_provider_key_that_signed_the_floor(tmp_path: Path) -> None:
    import hashlib

    private, public = generate_keypair()
    floor = tmp_path / "floor.toml"
    floor.write_bytes(builtin_floor_bytes())
    (tmp_path / "floor.toml.sig").write_bytes(sign(floor.read_bytes(), private))
    audit = FakeAudit()
    runtime = await PolicyRuntime.open(
        PolicySources(floor_path=floor, trusted_keys=(public,)), audit
    )
    assert (await runtime.reload(by="key:a")).ok
    expected = "provider-key:" + hashlib.sha256(public).hexdigest()[:16]
    assert audit.events[-1][1]["floor_signer"] == expected


async def test_open_fails_on_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy"):
        await PolicyRuntime.open(PolicySources(floor_path=tmp_path / "nope.toml"), FakeAudit())


async def test_sighup_triggers_reload(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.toml"
    overlay.write_bytes(asset("valid/overlay_minimal.toml"))
    audit = FakeAudit()
    runtime = await PolicyRuntime.open(PolicySources(overlay_path=overlay), audit)
    overlay.write_bytes(asset("valid/overlay_tighten.toml"))
    remove = install_sighup_reload(runtime)
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        async with asyncio.timeout(5):
            while runtime.holder.generation == 0:  # noqa: ASYNC110 - set by the handler
                await asyncio.sleep(0.01)
    finally:
        remove()
    assert audit.events[-1][1]["trigger"] == "sighup"


async def test_sighup_off_the_main_thread_is_a_no_op() -> None:
    runtime = await PolicyRuntime.open(PolicySources(), FakeAudit())
    loop = asyncio.new_event_loop()
    try:
        remove = await asyncio.to_thread(install_sighup_reload, runtime, loop)
        remove()
    finally:
        loop.close()
