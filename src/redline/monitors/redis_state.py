"""Redis monitor state: several gateway replicas share one set of windows.

Spec: ARCHITECTURE.md "Scale" (Redis for cross-replica monitor windows); see
:mod:`redline.monitors.state` for the Protocol.

Keys (``P`` = the configured prefix, ``h(x)`` = the first 24 hex digits of SHA-256 of ``x``,
so client-chosen ids cannot inject key syntax or Redis Cluster hash tags):

* ``P:{pv:<scope>:h(id):<window_s>}:<class>:<bucket>`` - one HyperLogLog per bucket and
  nationality class (PFADD), expiring one bucket after the window ends. A window count is one
  multi-key ``PFCOUNT`` over the window's buckets, which Redis computes as the cardinality of
  the union (the same as ``PFMERGE`` into a scratch key and ``PFCOUNT``, without the scratch
  key). The hash tag puts all buckets of one window in one cluster slot.
* ``P:{cl:h(principal):h(route)}:t`` - list of the last ``cadence_gaps + 1`` arrival times;
  ``...:s`` - hash with ``streak`` and ``effector`` (last effector call); both expire after
  ``loop_ttl_s`` idle.
* ``P:tok:<token_id>`` - ``SET NX`` until the token's expiry: single use across replicas.

Each operation is one round trip (a pipeline; ``MULTI`` where a read must see its own write).
Redis errors are mapped to :class:`~redline.errors.StoreError` here, at one boundary.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from redline.errors import StoreError
from redline.monitors.config import MonitorConfig, VolumeWindow
from redline.monitors.persons import Nationality, PersonRef
from redline.monitors.state import CadenceStats, CallKind, Scope, WindowCount, cadence_of, classes

__all__ = ["RedisMonitorState"]

_CLASSES = (Nationality.US, Nationality.UNKNOWN, Nationality.FOREIGN)


def _h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


@asynccontextmanager
async def _mapped() -> AsyncIterator[None]:
    try:
        yield
    except RedisError as exc:
        raise StoreError(f"monitor state (redis): {type(exc).__name__}") from exc


class RedisMonitorState:
    """:class:`~redline.monitors.state.MonitorState` in Redis (shared by replicas)."""

    def __init__(
        self, client: aioredis.Redis, config: MonitorConfig, *, prefix: str = "rl:mon"
    ) -> None:
        """Args:
        client: an ``redis.asyncio.Redis`` client (the caller owns and closes it).
        config: the monitor configuration (windows, cadence sizes, TTLs).
        prefix: key prefix; one per deployment (tests use a unique prefix each).
        """
        self._redis = client
        self._config = config
        self._prefix = prefix

    @classmethod
    def from_url(
        cls, url: str, config: MonitorConfig, *, prefix: str = "rl:mon"
    ) -> RedisMonitorState:
        """Connect lazily to ``url`` (``redis://host:port/db``)."""
        return cls(aioredis.Redis.from_url(url), config, prefix=prefix)

    async def aclose(self) -> None:
        """Close the client's connection pool."""
        await self._redis.aclose()

    def _window_keys(
        self, scope: Scope, ident: str, window: VolumeWindow, now: float
    ) -> tuple[str, int]:
        base = f"{self._prefix}:{{pv:{scope.value}:{_h(ident)}:{window.window_s}}}"
        return base, int(now // window.bucket_s)

    def _queue_counts(
        self, pipe: aioredis.client.Pipeline, scope: Scope, ident: str, now: float
    ) -> None:
        for window in self._config.windows:
            base, index = self._window_keys(scope, ident, window, now)
            first = index - window.buckets + 1
            for nat in _CLASSES:
                pipe.pfcount(*(f"{base}:{nat.value}:{b}" for b in range(first, index + 1)))

    def _parse_counts(self, values: Sequence[object], scope: Scope) -> list[WindowCount]:
        out = []
        for i, window in enumerate(self._config.windows):
            us, unknown, foreign = (float(v) for v in values[3 * i : 3 * i + 3])  # type: ignore[arg-type]
            out.append(
                WindowCount(
                    scope=scope, window_s=window.window_s, us=us, unknown=unknown, foreign=foreign
                )
            )
        return out

    async def add_persons(
        self, principal: str, tenant: str, persons: Sequence[PersonRef], now: float
    ) -> tuple[WindowCount, ...]:
        """See :meth:`MonitorState.add_persons`."""
        grouped = classes(persons)
        async with _mapped(), self._redis.pipeline(transaction=False) as pipe:
            for scope, ident in ((Scope.PRINCIPAL, principal), (Scope.TENANT, tenant)):
                for window in self._config.windows:
                    base, index = self._window_keys(scope, ident, window, now)
                    ttl = window.window_s + window.bucket_s
                    for nat, refs in grouped.items():
                        key = f"{base}:{nat.value}:{index}"
                        pipe.pfadd(key, *(r.short for r in refs))
                        pipe.expire(key, ttl)
            writes = len(pipe)
            self._queue_counts(pipe, Scope.PRINCIPAL, principal, now)
            self._queue_counts(pipe, Scope.TENANT, tenant, now)
            values = await pipe.execute()
        counts = values[writes:]
        per = 3 * len(self._config.windows)
        return (
            *self._parse_counts(counts[:per], Scope.PRINCIPAL),
            *self._parse_counts(counts[per:], Scope.TENANT),
        )

    async def counts(
        self, principal: str, tenant: str | None, now: float
    ) -> tuple[WindowCount, ...]:
        """See :meth:`MonitorState.counts`."""
        async with _mapped(), self._redis.pipeline(transaction=False) as pipe:
            self._queue_counts(pipe, Scope.PRINCIPAL, principal, now)
            if tenant is not None:
                self._queue_counts(pipe, Scope.TENANT, tenant, now)
            values = await pipe.execute()
        per = 3 * len(self._config.windows)
        result = self._parse_counts(values[:per], Scope.PRINCIPAL)
        if tenant is not None:
            result += self._parse_counts(values[per:], Scope.TENANT)
        return tuple(result)

    async def record_call(
        self, principal: str, route: str, now: float, kind: CallKind
    ) -> CadenceStats:
        """See :meth:`MonitorState.record_call`."""
        base = f"{self._prefix}:{{cl:{_h(principal)}:{_h(route)}}}"
        times_key, state_key = base + ":t", base + ":s"
        ttl = self._config.loop_ttl_s
        async with _mapped(), self._redis.pipeline(transaction=True) as pipe:
            if kind is CallKind.EFFECTOR:
                pipe.hget(state_key, "effector")
                pipe.hset(state_key, "effector", repr(now))
            else:
                pipe.rpush(times_key, repr(now))
                pipe.ltrim(times_key, -(self._config.cadence_gaps + 1), -1)
                if kind is CallKind.TOOL_RESULT:
                    pipe.hincrby(state_key, "streak", 1)
                else:
                    pipe.hset(state_key, "streak", 0)
            pipe.expire(times_key, ttl)
            pipe.expire(state_key, ttl)
            pipe.lrange(times_key, 0, -1)
            pipe.hget(state_key, "streak")
            values = await pipe.execute()
        times = [float(t) for t in values[-2]]
        streak = int(values[-1] or 0)
        stats = cadence_of(times, streak)
        if kind is not CallKind.EFFECTOR:
            return stats
        previous = values[0]
        gap = None if previous is None else now - float(previous)
        return CadenceStats(
            gaps=stats.gaps, median_gap_s=stats.median_gap_s, cv=stats.cv,
            tool_streak=stats.tool_streak, effector_gap_s=gap,
        )  # fmt: skip

    async def use_token(self, token_id: str, expires_at: float, now: float) -> bool:
        """See :meth:`MonitorState.use_token`."""
        key = f"{self._prefix}:tok:{_h(token_id)}"
        async with _mapped():
            done = await self._redis.set(key, b"1", nx=True, exat=math.ceil(expires_at) + 1)
        return bool(done)
