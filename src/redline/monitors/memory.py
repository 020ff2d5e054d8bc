"""In-process monitor state: one node, the embedded default.

Bounded in memory per principal, entries expire; see
:mod:`redline.monitors.state` for the Protocol.

Layout: per principal (and per tenant) one ring per window, a ``dict`` from bucket index
(``floor(now / bucket_s)``) to three :class:`~redline.monitors.hll.Sketch` es (U.S., unknown,
foreign). Only buckets that received persons exist; buckets older than the window are dropped
whenever the ring is touched. A window estimate is the union of its live buckets.

Bounds (all from :class:`~redline.monitors.config.MonitorConfig`):

* at most ``max_principals`` principals and as many tenants, least recently used evicted
  first (an evicted principal's windows restart from zero: evicting one principal takes that
  many *other* authenticated principals being active, so this is not a cheap evasion);
* per principal, at most ``window_s / bucket_s`` buckets per window and, per bucket and class,
  at most 4 KiB of HyperLogLog registers;
* at most ``max_loops`` principal+route cadence states (LRU; idle ones reset after
  ``loop_ttl_s``), each ``cadence_gaps + 1`` timestamps;
* at most ``max_tokens`` used-token records; expired ones are dropped, and when the table is
  still full a new use is **refused** (fail closed: the effector call stays blocked).

Concurrency: methods do not await while mutating, so on one event loop each call is atomic.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence

from redline.monitors.config import MonitorConfig
from redline.monitors.hll import Sketch, union_count
from redline.monitors.persons import Nationality, PersonRef
from redline.monitors.state import CadenceStats, CallKind, Scope, WindowCount, cadence_of

__all__ = ["InProcessMonitorState"]

_CLASSES = (Nationality.US, Nationality.UNKNOWN, Nationality.FOREIGN)
_INDEX = {n: i for i, n in enumerate(_CLASSES)}

_Bucket = list[Sketch | None]
_Ring = dict[int, _Bucket]


class _Loop:
    __slots__ = ("effector", "seen", "streak", "times")

    def __init__(self, size: int) -> None:
        self.times: deque[float] = deque(maxlen=size)
        self.streak = 0
        self.effector: float | None = None
        self.seen = 0.0


class InProcessMonitorState:
    """:class:`~redline.monitors.state.MonitorState` in this process's memory."""

    def __init__(self, config: MonitorConfig) -> None:
        self._config = config
        self._principals: OrderedDict[str, list[_Ring]] = OrderedDict()
        self._tenants: OrderedDict[str, list[_Ring]] = OrderedDict()
        self._loops: OrderedDict[tuple[str, str], _Loop] = OrderedDict()
        self._tokens: dict[str, float] = {}

    # --- persons ----------------------------------------------------------------------------

    def _rings(self, table: OrderedDict[str, list[_Ring]], key: str) -> list[_Ring]:
        rings = table.get(key)
        if rings is None:
            rings = [{} for _ in self._config.windows]
            table[key] = rings
            if len(table) > self._config.max_principals:
                table.popitem(last=False)
        else:
            table.move_to_end(key)
        return rings

    def _add(self, rings: list[_Ring], persons: Sequence[PersonRef], now: float) -> None:
        for window, ring in zip(self._config.windows, rings, strict=True):
            index = int(now // window.bucket_s)
            _prune(ring, index - window.buckets + 1)
            bucket = ring.get(index)
            if bucket is None:
                bucket = ring[index] = [None, None, None]
            for ref in persons:
                slot = _INDEX[ref.nationality]
                sketch = bucket[slot]
                if sketch is None:
                    sketch = bucket[slot] = Sketch()
                sketch.add(ref.key64)

    def _count(self, rings: list[_Ring] | None, scope: Scope, now: float) -> list[WindowCount]:
        result = []
        for i, window in enumerate(self._config.windows):
            ring: _Ring = rings[i] if rings is not None else {}
            _prune(ring, int(now // window.bucket_s) - window.buckets + 1)
            values = [
                union_count(s for b in ring.values() if (s := b[slot]) is not None)
                for slot in range(len(_CLASSES))
            ]
            result.append(
                WindowCount(
                    scope=scope,
                    window_s=window.window_s,
                    us=values[0],
                    unknown=values[1],
                    foreign=values[2],
                )
            )
        return result

    async def add_persons(
        self, principal: str, tenant: str, persons: Sequence[PersonRef], now: float
    ) -> tuple[WindowCount, ...]:
        """See :meth:`MonitorState.add_persons`."""
        mine = self._rings(self._principals, principal)
        theirs = self._rings(self._tenants, tenant)
        self._add(mine, persons, now)
        self._add(theirs, persons, now)
        return (*self._count(mine, Scope.PRINCIPAL, now), *self._count(theirs, Scope.TENANT, now))

    async def counts(
        self, principal: str, tenant: str | None, now: float
    ) -> tuple[WindowCount, ...]:
        """See :meth:`MonitorState.counts`."""
        result = self._count(self._principals.get(principal), Scope.PRINCIPAL, now)
        if tenant is not None:
            result += self._count(self._tenants.get(tenant), Scope.TENANT, now)
        return tuple(result)

    def sweep(self, now: float) -> int:
        """Drop principals and tenants whose windows are all empty; return how many."""
        dropped = 0
        for table in (self._principals, self._tenants):
            for key in list(table):
                rings = table[key]
                for window, ring in zip(self._config.windows, rings, strict=True):
                    _prune(ring, int(now // window.bucket_s) - window.buckets + 1)
                if not any(rings):
                    del table[key]
                    dropped += 1
        return dropped

    def __len__(self) -> int:
        """Principals currently tracked."""
        return len(self._principals)

    # --- loops and tokens -------------------------------------------------------------------

    async def record_call(
        self, principal: str, route: str, now: float, kind: CallKind
    ) -> CadenceStats:
        """See :meth:`MonitorState.record_call`."""
        key = (principal, route)
        loop = self._loops.get(key)
        if loop is None or now - loop.seen > self._config.loop_ttl_s:
            loop = _Loop(self._config.cadence_gaps + 1)
            self._loops[key] = loop
            if len(self._loops) > self._config.max_loops:
                self._loops.popitem(last=False)
        else:
            self._loops.move_to_end(key)
        loop.seen = now
        if kind is CallKind.EFFECTOR:
            previous, loop.effector = loop.effector, now
            stats = cadence_of(loop.times, loop.streak)
            gap = None if previous is None else now - previous
            return CadenceStats(
                gaps=stats.gaps, median_gap_s=stats.median_gap_s, cv=stats.cv,
                tool_streak=stats.tool_streak, effector_gap_s=gap,
            )  # fmt: skip
        loop.times.append(now)
        loop.streak = loop.streak + 1 if kind is CallKind.TOOL_RESULT else 0
        return cadence_of(loop.times, loop.streak)

    async def use_token(self, token_id: str, expires_at: float, now: float) -> bool:
        """See :meth:`MonitorState.use_token`."""
        tokens = self._tokens
        if token_id in tokens:
            return False
        if len(tokens) >= self._config.max_tokens:
            self._tokens = tokens = {k: v for k, v in tokens.items() if v >= now}
            if len(tokens) >= self._config.max_tokens:
                return False
        tokens[token_id] = expires_at
        return True


def _prune(ring: _Ring, oldest: int) -> None:
    for index in [i for i in ring if i < oldest]:
        del ring[index]
