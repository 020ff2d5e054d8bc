"""Small asyncio helpers shared by the services that run background tasks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

__all__ = ["stop_task"]

logger = logging.getLogger(__name__)


async def stop_task(
    task: asyncio.Task[None],
    *,
    unblock: Callable[[], Awaitable[None]] | None = None,
    timeout_s: float = 2.0,
) -> None:
    """Cancel ``task`` and wait for it, never forever.

    A client library blocked in a read can swallow or delay a cancellation (seen with
    redis-py's pub/sub under load); shutting down must not hang on it. After ``timeout_s``
    the task's resources are closed with ``unblock`` (closing the connection ends the
    blocked read) and it gets ``timeout_s`` more; a task still running then is left behind
    with a warning.
    """
    task.cancel()
    _, pending = await asyncio.wait({task}, timeout=timeout_s)
    if pending and unblock is not None:
        await unblock()
        _, pending = await asyncio.wait({task}, timeout=timeout_s)
    if pending:
        logger.warning("background task %s did not stop; left behind", task.get_name())
    elif not task.cancelled() and task.exception() is not None:
        logger.warning("background task %s ended with %r", task.get_name(), task.exception())
