"""Fakes at the seams of the kill switch: halt store and broadcast channel (the clock and
the audit sink are the shared ones in ``tests/fakes.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from redline.errors import StoreError
from redline.killswitch.stores import OnVersion, StoredHalts
from tests.fakes import FakeAudit, FakeClock

__all__ = ["FakeAudit", "FakeChannel", "FakeClock", "FakeHaltStore"]


class FakeHaltStore:
    """An in-memory :class:`HaltStore` with the same compare-and-swap contract."""

    def __init__(self) -> None:
        self.row = StoredHalts(version=0, state_json="")
        self.failing = False
        self.swaps = 0
        self.closed = False
        self.interfere: str | None = None  # state JSON another writer puts in before a swap

    def _check(self) -> None:
        if self.failing:
            raise StoreError("store down")

    async def read(self) -> StoredHalts:
        self._check()
        return self.row

    async def version(self) -> int:
        self._check()
        return self.row.version

    async def swap(
        self, *, expected_version: int, state_json: str, backlog: Sequence[str] = ()
    ) -> int | None:
        self._check()
        if self.interfere is not None:
            self.put(self.interfere)
            self.interfere = None
        if expected_version != self.row.version:
            return None
        self.swaps += 1
        self.row = StoredHalts(
            version=expected_version + 1, state_json=state_json, backlog=tuple(backlog)
        )
        return self.row.version

    def put(self, state_json: str, backlog: Sequence[str] = ()) -> None:
        """Another replica (or the CLI) writes."""
        self.row = StoredHalts(
            version=self.row.version + 1, state_json=state_json, backlog=tuple(backlog)
        )

    def backlog(self) -> tuple[str, ...]:
        return self.row.backlog

    async def aclose(self) -> None:
        self.closed = True


class FakeChannel:
    """A broadcast channel: ``publish`` records; ``announce`` plays a message to listeners."""

    def __init__(self) -> None:
        self.published: list[int] = []
        self.listeners: list[OnVersion] = []
        self.listening = asyncio.Event()
        self.failing = False

    async def publish(self, version: int) -> None:
        if self.failing:
            raise StoreError("broadcast down")
        self.published.append(version)

    async def listen(self, on_version: OnVersion) -> None:
        self.listeners.append(on_version)
        self.listening.set()
        await asyncio.Event().wait()  # until cancelled

    async def announce(self, version: int) -> None:
        for listener in self.listeners:
            await listener(version)

    async def aclose(self) -> None:
        pass
