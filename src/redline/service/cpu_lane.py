"""Worker processes for the CPU-heavy work of large requests, so that no client can stall
the event loop for the others.

Why processes: screening (tokeniser, numpy, ONNX Runtime, regexes), marking extraction and
JSON parsing hold the GIL for most of their run, so on threads a few large requests delay
every other client's request by their whole CPU time (measured: a small request's p99 rose
to ~215 ms while 16 clients sent 7 MB bodies). In a worker process that work competes for a
core like any other process; the event loop only copies bytes through a pipe (the executor's
feeder thread writes them, releasing the GIL while it does).

What runs here, and from what size (smaller inputs stay inline or on threads, where a hop
would cost more than the work):

* parsing request bodies over :data:`PARSE_BYTES` (``wire.parse_request``);
* screening conversations over :data:`JUDGE_CHARS` of text
  (:meth:`~redline.screening.stack.SafetyStack.judge`);
* marking extraction over :data:`EXTRACT_CHARS` of text (``markings.extract_label``);
* the monitors' person and record scan of requests over 2 KB of text
  (``monitors.observe.scan_text``; the deployment's person-hash salt travels with each
  job to the local worker, which keeps nothing).

Each worker process is started with ``spawn`` (the gateway already runs threads, so
``fork`` is unsafe), loads and verifies the artifacts itself, and keeps one
:class:`~redline.screening.stack.SafetyStack` per operator-category set (a hot reload that
changes categories builds a new one there too). Each process has its own executor and a
conversation always goes to the same process (chosen by its first user turn), so output
screening and a streamed reply meet the stack caches that input screening filled.

Bounded: at most :data:`PENDING_PER_PROCESS` jobs wait per process; past that the lane
raises :class:`~redline.errors.GatewayBusy` at once (HTTP 503 ``redline_busy``) instead of
queueing work no client will wait for. A worker that dies is replaced; the job it held
fails with :class:`~redline.errors.ClassifierError`, which screening turns into the route's
fail-closed action.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TypeVar

from redline.domain import ChatRequest, Endpoint, Message, ToolSpec
from redline.errors import ClassifierError, GatewayBusy, RequestError
from redline.markings import Label, extract_label
from redline.policy import Category
from redline.screening.artifacts import ARTIFACTS_DIR
from redline.screening.stack import Judgement, SafetyStack
from redline.wire import parse_request

__all__ = [
    "EXTRACT_CHARS",
    "JUDGE_CHARS",
    "PARSE_BYTES",
    "PENDING_PER_PROCESS",
    "CpuLane",
]

logger = logging.getLogger(__name__)

PARSE_BYTES = 1024 * 1024
JUDGE_CHARS = 16_384
EXTRACT_CHARS = 65_536
PENDING_PER_PROCESS = 8

T = TypeVar("T")


class CpuLane:
    """A small set of worker processes for large inputs (see the module docstring)."""

    def __init__(self, *, processes: int, directory: Path = ARTIFACTS_DIR) -> None:
        self._n = processes
        if processes < 1:
            raise ValueError("the CPU lane needs at least one process")
        self._directory = directory
        self._context = multiprocessing.get_context("spawn")
        self._executors: list[ProcessPoolExecutor] = [self._executor() for _ in range(self._n)]
        self._pending = [0] * self._n
        self._warm = [False] * self._n
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def processes(self) -> int:
        return self._n

    def _executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=self._context,
            initializer=_start_worker,
            initargs=(str(self._directory),),
        )

    @property
    def ready(self) -> bool:
        """Every process has started and loaded the artifacts. Until then (start-up, or a
        worker being replaced) callers use threads, so that no request waits for a start."""
        return all(self._warm)

    async def warm(self) -> None:
        """Start every process and load the artifacts there (call once at start-up, in the
        background)."""
        await asyncio.gather(*(self._warm_one(i) for i in range(self._n)))

    async def _warm_one(self, index: int) -> None:
        executor = self._executors[index]
        await asyncio.wrap_future(executor.submit(_ping))
        if self._executors[index] is executor:
            self._warm[index] = True

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for executor in self._executors:
            executor.shutdown(wait=False, cancel_futures=True)

    async def offload(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` in a worker when the lane is ready, else on a thread."""
        if self.ready:
            return await self.run(fn, *args)
        return await asyncio.to_thread(fn, *args)

    async def parse(self, kind: Endpoint, raw: bytes) -> ChatRequest:
        """``wire.parse_request`` in a worker (request errors keep their class and param).

        Raises:
            RequestError: as ``parse_request``.
            GatewayBusy: the lane's queue is full.
        """
        outcome = await self._run(_slot(raw[:256]), _parse, kind, raw)
        if isinstance(outcome, ChatRequest):
            return outcome
        raise outcome.error()

    async def judge(
        self,
        key: str,
        categories: Sequence[Category],
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
    ) -> Judgement:
        """The safety stack's judgement of a conversation, computed in a worker.

        Raises:
            ClassifierError: the artifacts or the conversation cannot be screened there, or
                the worker died.
            GatewayBusy: the lane's queue is full.
        """
        # By the first user turn, not the first message: a system prompt shared by every
        # client would send all conversations to one worker.
        user = next((m for m in messages if m.role == "user"), messages[0] if messages else None)
        first = user.text[:256] if user is not None else ""
        return await self._run(
            _slot(first.encode()), _judge, key, tuple(categories), tuple(messages), tuple(tools)
        )

    async def extract_label(self, texts: list[str]) -> Label:
        """``markings.extract_label`` in a worker."""
        first = texts[0][:256] if texts else ""
        return await self._run(_slot(first.encode()), extract_label, texts)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` in a worker (``fn`` a module-level function; arguments and result
        picklable). Jobs spread over the processes by the start of their last argument.

        Raises:
            GatewayBusy: the lane's queue is full.
            ClassifierError: the worker died.
        """
        last = args[-1] if args else b""
        prefix = last[:256] if isinstance(last, str | bytes) else b""
        return await self._run(
            _slot(prefix.encode() if isinstance(prefix, str) else prefix), fn, *args
        )

    async def _run(self, slot: int, fn: Callable[..., T], *args: object) -> T:
        index = slot % self._n
        if self._pending[index] >= PENDING_PER_PROCESS:
            raise GatewayBusy("the gateway is screening as many large requests as it can")
        executor = self._executors[index]
        self._pending[index] += 1
        try:
            return await asyncio.wrap_future(executor.submit(fn, *args))
        except BrokenProcessPool as exc:
            if self._executors[index] is executor:
                logger.error("a CPU-lane worker died; starting a new one")
                self._warm[index] = False
                self._executors[index] = self._executor()
                executor.shutdown(wait=False, cancel_futures=True)
                task = asyncio.create_task(self._warm_one(index), name="redline-cpu-lane-warm")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            raise ClassifierError("the screening worker process died") from exc
        finally:
            self._pending[index] -= 1


def _slot(prefix: bytes) -> int:
    """A stable process choice for a conversation (a checksum of its start)."""
    return zlib.crc32(prefix)


# -- in the worker process ------------------------------------------------------------------

_where: dict[str, Path] = {"artifacts": ARTIFACTS_DIR}
_stacks: dict[str, SafetyStack] = {}


def _start_worker(directory: str) -> None:
    _where["artifacts"] = Path(directory)
    logging.getLogger().setLevel(logging.WARNING)


def _ping() -> None:
    _stack("", ())


def _stack(key: str, categories: Sequence[Category]) -> SafetyStack:
    stack = _stacks.get(key)
    if stack is None:
        stack = SafetyStack.load(directory=_where["artifacts"], categories=categories)
        if len(_stacks) >= 2:  # the newest policy's and the bare one (warm-up)
            _stacks.pop(next(k for k in _stacks if k))
        _stacks[key] = stack
    return stack


def _judge(
    key: str,
    categories: tuple[Category, ...],
    messages: tuple[Message, ...],
    tools: tuple[ToolSpec, ...],
) -> Judgement:
    return _stack(key, categories).judge(messages, tools)


class _ParseFailure:
    """A request error, carried back by value (exceptions lose their keyword fields when
    pickled)."""

    def __init__(self, exc: RequestError) -> None:
        self.kind = type(exc)
        self.message = str(exc)
        self.param = exc.param

    def error(self) -> RequestError:
        return self.kind(self.message, param=self.param)


def _parse(kind: Endpoint, raw: bytes) -> ChatRequest | _ParseFailure:
    try:
        return parse_request(kind, raw)
    except RequestError as exc:
        return _ParseFailure(exc)
