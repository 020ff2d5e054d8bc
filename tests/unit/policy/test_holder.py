"""Hot reload: build fully, swap atomically, keep the old policy on failure."""

from __future__ import annotations

import threading

import pytest

from redline.policy import Policy, PolicyHolder, load_policy
from tests.unit.policy.conftest import asset


def test_successful_reload_swaps(floor: Policy, floor_bytes: bytes) -> None:
    holder = PolicyHolder(floor)
    in_flight = holder.current  # a request reads the policy once at its start
    result = holder.reload(lambda: load_policy(floor_bytes, asset("valid/overlay_tighten.toml")))
    assert result.ok
    assert result.changed
    assert result.generation == 1 == holder.generation
    assert result.old_sha256 == floor.sha256 != result.new_sha256 == holder.current.sha256
    assert in_flight is floor  # the in-flight request still holds its policy


def test_reload_to_same_policy_is_not_a_change(floor: Policy) -> None:
    holder = PolicyHolder(floor)
    result = holder.reload(lambda: floor)
    assert result.ok
    assert not result.changed


def test_failed_reload_keeps_old_policy(floor: Policy, floor_bytes: bytes) -> None:
    holder = PolicyHolder(floor)
    result = holder.reload(lambda: load_policy(floor_bytes, b"[[broken"))
    assert not result.ok
    assert not result.changed
    assert result.error.startswith("overlay.toml: not valid TOML")
    assert holder.current is floor
    assert result.generation == 0


def test_io_error_keeps_old_policy(floor: Policy) -> None:
    def loader() -> Policy:
        raise FileNotFoundError("overlay.toml")

    holder = PolicyHolder(floor)
    assert holder.reload(loader).error == "overlay.toml"
    assert holder.current is floor


def test_bug_in_loader_propagates_and_keeps_old_policy(floor: Policy) -> None:
    def loader() -> Policy:
        raise ZeroDivisionError

    holder = PolicyHolder(floor)
    with pytest.raises(ZeroDivisionError):
        holder.reload(loader)
    assert holder.current is floor


def test_concurrent_reloads_and_readers_see_only_whole_policies(
    floor: Policy, floor_bytes: bytes
) -> None:
    other = load_policy(floor_bytes, asset("valid/overlay_tighten.toml"))
    holder = PolicyHolder(floor)
    seen: set[str] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.add(holder.current.sha256)

    def reloader(policy: Policy) -> None:
        for _ in range(200):
            holder.reload(lambda: policy)
            holder.reload(lambda: load_policy(floor_bytes, b"bad ["))  # never visible

    threads = [
        threading.Thread(target=reader),
        threading.Thread(target=reloader, args=(other,)),
        threading.Thread(target=reloader, args=(floor,)),
    ]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    stop.set()
    threads[0].join()
    assert seen <= {floor.sha256, other.sha256}
    assert holder.generation == 400
