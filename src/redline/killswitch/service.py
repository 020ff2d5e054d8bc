"""``HaltService``: the kill switch at run time.

The pure state machine is :class:`redline.policy.HaltState`; this module keeps the state in
force in memory, persists transitions to a :class:`~redline.killswitch.stores.HaltStore`, and
spreads them to every replica.

Invariants:

* :meth:`HaltService.check` is the hot path: no I/O, no allocation when nothing is halted,
  three dict lookups otherwise;
* the state in memory only moves forward: a state is applied only if its store version is
  newer than the one in force (a slow poll cannot undo a newer halt);
* a halt reaches every replica within one poll interval (0.5 s) even if every broadcast is
  lost: each replica re-reads the store version on a timer; Redis pub/sub and PostgreSQL
  ``LISTEN``/``NOTIFY`` only make it faster;
* **fail closed**: a halt takes effect even if the audit log cannot record it (the result
  says so), and even if the store cannot persist it (on this replica; the caller gets
  :class:`StoreError`). A resume is recorded in the audit log *before* it is written; if
  the record fails, nothing is resumed;
* a halt written while the audit log was unreachable (``redline halt --data-dir``) carries
  its audit event in the store's backlog; the gateway records it when it picks the state up.

Streams in flight: :meth:`HaltService.guard` wraps a stream's event iterator and raises
:class:`HaltedError` as soon as a halt covering the stream arrives, even while the
upstream is silent; the edge turns that into a final SSE error event. It costs one task per
event. A cheaper alternative for a relay that tolerates ending on the next event is to call
:meth:`check` between events (or compare :attr:`generation`, which changes on every change
of the state in force).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from redline.aio import stop_task
from redline.clock import Clock, SystemClock
from redline.domain import AuditSink, JSONValue
from redline.errors import AuditError, HaltedError, StoreError
from redline.killswitch.state import RESUME_WINDOW_S, Halt, HaltState, ResumeOutcome, parse_scope
from redline.killswitch.stores import HaltChannel, HaltStore, StoredHalts

__all__ = ["HaltResult", "HaltService", "ResumeResult", "halt_offline", "halted_error"]

logger = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.5
_CAS_ATTEMPTS = 20

_Step = Callable[[HaltState], tuple[HaltState, None]]
_ResumeStep = Callable[[HaltState], tuple[HaltState, ResumeOutcome]]


@dataclass(frozen=True, slots=True, kw_only=True)
class HaltResult:
    """A halt now in force; ``audited`` is false if the audit log could not record it."""

    halt: Halt
    version: int
    audited: bool
    persisted: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeResult:
    """One resume approval: pending (first administrator) or resumed (second)."""

    scope: str
    outcome: ResumeOutcome
    by: str
    version: int


def halted_error(halt: Halt) -> HaltedError:
    """The error a request stopped by ``halt`` gets (503 ``redline_halted``)."""
    return HaltedError(f"traffic halted by Redline ({halt.scope}): {halt.reason}")


class HaltService:
    """The kill switch of one gateway process; see the module docstring.

    Use :meth:`start` before serving and :meth:`aclose` after. The service owns the store
    and the channels it is given and closes them.
    """

    def __init__(
        self,
        store: HaltStore,
        audit: AuditSink,
        *,
        channels: Sequence[HaltChannel] = (),
        clock: Clock | None = None,
        poll_interval_s: float = POLL_INTERVAL_S,
        resume_window_s: int = RESUME_WINDOW_S,
    ) -> None:
        self._store = store
        self._audit = audit
        self._channels = tuple(channels)
        self._clock = clock or SystemClock()
        self._poll_interval = poll_interval_s
        self._window = resume_window_s
        self._state = HaltState()
        self._by_scope: dict[str, Halt] = {}
        self._version = 0
        self._generation = 0
        self._changed: asyncio.Future[None] | None = None
        self._write_lock = asyncio.Lock()
        self._refresh_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._backlog_pending = False

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Load the persisted state and start the poll loop and the channel listeners.

        Raises:
            StoreError: the store cannot be read or holds an invalid state; the gateway
                must not start without knowing whether traffic is halted.
        """
        stored = await self._store.read()
        self._apply(_parse(stored), stored.version)
        await self._drain_backlog(stored)
        self._tasks = [asyncio.create_task(self._poll(), name="redline-halt-poll")]
        for channel in self._channels:
            self._tasks.append(asyncio.create_task(channel.listen(self._on_announced)))
        if self._state.halts:
            logger.warning("starting halted: %s", ", ".join(h.scope for h in self._state.halts))

    async def aclose(self) -> None:
        """Stop the background tasks and close the store and channels."""
        await asyncio.gather(
            *(stop_task(task, unblock=self._close_channels) for task in self._tasks)
        )
        self._tasks = []
        await self._close_channels()
        await self._store.aclose()

    async def _close_channels(self) -> None:
        for channel in self._channels:
            with contextlib.suppress(StoreError):
                await channel.aclose()

    # -- the hot path -------------------------------------------------------------------

    def check(self, tenant: str, model: str) -> Halt | None:
        """The halt stopping a request of ``tenant`` for ``model``, or None (no I/O)."""
        by_scope = self._by_scope
        if not by_scope:
            return None
        return (
            by_scope.get("all")
            or by_scope.get("tenant:" + tenant)
            or by_scope.get("model:" + model)
        )

    def enforce(self, tenant: str, model: str) -> None:
        """Raise :class:`HaltedError` if traffic of ``tenant`` for ``model`` is halted."""
        halt = self.check(tenant, model)
        if halt is not None:
            raise halted_error(halt)

    @property
    def state(self) -> HaltState:
        """The state in force."""
        return self._state

    @property
    def version(self) -> int:
        """The store version of the state in force."""
        return self._version

    @property
    def generation(self) -> int:
        """Changes (increments) every time the state in force changes; cheap to poll."""
        return self._generation

    async def guard(
        self, events: AsyncIterator[bytes], tenant: str, model: str
    ) -> AsyncIterator[bytes]:
        """Relay ``events`` until a halt covering ``tenant``/``model`` arrives.

        Raises:
            HaltedError: a halt arrived; ``events`` is closed first.
        """
        try:
            while True:
                self.enforce(tenant, model)
                step = asyncio.ensure_future(_next(events))
                try:
                    while not step.done():
                        await asyncio.wait(
                            (step, self._change()), return_when=asyncio.FIRST_COMPLETED
                        )
                        if not step.done():
                            self.enforce(tenant, model)
                finally:
                    await _settle(step)
                item = step.result()
                if item is None:
                    return
                yield item
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    # -- transitions --------------------------------------------------------------------

    async def halt(self, scope: str, *, reason: str, by: str) -> HaltResult:
        """Halt ``scope`` (``all``, ``tenant:T`` or ``model:M``) now.

        Raises:
            RequestError: a bad scope or administrator id.
            StoreError: the halt could not be persisted; it is in force on this replica
                only (fail closed) until the next change is read from the store.
        """
        scope = parse_scope(scope)
        async with self._write_lock:
            try:
                new, version = await self._transition(
                    lambda s: (s.halt(scope, reason=reason, by=by, now=self._clock.now()), None)
                )
            except StoreError:
                local = self._state.halt(scope, reason=reason, by=by, now=self._clock.now())
                self._apply(local, self._version, force=True)
                logger.error("halt %s in force on this replica only: store failed", scope)
                await self._record_halt(_halt_of(local, scope), self._version, persisted=False)
                raise
        halt = _halt_of(new, scope)
        await self._announce(version)
        audited = await self._record_halt(halt, version, persisted=True)
        return HaltResult(halt=halt, version=version, audited=audited)

    async def resume(self, scope: str, *, by: str) -> ResumeResult:
        """Approve lifting the halt on ``scope``; the second distinct approval lifts it.

        Raises:
            RequestError: a bad scope or administrator id.
            InvalidTransition: the scope is not halted, or ``by`` already approved.
            AuditError: the approval could not be recorded; nothing changed.
            StoreError: the store failed; nothing changed.
        """
        scope = parse_scope(scope)

        def step(state: HaltState) -> tuple[HaltState, ResumeOutcome]:
            return state.resume(scope, by=by, now=self._clock.now(), window_s=self._window)

        async with self._write_lock:
            _, version, outcome = await self._transition_recorded(step, scope, by)
        await self._announce(version)
        return ResumeResult(scope=scope, outcome=outcome, by=by, version=version)

    async def refresh(self) -> None:
        """Re-read the store and apply its state if it is newer (poll and channels)."""
        async with self._refresh_lock:
            stored = await self._store.read()
            if stored.version > self._version:
                self._apply(_parse(stored), stored.version)
                logger.info("halt state %d applied from the store", stored.version)
            await self._drain_backlog(stored)

    # -- internals ----------------------------------------------------------------------

    async def _transition(self, step: _Step) -> tuple[HaltState, int]:
        for _ in range(_CAS_ATTEMPTS):
            stored = await self._store.read()
            new, _ = step(_parse(stored))
            version = await self._store.swap(
                expected_version=stored.version, state_json=new.to_json(), backlog=stored.backlog
            )
            if version is not None:
                self._apply(new, version)
                return new, version
        raise StoreError("the halt state kept changing under this write; try again")

    async def _transition_recorded(
        self, step: _ResumeStep, scope: str, by: str
    ) -> tuple[HaltState, int, ResumeOutcome]:
        for _ in range(_CAS_ATTEMPTS):
            stored = await self._store.read()
            new, outcome = step(_parse(stored))
            payload: dict[str, JSONValue] = {
                "scope": scope,
                "by": by,
                "outcome": outcome.value,
                "state_version": stored.version + 1,
                "halts_in_force": [h.scope for h in new.halts],
            }
            await self._audit.record("resume", payload)  # before the write: fail closed
            version = await self._store.swap(
                expected_version=stored.version, state_json=new.to_json(), backlog=stored.backlog
            )
            if version is not None:
                self._apply(new, version)
                return new, version, outcome
            logger.info("resume of %s raced another write; retrying", scope)
        raise StoreError("the halt state kept changing under this write; try again")

    async def _record_halt(self, halt: Halt, version: int, *, persisted: bool) -> bool:
        payload: dict[str, JSONValue] = {
            "scope": halt.scope,
            "reason": halt.reason,
            "by": halt.by,
            "at": halt.at,
            "state_version": version,
            "persisted": persisted,
            "halts_in_force": [h.scope for h in self._state.halts],
        }
        try:
            await self._audit.record("halt", payload)
        except AuditError as exc:
            logger.error("halt %s is in force but was not audited: %s", halt.scope, exc)
            return False
        return True

    async def _announce(self, version: int) -> None:
        for channel in self._channels:
            try:
                await channel.publish(version)
            except StoreError as exc:
                logger.warning("halt broadcast failed (replicas will poll): %s", exc)

    async def _on_announced(self, version: int) -> None:
        if version > self._version:
            try:
                await self.refresh()
            except StoreError as exc:
                logger.warning("halt refresh after announcement failed: %s", exc)

    async def _poll(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                if self._backlog_pending or await self._store.version() > self._version:
                    await self.refresh()
                failing = False
            except StoreError as exc:
                if not failing:  # log once per outage, not twice a second
                    logger.error("halt store unreachable; keeping the state in force: %s", exc)
                failing = True

    async def _drain_backlog(self, stored: StoredHalts) -> None:
        """Record audit events left by an offline writer, then clear them (CAS)."""
        already_pending = self._backlog_pending
        self._backlog_pending = bool(stored.backlog)
        if not stored.backlog:
            return
        try:
            for item in stored.backlog:
                event = json.loads(item)
                await self._audit.record(str(event["type"]), event["payload"])
        except (AuditError, ValueError, KeyError, TypeError) as exc:
            if not already_pending:  # once per outage; the poll retries twice a second
                logger.error("halt audit backlog not recorded yet: %s", exc)
            return
        version = await self._store.swap(
            expected_version=stored.version, state_json=stored.state_json or "", backlog=()
        )
        if version is not None:
            self._version = max(self._version, version)
            self._backlog_pending = False

    def _apply(self, state: HaltState, version: int, *, force: bool = False) -> None:
        if not force and version <= self._version and version != 0:
            return
        changed = state != self._state
        self._state = state
        self._by_scope = {h.scope: h for h in state.halts}
        self._version = version
        if changed:
            self._generation += 1
            if self._changed is not None and not self._changed.done():
                self._changed.set_result(None)
            self._changed = None

    def _change(self) -> asyncio.Future[None]:
        if self._changed is None or self._changed.done():
            self._changed = asyncio.get_running_loop().create_future()
        return self._changed


async def halt_offline(
    store: HaltStore, scope: str, *, reason: str, by: str, clock: Clock | None = None
) -> HaltResult:
    """Halt by writing the store directly, without a gateway or the audit log.

    The audit event goes into the store's backlog; a gateway records it in the audit log
    when it picks the state up (within one poll interval). Resuming has no offline twin:
    a resume must be recorded before it takes effect.

    Raises:
        RequestError: a bad scope or administrator id.
        StoreError: the store could not be written.
    """
    clock = clock or SystemClock()
    scope = parse_scope(scope)
    for _ in range(_CAS_ATTEMPTS):
        stored = await store.read()
        new = _parse(stored).halt(scope, reason=reason, by=by, now=clock.now())
        halt = _halt_of(new, scope)
        event = {
            "type": "halt",
            "payload": {
                "scope": halt.scope,
                "reason": halt.reason,
                "by": halt.by,
                "at": halt.at,
                "state_version": stored.version + 1,
                "persisted": True,
                "offline": True,
                "halts_in_force": [h.scope for h in new.halts],
            },
        }
        version = await store.swap(
            expected_version=stored.version,
            state_json=new.to_json(),
            backlog=(*stored.backlog, json.dumps(event, sort_keys=True)),
        )
        if version is not None:
            return HaltResult(halt=halt, version=version, audited=False)
    raise StoreError("the halt state kept changing under this write; try again")


def _parse(stored: StoredHalts) -> HaltState:
    return HaltState.from_json(stored.state_json) if stored.state_json else HaltState()


def _halt_of(state: HaltState, scope: str) -> Halt:
    return next(h for h in state.halts if h.scope == scope)


async def _next(events: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await anext(events)
    except StopAsyncIteration:
        return None


async def _settle(step: asyncio.Future[bytes | None]) -> None:
    """Cancel ``step`` if still running and wait until it has finished."""
    if not step.done():
        step.cancel()
        await asyncio.wait((step,))
    if not step.cancelled():
        step.exception()  # mark retrieved; result() re-raises it where it matters
