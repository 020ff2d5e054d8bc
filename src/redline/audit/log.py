"""The audit log: group-committed appends, signed checkpoints, proofs and receipts.

Spec: AUDIT_LOG.md §4.2 (group commit, checkpoint policy, never roll back) and §4.3
(replicas enqueue, one sequencer integrates).

Invariants:

* :meth:`AuditLog.append` resolves only after the batch holding the event is durably
  committed; if the store cannot commit it raises :class:`AuditStoreError` (fail closed:
  the caller refuses the request). It never hangs: a dead writer fails every waiter.
* All store calls and all tree state (the :class:`TileFrontier`) live on **one** worker
  thread, so batches, checkpoints and proofs see a consistent committed tree.
* A checkpoint is signed only after the root is recomputed from stored data (the partial
  tiles, and the last tile's leaf hashes recomputed from the entries) and the new head is
  proved consistent with the last saved one; a smaller size, or the same size with another
  root, is refused with :class:`InconsistencyError`. On start the stored tree must still
  contain the last saved checkpoint (no restore behind a signed head).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from redline.clock import Clock, SystemClock, rfc3339
from redline.errors import AuditError, AuditStoreError

from .checkpoint import Receipt
from .note import NoteSigner
from .record import AuditRecord, EventType, JSONValue, body_digest, encode_record
from .sequencer import Sequencer
from .store import LogStore, SharedLogStore, Wake

__all__ = ["AppendResult", "AuditLog", "LogConfig"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class AppendResult:
    """Where an appended event landed: its leaf index and leaf hash."""

    index: int
    leaf_hash: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class LogConfig:
    """Batching and checkpoint timing (defaults from AUDIT_LOG.md §4.2)."""

    batch_size: int = 256
    batch_window: float = 0.05
    checkpoint_interval: float = 1.0
    poll_interval: float = 0.01
    append_timeout: float = 30.0
    max_pending: int = 65536


@dataclass(slots=True)
class _Waiter:
    entry: bytes
    request_id: str | None
    future: asyncio.Future[AppendResult]
    arrived: float = field(default=0.0)


class AuditLog:
    """An append-only, tamper-evident log (use :meth:`open`, then :meth:`close`)."""

    def __init__(
        self,
        sequencer: Sequencer,
        *,
        clock: Clock,
        config: LogConfig,
    ) -> None:
        self._seq = sequencer
        self._clock = clock
        self._config = config
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="redline-audit")
        self._queue: list[_Waiter] = []
        self._awaiting: dict[int, _Waiter] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._failure: BaseException | None = None
        self._salt = b""
        self._queued = asyncio.Event()
        self._integrated = asyncio.Event()
        self._stop_listening = threading.Event()
        self._listener: threading.Thread | None = None

    @classmethod
    async def open(
        cls,
        store: LogStore,
        signer: NoteSigner | None = None,
        *,
        origin: str | None = None,
        clock: Clock | None = None,
        config: LogConfig | None = None,
    ) -> AuditLog:
        """Open ``store``, check it against its last checkpoint, and start the writer.

        Args:
            store: where the log lives.
            signer: the log's note key; without it this instance never signs checkpoints.
            origin: the checkpoint origin; defaults to the signer's key name.
            clock: time source for record timestamps and checkpoint cadence.
            config: batching and timing.

        Raises:
            AuditStoreError: the store cannot be opened.
            InconsistencyError: the stored tree no longer contains the last checkpoint.
        """
        log = cls(
            Sequencer(store, signer, origin=origin),
            clock=clock or SystemClock(),
            config=config or LogConfig(),
        )
        await log.start()
        return log

    async def _call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def start(self) -> None:
        """Open the store and start the background tasks (called by :meth:`open`)."""
        try:
            await self._call(self._seq.start)
            self._salt = await self._call(self._seq.store.salt)
        except BaseException:
            with contextlib.suppress(AuditError):
                await self._call(self._seq.store.close)
            self._executor.shutdown(wait=False)
            raise
        runners = [self._writer()]
        if self._seq.shared:
            runners += [self._poller(), self._sequence_loop()]
            self._start_listener()
        if self._seq.signer is not None:
            runners.append(self._checkpointer())
        self._tasks = [asyncio.create_task(r) for r in runners]

    def _start_listener(self) -> None:
        """Shared stores: a thread turning the store's notifications into wake-ups."""
        store = self._seq.store
        if not isinstance(store, SharedLogStore):
            return
        loop = asyncio.get_running_loop()
        events = {Wake.QUEUED: self._queued, Wake.INTEGRATED: self._integrated}

        def on_wake(wake: Wake) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(events[wake].set)

        self._listener = threading.Thread(
            target=store.listen,
            args=(on_wake, self._stop_listening),
            name="redline-audit-listen",
            daemon=True,
        )
        self._listener.start()

    @property
    def size(self) -> int:
        """Tree size as last integrated by this instance."""
        return self._seq.frontier.size

    @property
    def running(self) -> bool:
        """Whether appends are accepted (started, and the writer has not failed)."""
        return self._failure is None and bool(self._tasks)

    @property
    def sequencer(self) -> str:
        """Who integrates this instance's appends: ``local`` (an unshared store: this
        instance), ``elected`` (a shared store, this instance holds the sequencer lock) or
        ``follower`` (a shared store, another instance holds it)."""
        if not self._seq.shared:
            return "local"
        return "elected" if self._seq.leader else "follower"

    def body_digest(self, body: bytes) -> str:
        """Salted HMAC-SHA256 of a prompt or output body for an audit payload."""
        return body_digest(self._salt, body)

    async def append(
        self, event_type: str, payload: Mapping[str, JSONValue], *, request_id: str | None = None
    ) -> AppendResult:
        """Log one event and wait until it is durably committed.

        Args:
            event_type: one of :class:`EventType`.
            payload: the JSON object built by the gateway (hashes and IDs, no content).
            request_id: indexed for :meth:`receipt_for_request`; also stored in the payload.

        Raises:
            AuditError: invalid event (unknown type, not canonical JSON, over 64 KiB).
            AuditStoreError: the event could not be made durable; refuse the request.
        """
        if self._failure is not None or not self._tasks:
            raise AuditStoreError("audit log is not running")
        if request_id is not None:
            if payload.get("request_id", request_id) != request_id:
                raise AuditError("request_id differs from payload['request_id']")
            payload = {**payload, "request_id": request_id}
        try:
            kind = EventType(event_type)
        except ValueError as exc:
            raise AuditError(f"unknown audit event type {event_type!r}") from exc
        record = AuditRecord(event_type=kind, timestamp=rfc3339(self._clock.now()), payload=payload)
        entry = encode_record(record)
        if len(self._queue) + len(self._awaiting) >= self._config.max_pending:
            raise AuditStoreError("audit log backlog is full")
        loop = asyncio.get_running_loop()
        waiter = _Waiter(entry, record.request_id, loop.create_future(), loop.time())
        self._queue.append(waiter)
        self._wake.set()
        return await waiter.future

    async def _next_batch(self) -> list[_Waiter]:
        # Group commit without a linger: an idle writer commits what is queued at once, and
        # while a commit is in flight new events pile up for the next one. Batches grow with
        # load (up to ``batch_size``), and an event waits at most for the commit in flight and
        # its own, never for a timer (measured in benchmarks/audit_log.py and
        # benchmarks/gateway_overhead.py).
        await self._wake.wait()
        batch = self._queue[: self._config.batch_size]
        del self._queue[: self._config.batch_size]
        if not self._queue:
            self._wake.clear()
        return batch

    async def _writer(self) -> None:
        try:
            while True:
                batch = await self._next_batch()
                items = [(w.entry, w.request_id) for w in batch]
                try:
                    if self._seq.shared:
                        ids = await self._call(functools.partial(self._seq.enqueue, items))
                        self._awaiting.update(zip(ids, batch, strict=True))
                        continue
                    results = await self._call(functools.partial(self._seq.integrate, items))
                except AuditError as exc:
                    logger.error("audit batch of %s events failed: %s", len(batch), exc)
                    self._fail(batch, exc)
                    continue
                for waiter, (index, leaf) in zip(batch, results, strict=True):
                    if not waiter.future.done():
                        waiter.future.set_result(AppendResult(index=index, leaf_hash=leaf))
        except BaseException as exc:
            self._stop_with(exc)
            raise

    def _fail(self, waiters: list[_Waiter], exc: BaseException) -> None:
        for waiter in waiters:
            if not waiter.future.done():
                err = AuditStoreError(f"audit record not committed: {exc}")
                waiter.future.set_exception(err)

    def _stop_with(self, exc: BaseException) -> None:
        self._failure = exc
        self._fail(self._queue + list(self._awaiting.values()), exc)
        self._queue.clear()
        self._awaiting.clear()

    async def _poller(self) -> None:
        """Shared stores: resolve appends once the sequencer has integrated them."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                # Woken by the sequencer's notification; polling is the fallback.
                await _wait(self._integrated, self._config.poll_interval)
                self._integrated.clear()
                if not self._awaiting:
                    continue
                ids = list(self._awaiting)
                try:
                    done = await self._call(functools.partial(self._seq.store_integrated, ids))
                except AuditError as exc:
                    logger.error("audit poll failed: %s", exc)
                    continue
                for pid, (index, leaf) in done.items():
                    waiter = self._awaiting.pop(pid)
                    if not waiter.future.done():
                        waiter.future.set_result(AppendResult(index=index, leaf_hash=leaf))
                late = [
                    p
                    for p, w in self._awaiting.items()
                    if loop.time() - w.arrived > self._config.append_timeout
                ]
                self._fail([self._awaiting.pop(p) for p in late], AuditStoreError("timed out"))
        except BaseException as exc:
            self._stop_with(exc)
            raise

    async def _sequence_loop(self) -> None:
        """Shared stores: take part in the sequencer election and integrate queued events."""
        while True:
            self._queued.clear()
            try:
                moved = await self._call(self._seq.sequence_pending)
            except AuditError as exc:
                logger.error("audit sequencing failed: %s", exc)
                moved = 0
            if moved == 0 and not self._seq.leader:  # a follower retries the lock
                await asyncio.sleep(self._config.batch_window)
            elif moved == 0:  # the sequencer: woken by an enqueue's notification
                await _wait(self._queued, self._config.batch_window)

    async def _checkpointer(self) -> None:
        while True:
            await asyncio.sleep(self._config.checkpoint_interval)
            try:
                await self._call(self._seq.checkpoint)
            except AuditError as exc:
                logger.error("audit checkpoint failed: %s", exc)

    async def checkpoint(self) -> bytes:
        """Sign (if the tree grew) and return the latest checkpoint note.

        Raises:
            AuditError: no signing key, or the stored tree fails the pre-signing checks.
            InconsistencyError: the new head would not be consistent with the last one.
        """
        return await self._call(self._seq.checkpoint)

    async def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Inclusion proof of ``index`` in the tree of ``size`` (default: committed size)."""
        return await self._call(lambda: self._seq.inclusion_proof(index, size))

    async def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """Consistency proof between two committed sizes."""
        return await self._call(lambda: self._seq.consistency_proof(old, new))

    async def entry(self, index: int) -> bytes:
        """The record bytes at ``index``."""
        return await self._call(lambda: self._seq.entry(index))

    async def entries(self, start: int, end: int) -> list[bytes]:
        """The record bytes at ``start`` (inclusive) to ``end`` (exclusive)."""
        return await self._call(lambda: self._seq.store.entries(start, end))

    async def find_request(self, request_id: str) -> list[int]:
        """The indices of the events logged for ``request_id``, oldest first."""
        return await self._call(lambda: list(self._seq.store.find_request(request_id)))

    async def receipt(self, index: int) -> Receipt:
        """A c2sp.org/tlog-proof@v1 receipt for ``index`` against a signed checkpoint."""
        return await self._call(lambda: self._seq.receipt(index))

    async def receipt_for_request(self, request_id: str) -> Receipt:
        """The receipt of the last event logged for ``request_id``.

        Raises:
            AuditError: no event was logged for ``request_id``.
        """
        return await self._call(lambda: self._seq.receipt_for_request(request_id))

    async def close(self) -> None:
        """Flush queued events, stop the tasks and close the store."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self._config.append_timeout
        # A bounded drain: the writer resolves each event's own future, there is no single
        # "drained" signal to wait on.
        while (self._queue or self._awaiting) and self._failure is None and loop.time() < give_up:  # noqa: ASYNC110
            await asyncio.sleep(self._config.poll_interval)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._stop_listening.set()
        if self._listener is not None:
            await asyncio.to_thread(self._listener.join, 5.0)
        self._fail(self._queue + list(self._awaiting.values()), AuditStoreError("log closed"))
        try:
            await self._call(self._seq.store.close)
        finally:
            self._executor.shutdown(wait=True)


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Wait until ``event`` is set or ``seconds`` passed.

    ``asyncio.timeout`` rather than ``asyncio.wait_for``: on Python 3.11 ``wait_for`` can
    swallow a cancellation that arrives as its timeout fires, and a task that ignores its
    cancellation makes :meth:`AuditLog.close` wait forever.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
