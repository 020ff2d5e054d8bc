"""``PolicyHolder``: the policy in force, replaced atomically on reload.

Invariants (policy patched without downtime):

* a reload builds and validates the new policy completely *before* it is visible; the swap
  is a single reference assignment, atomic under the GIL and for asyncio tasks;
* a request reads :attr:`PolicyHolder.current` **once** at its start and keeps that object,
  so in-flight requests finish under the policy they started with;
* a failed reload leaves the old policy in force and reports why (:class:`ReloadResult`);
* reloads are serialised by a lock, so two concurrent reloads cannot interleave.

The holder does no I/O of its own: the loader (a closure over the file paths and the
provider key) reads the files. The caller audits the returned result (a policy change is an
audited event, STYLE.md §7.5).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from redline.errors import PolicyError
from redline.policy.model import Policy

__all__ = ["PolicyHolder", "ReloadResult"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadResult:
    """The outcome of one reload.

    ``ok`` is false when the new policy failed to load; then ``error`` says why and
    ``new_sha256`` is empty. ``changed`` is true when the policy in force is now different.
    """

    ok: bool
    old_sha256: str
    new_sha256: str = ""
    generation: int
    error: str = ""

    @property
    def changed(self) -> bool:
        """Whether the swap replaced the policy with a different one."""
        return self.ok and self.new_sha256 != self.old_sha256


class PolicyHolder:
    """Holds the current :class:`Policy`; see the module docstring for the invariants."""

    def __init__(self, policy: Policy) -> None:
        self._current = policy
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def current(self) -> Policy:
        """The policy in force. Read it once per request and keep the object."""
        return self._current

    @property
    def generation(self) -> int:
        """How many successful reloads have happened."""
        return self._generation

    def reload(self, loader: Callable[[], Policy]) -> ReloadResult:
        """Build a policy with ``loader`` and swap it in if it loads.

        ``loader`` failures that are policy errors or I/O errors keep the old policy and
        are reported in the result; anything else (a bug) propagates, also keeping it.
        """
        with self._lock:
            old = self._current
            try:
                new = loader()
            except (PolicyError, OSError) as exc:
                logger.warning("policy reload failed; keeping policy %s: %s", old.sha256, exc)
                return ReloadResult(
                    ok=False, old_sha256=old.sha256, generation=self._generation, error=str(exc)
                )
            self._current = new
            self._generation += 1
            logger.info("policy reloaded: %s -> %s", old.sha256, new.sha256)
            return ReloadResult(
                ok=True, old_sha256=old.sha256, new_sha256=new.sha256, generation=self._generation
            )
