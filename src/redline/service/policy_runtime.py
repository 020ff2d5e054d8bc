"""``PolicyRuntime``: the policy files of a running gateway and their hot reload.

Wraps a :class:`~redline.policy.PolicyHolder` with the places the policy comes from (floor,
overlay, floor signature, trusted provider keys) and the audit log.

Invariants:

* file reads and parsing run in a worker thread (``asyncio.to_thread``): a reload never
  blocks the event loop, so requests keep flowing while a large policy loads;
* the new policy is built and validated completely, then the change is **recorded in the
  audit log, then swapped in** (one reference assignment in the holder). If the audit log
  cannot record it, the old policy stays in force: no unrecorded policy change;
* a failed reload keeps the old policy; the result says why, and the rejected attempt is
  recorded too (best effort: an audit failure cannot make a rejection less safe);
* reloads are serialised, so audit records appear in the order the swaps happen.

``install_sighup_reload`` connects ``kill -HUP`` to :meth:`PolicyRuntime.reload`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from redline.domain import JSONValue
from redline.errors import (
    AuditError,
    ConfigError,
    GatewayError,
    PolicyError,
    PolicyValidationError,
    SignatureError,
)
from redline.policy import Policy, PolicyHolder, ReloadResult, load_policy
from redline.policy.load import (
    BUILTIN_FLOOR_SOURCE,
    builtin_floor_bytes,
    trusted_provider_keys,
)
from redline.policy.parse import DEFAULT_MAX_BYTES, read_policy_file
from redline.policy.signing import SIGNATURE_SUFFIX, verify
from redline.service.ports import AuditSink

__all__ = ["PolicyRuntime", "PolicySources", "floor_signer", "install_sighup_reload"]

logger = logging.getLogger(__name__)

_MAX_SIGNATURE_BYTES = 4096


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySources:
    """Where the effective policy is read from on every (re)load.

    The red lines cannot be configured away: with no ``floor_path`` the floor shipped with
    Redline is used; a ``floor_path`` is accepted only with a detached signature that one of
    the provider keys shipped in the package (``redline/policy/trust/*.pub``) verifies.
    Anything else refuses to load, so the gateway does not start.

    Attributes:
        floor_path: the provider floor; ``None`` means the floor shipped with Redline.
        overlay_path: the operator overlay, if any (it may only tighten the floor).
        floor_signature_path: the detached signature; defaults to ``FLOOR.sig``.
        trusted_keys: PEM Ed25519 keys a replacement floor must be signed by; ``None``
            means the keys shipped with Redline. Set only by code (tests and the provider's
            own builds), never by configuration.
        max_bytes: size bound per policy file.
    """

    floor_path: Path | None = None
    overlay_path: Path | None = None
    floor_signature_path: Path | None = None
    trusted_keys: tuple[bytes, ...] | None = field(default=None, repr=False)
    max_bytes: int = DEFAULT_MAX_BYTES

    def load(self) -> Policy:
        """Read the files and build the effective policy (blocking; run it in a thread).

        Raises:
            PolicyError: a file is too large, invalid, loosens the floor, or a replacement
                floor's signature is missing or not a trusted provider's.
            OSError: a file cannot be read.
        """
        overlay = self.overlay_path
        overlay_bytes = read_policy_file(overlay, max_bytes=self.max_bytes) if overlay else None
        overlay_source = str(overlay) if overlay else "overlay.toml"
        if self.floor_path is None:
            return load_policy(
                builtin_floor_bytes(),
                overlay_bytes,
                floor_source=BUILTIN_FLOOR_SOURCE,
                overlay_source=overlay_source,
                max_bytes=self.max_bytes,
            )
        floor_bytes = read_policy_file(self.floor_path, max_bytes=self.max_bytes)
        floor_source = str(self.floor_path)
        sig_path = self.floor_signature_path or Path(floor_source + SIGNATURE_SUFFIX)
        keys = self.trusted_keys if self.trusted_keys is not None else trusted_provider_keys()
        if not keys:
            raise PolicyValidationError(
                f"{floor_source}: no provider key is installed, so only the built-in floor "
                "can be used"
            )
        return load_policy(
            floor_bytes,
            overlay_bytes,
            floor_source=floor_source,
            overlay_source=overlay_source,
            floor_signature=_read_signature(sig_path),
            provider_public_keys=keys,
            max_bytes=self.max_bytes,
        )


def floor_signer(sources: PolicySources) -> str:
    """Who signed the floor in force: ``built-in`` (shipped with Redline, no signature) or
    ``provider-key:<first 16 hex digits of the SHA-256 of the verifying public key PEM>``.

    Recorded with each policy change so that an oversight report can name the signer."""
    if sources.floor_path is None:
        return "built-in"
    try:
        data = read_policy_file(sources.floor_path, max_bytes=sources.max_bytes)
        sig_path = sources.floor_signature_path or Path(str(sources.floor_path) + SIGNATURE_SUFFIX)
        signature = _read_signature(sig_path) or b""
    except (OSError, PolicyError):
        return "unknown"
    keys = sources.trusted_keys if sources.trusted_keys is not None else trusted_provider_keys()
    for key in keys:
        try:
            verify(data, signature, key)
        except (SignatureError, ConfigError):
            continue
        return "provider-key:" + hashlib.sha256(key).hexdigest()[:16]
    return "unknown"


class PolicyRuntime:
    """The policy in force plus reload; build it with :meth:`open`."""

    def __init__(self, holder: PolicyHolder, sources: PolicySources, audit: AuditSink) -> None:
        self._holder = holder
        self._sources = sources
        self._audit = audit
        self._lock = asyncio.Lock()
        self._announce: Callable[[], Awaitable[None]] | None = None

    def announce_with(self, announce: Callable[[], Awaitable[None]]) -> None:
        """On a fleet: after a reload asked of this replica (admin API or SIGHUP) has been
        applied, ``announce`` tells the other replicas to reload too (set once by the
        composition root). Reloads they do on that announcement (trigger ``"fleet"``) are
        not announced again."""
        self._announce = announce

    @classmethod
    async def open(cls, sources: PolicySources, audit: AuditSink) -> PolicyRuntime:
        """Load the policy for start-up.

        Raises:
            PolicyError: the policy does not load (the gateway must not start).
        """
        try:
            policy = await asyncio.to_thread(sources.load)
        except OSError as exc:
            raise PolicyValidationError(f"cannot read policy: {exc}") from exc
        logger.info("policy %s in force", policy.sha256)
        return cls(PolicyHolder(policy), sources, audit)

    @property
    def holder(self) -> PolicyHolder:
        """The holder the request path reads (``holder.current`` once per request)."""
        return self._holder

    @property
    def current(self) -> Policy:
        """The policy in force."""
        return self._holder.current

    @property
    def sources(self) -> PolicySources:
        """Where the policy is read from."""
        return self._sources

    async def reload(self, *, by: str, trigger: str = "admin") -> ReloadResult:
        """Re-read the policy files and swap the new policy in if it loads and is recorded.

        Args:
            by: who asked (a principal id, or ``"signal"``).
            trigger: ``"admin"`` (API), ``"sighup"``, or ``"fleet"`` (another replica's
                reload was announced).

        Returns:
            What happened; ``ok`` is false if the old policy stays in force.
        """
        async with self._lock:
            old = self._holder.current
            try:
                new = await asyncio.to_thread(self._sources.load)
            except (PolicyError, OSError) as exc:
                failed = ReloadResult(
                    ok=False,
                    old_sha256=old.sha256,
                    generation=self._holder.generation,
                    error=str(exc),
                )
                logger.warning("policy reload rejected; keeping %s: %s", old.sha256, exc)
                await self._record_rejected(failed, by=by, trigger=trigger)
                return failed
            payload: dict[str, JSONValue] = {
                "outcome": "applied" if new.sha256 != old.sha256 else "unchanged",
                "old_sha256": old.sha256,
                "new_sha256": new.sha256,
                "floor_sha256": new.floor_sha256,
                "overlay_sha256": new.overlay_sha256,
                "floor_signer": await asyncio.to_thread(floor_signer, self._sources),
                "generation": self._holder.generation + 1,
                "by": by,
                "trigger": trigger,
            }
            try:
                await self._audit.record("policy_change", payload)
            except AuditError as exc:
                logger.error("policy reload not applied: the change cannot be audited: %s", exc)
                return ReloadResult(
                    ok=False,
                    old_sha256=old.sha256,
                    generation=self._holder.generation,
                    error=f"the policy change could not be recorded in the audit log: {exc}",
                )
            result = self._holder.reload(lambda: new)
        if result.ok and trigger != "fleet" and self._announce is not None:
            try:
                await self._announce()
            except GatewayError as exc:  # the reload stands; the others reload on their own
                logger.warning("policy reload not announced to the fleet: %s", exc)
        return result

    async def _record_rejected(self, result: ReloadResult, *, by: str, trigger: str) -> None:
        payload: dict[str, JSONValue] = {
            "outcome": "rejected",
            "old_sha256": result.old_sha256,
            "new_sha256": "",
            "error": result.error[:2000],
            "generation": result.generation,
            "by": by,
            "trigger": trigger,
        }
        try:
            await self._audit.record("policy_change", payload)
        except AuditError as exc:
            logger.error("rejected policy reload was not audited: %s", exc)


def install_sighup_reload(
    runtime: PolicyRuntime, loop: asyncio.AbstractEventLoop | None = None
) -> Callable[[], None]:
    """Reload the policy on ``SIGHUP``; returns a function that removes the handler.

    Signal handlers can only be installed from the main thread (``redline serve``); when
    that is impossible (a server in a test thread, a non-Unix loop) this logs and returns a
    no-op remover.
    """
    loop = loop or asyncio.get_running_loop()
    pending: set[asyncio.Task[ReloadResult]] = set()

    def on_sighup() -> None:
        logger.info("SIGHUP: reloading policy")
        task = loop.create_task(runtime.reload(by="signal", trigger="sighup"))
        pending.add(task)
        task.add_done_callback(pending.discard)

    try:
        loop.add_signal_handler(signal.SIGHUP, on_sighup)
    except (ValueError, RuntimeError, NotImplementedError) as exc:
        logger.info("SIGHUP policy reload not available here: %s", exc)
        return lambda: None

    def remove() -> None:
        loop.remove_signal_handler(signal.SIGHUP)

    return remove


def _read_signature(path: Path) -> bytes | None:
    """The signature file's bytes, or None if it does not exist (load_policy says why)."""
    try:
        with path.open("rb") as handle:
            return handle.read(_MAX_SIGNATURE_BYTES)
    except FileNotFoundError:
        return None
