"""The composition root: every store and service is built here, once, from :class:`Settings`.

Following ``settings`` from ``redline serve`` to the services is one straight line:
``cli/serve.py`` -> :func:`build_app` -> :func:`open_services` (this module) ->
:func:`redline.gateway.app.create_app`, which receives the built services and only maps
HTTP to them. No other module opens a store; the web edge imports no store adapter
(import-linter contract "Web edge builds nothing").

Order of construction (each step may use the ones before it):

0. on a fleet (``REDLINE_DATABASE_URL`` and ``REDLINE_REDIS_URL``; one without the other is
   refused by the settings): the schema version, the fleet's identity and this replica's
   secret files are checked and Redis is pinged, before anything is opened;
1. key store (``keys.db``, or the fleet's ``redline.api_keys``) -> authenticator (one of
   each, shared by the OpenAI routes, the admin API and the console); client-certificate
   identities when mTLS is on;
2. upstreams -> router (the built-in ``redline-echo`` unless a route claims its name);
3. audit log (``audit.db``, or the fleet's queue + sequencer log in PostgreSQL; checkpoint
   key ``audit.skey``) -> audit sink;
4. kill switch (halt store and broadcast channels) and the policy runtime (floor, overlay,
   hot reload on SIGHUP); on a fleet, the replica joins the register (its floor and policy
   must equal the live replicas') and heartbeats;
5. screener (refuses to start on broken artifacts);
6. review service (encrypted bodies in ``reviews.db`` or the fleet's database, optional
   webhook, expiry sweep);
7. monitors of the policy in force (in-process, or Redis with ``REDLINE_REDIS_URL``);
8. the orchestrator, and the review runner bound to it;
9. observability: Prometheus metrics (unless ``[observability] metrics = "off"``), trace
   export when the OpenTelemetry variables ask for it, and the readiness checks.

Everything opened is closed in reverse order when the app shuts down. Tests build the app
with :func:`build_app` (real stores in a temporary data directory) or pass their own
services to :func:`redline.gateway.app.create_app`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime

from opentelemetry.trace import TracerProvider
from starlette.applications import Starlette

from redline.access import route_ceiling
from redline.aio import stop_task
from redline.audit import AuditLog, SqliteLogStore
from redline.audit.postgres_store import PostgresLogStore
from redline.authority import RegisterInForce
from redline.clock import SystemClock
from redline.domain import JSONValue
from redline.errors import AuthorityRegisterError, ConfigError, StoreError
from redline.fleet.identity import (
    BEAT_S,
    FleetIdentity,
    ReplicaRegister,
    read_identity,
    secret_mismatches,
)
from redline.fleet.schema import AUDIT_SCHEMA, HALT_TABLE, require_current
from redline.gateway.admin import ControlPlane
from redline.gateway.app import Services, create_app
from redline.gateway.review_api import ReviewWeb
from redline.killswitch.service import HaltService
from redline.killswitch.stores import (
    DEFAULT_CHANNEL,
    HaltChannel,
    HaltStore,
    PostgresHaltChannel,
    PostgresHaltStore,
    RedisHaltChannel,
    SqliteHaltStore,
)
from redline.markings import parse_marking
from redline.monitors import (
    InProcessMonitorState,
    MonitorConfig,
    Monitors,
    MonitorState,
    PersonExtractor,
    RedisMonitorState,
)
from redline.observability.metrics import MeteredAuditSink, PrometheusMetrics, ScrapeSources
from redline.observability.tracing import TRACER_NAME, tracer_provider
from redline.policy import MonitorSettings
from redline.review import ReviewConfig, open_review
from redline.review.postgres import PostgresReviewQueue
from redline.review.runtime import ClosableReviewQueue
from redline.review.service import ReviewQueue
from redline.service import Authenticator, Orchestrator, Router
from redline.service.certs import CertificateAuthenticator
from redline.service.cpu_lane import CpuLane
from redline.service.health import Check, check_ready
from redline.service.monitoring import MonitorsInForce
from redline.service.orchestrator import approved_runner
from redline.service.oversight import Oversight
from redline.service.policy_runtime import PolicyRuntime, PolicySources, install_sighup_reload
from redline.service.ports import NO_METRICS, AuditSink, KeyStore, Metrics
from redline.service.routing import ModelRoute
from redline.service.screening import Screener
from redline.service.tracing import NO_TRACING, Tracing
from redline.settings import ECHO_MODEL, Settings
from redline.store.keys import SqliteKeyStore
from redline.store.postgres_keys import PostgresKeyStore
from redline.store.secrets import load_or_create_secret, load_or_create_signer
from redline.upstream import EchoUpstream, OpenAIHttpUpstream, Upstream

__all__ = ["AuditLogSink", "build_app", "build_router", "check_fleet", "open_services"]

logger = logging.getLogger(__name__)


def build_app(
    settings: Settings,
    *,
    trusted_floor_keys: tuple[bytes, ...] | None = None,
    review: ReviewConfig | None = None,
    sighup: bool = True,
    traces: TracerProvider | None = None,
) -> Starlette:
    """The gateway's ASGI app over stores built from ``settings`` when it starts.

    Args:
        settings: the validated settings.
        trusted_floor_keys: provider keys a replacement floor must be signed by; ``None``
            means the keys shipped with Redline (configuration cannot change them).
        review: review settings beyond what :class:`Settings` carries (tests).
        sighup: reload the policy on SIGHUP (only in the main thread).
        traces: where spans go, instead of the exporter the settings name (tests).
    """

    def opener() -> AsyncIterator[Services]:
        return open_services(
            settings,
            trusted_floor_keys=trusted_floor_keys,
            review=review,
            sighup=sighup,
            traces=traces,
        )

    return create_app(asynccontextmanager(opener))


async def open_services(
    settings: Settings,
    *,
    trusted_floor_keys: tuple[bytes, ...] | None = None,
    review: ReviewConfig | None = None,
    sighup: bool = True,
    traces: TracerProvider | None = None,
) -> AsyncIterator[Services]:
    """Build every service from ``settings``; close them all when the caller is done.

    Raises:
        ConfigError, PolicyError, ClassifierError, StoreError: the gateway must not start.
    """
    async with AsyncExitStack() as stack:
        fleet = await check_fleet(settings)
        prometheus = PrometheusMetrics() if settings.metrics != "off" else None
        metrics: Metrics = prometheus or NO_METRICS
        if traces is None and settings.traces_exporter is not None:
            provider = tracer_provider(settings.traces_exporter)
            stack.callback(provider.shutdown)  # flushes the spans still batched
            traces = provider
        tracing = Tracing(traces.get_tracer(TRACER_NAME)) if traces is not None else NO_TRACING
        keys: SqliteKeyStore | PostgresKeyStore = (
            PostgresKeyStore(settings.database_url)
            if fleet and settings.database_url
            else SqliteKeyStore(settings.data_dir / "keys.db")
        )
        stack.callback(keys.close)
        authenticator = Authenticator(keys)
        router = build_router(settings)
        stack.push_async_callback(router.aclose)
        audit_log = await _open_audit(settings)
        stack.push_async_callback(audit_log.close)
        audit: AuditSink = AuditLogSink(audit_log)
        metered = MeteredAuditSink(audit, prometheus) if prometheus is not None else None
        audit = metered or audit
        halts = HaltService(_halt_store(settings), audit, channels=_halt_channels(settings, fleet))
        stack.push_async_callback(halts.aclose)
        await halts.start()
        sources = PolicySources(
            floor_path=settings.policy_floor,
            overlay_path=settings.policy_overlay,
            trusted_keys=trusted_floor_keys,
        )
        policy = await PolicyRuntime.open(sources, audit)
        if sighup:
            stack.callback(install_sighup_reload(policy))
        if fleet and settings.database_url and settings.redis_url:
            await _join(stack, settings.database_url, policy)
            await _share_reloads(stack, settings.redis_url, fleet, policy)
        lane = _open_lane(stack, settings.screening_processes)
        screener = Screener(
            judge_upstream=lambda model: router.resolve(model).upstream,
            metrics=metrics,
            lane=lane,
        )
        stack.callback(screener.close)
        screener.prepare(policy.current)  # fail to start on broken artifacts
        queue: ClosableReviewQueue | None = (
            PostgresReviewQueue(settings.database_url) if fleet and settings.database_url else None
        )
        runtime = open_review(
            settings.data_dir, audit=audit, config=review or _review(settings), queue=queue
        )
        monitors = MonitorsInForce(lambda: policy.current, _monitor_builder(settings, fleet, lane))
        register = await _authority_register(settings, audit)
        orchestrator = Orchestrator(
            router=router,
            policy=lambda: policy.current,
            screener=screener,
            audit=audit,
            halts=halts,
            monitors=monitors,
            review=runtime.service,
            enclave_label=parse_marking(settings.enclave_label),
            digest=audit_log.body_digest,
            register=register.current if register is not None else None,
            metrics=metrics,
            tracing=tracing,
            lane=lane,
        )
        # The runner needs the orchestrator, which needs the review service: bound once here.
        runtime.service.bind_runner(approved_runner(orchestrator))
        review_web = ReviewWeb(
            runtime=runtime, authenticator=authenticator, keys=keys, clock=SystemClock()
        )
        review_web.start_sweeper()
        stack.push_async_callback(review_web.aclose)
        if prometheus is not None:
            prometheus.read_at_scrape(
                ScrapeSources(
                    review_pending=lambda: _pending_since(runtime.queue),
                    halt_scopes=lambda: [h.scope for h in halts.state.halts],
                    audit_size=lambda: audit_log.size,
                    audit_running=lambda: audit_log.running,
                    audit_waiting_s=metered.oldest_waiting_s if metered else lambda: 0.0,
                    now=SystemClock().now,
                )
            )
        checks = _readiness_checks(keys, audit_log, halts, policy, runtime.queue)
        yield Services(
            max_body_bytes=settings.max_body_bytes,
            authenticator=authenticator,
            certificates=_certificate_authenticator(settings),
            orchestrator=orchestrator,
            control=ControlPlane(halts=halts, policy=policy, audit=audit),
            review=review_web,
            oversight=Oversight(audit_log),
            metrics=prometheus.exposition if prometheus is not None else None,
            metrics_access=settings.metrics,
            readiness=lambda: check_ready(checks),
            tracing=tracing,
            lane=lane,
        )


def _open_lane(stack: AsyncExitStack, processes: int) -> CpuLane | None:
    """The CPU lane for large requests (none when ``processes`` is 0), its processes
    started in the background."""
    if not processes:
        return None
    lane = CpuLane(processes=processes)
    stack.callback(lane.close)
    warming = asyncio.create_task(_warm(lane), name="redline-cpu-lane-warm")
    stack.push_async_callback(stop_task, warming)
    return lane


async def _warm(lane: CpuLane) -> None:
    """Start the CPU lane's processes in the background; until they are up (or if they
    never start: logged) large requests use threads."""
    try:
        await lane.warm()
    except Exception:
        logger.exception("the CPU lane's worker processes did not start")


def build_router(settings: Settings) -> Router:
    """Routes from settings, plus the built-in echo model unless a route claims its name.

    Raises:
        ConfigError: a route names an unknown accreditation.
    """
    upstreams: dict[str, Upstream] = {}
    for name, cfg in settings.upstreams.items():
        upstreams[name] = OpenAIHttpUpstream(
            name=name,
            base_url=cfg.base_url,
            api_key=cfg.api_key,
            azure_api_version=cfg.api_version if cfg.kind == "azure" else None,
            connect_timeout_s=cfg.connect_timeout_s,
            read_timeout_s=cfg.read_timeout_s,
            max_connections=cfg.max_connections,
        )
    routes = {
        model: ModelRoute(
            public_model=model,
            upstream=upstreams[r.upstream],
            upstream_model=r.upstream_model,
            ceiling=route_ceiling(r.accreditation, sci_systems=r.sci_systems),
        )
        for model, r in settings.routes.items()
    }
    routes.setdefault(
        ECHO_MODEL,
        ModelRoute(
            public_model=ECHO_MODEL,
            upstream=EchoUpstream(),
            upstream_model=ECHO_MODEL,
            ceiling=route_ceiling(settings.echo_accreditation),
        ),
    )
    return Router(routes)


class AuditLogSink:
    """The :class:`~redline.service.ports.AuditSink` over the Merkle audit log."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    async def record(
        self, event_type: str, payload: Mapping[str, JSONValue], *, request_id: str | None = None
    ) -> None:
        await self._log.append(event_type, payload, request_id=request_id)


async def _open_audit(settings: Settings) -> AuditLog:
    """The audit log with its checkpoint signing key (``audit.skey``): ``audit.db`` in the
    data directory, or on a fleet the one log in PostgreSQL (queue + one sequencer)."""
    signer = await asyncio.to_thread(load_or_create_signer, settings.data_dir)
    if settings.database_url:
        store = PostgresLogStore(settings.database_url, schema=AUDIT_SCHEMA, create=False)
        return await AuditLog.open(store, signer)
    return await AuditLog.open(SqliteLogStore.in_data_dir(settings.data_dir), signer)


async def check_fleet(settings: Settings) -> FleetIdentity | None:
    """On a fleet, refuse a replica the fleet would not agree with; ``None`` when embedded.

    Raises:
        ConfigError: unknown schema version, no fleet identity, this replica's secrets differ.
        StoreError: PostgreSQL or Redis cannot be reached.
    """
    settings.validate()  # also when built in code: both URLs or neither
    url = settings.database_url
    if url is None or settings.redis_url is None:
        return None
    await asyncio.to_thread(require_current, url)
    identity = await asyncio.to_thread(read_identity, url)
    if identity is None:
        raise ConfigError(
            "REDLINE_DATABASE_URL: the fleet has no identity yet: run "
            "`redline db upgrade --data-dir DIR` once and mount DIR's key files on every replica"
        )
    problems = secret_mismatches(identity, settings.data_dir)
    if problems:
        raise ConfigError("; ".join(problems))
    await _ping_redis(settings.redis_url)
    return identity


async def _ping_redis(url: str) -> None:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    client = aioredis.Redis.from_url(url)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        raise StoreError(f"REDLINE_REDIS_URL: Redis cannot be reached: {exc}") from exc
    finally:
        await client.aclose()


async def _join(stack: AsyncExitStack, url: str, policy: PolicyRuntime) -> None:
    """Join the replica register (same floor and policy as the live replicas), heartbeat,
    and leave on shutdown."""
    register = ReplicaRegister(url)
    current = policy.current
    try:
        await asyncio.to_thread(
            register.join, floor_sha256=current.floor_sha256, policy_sha256=current.sha256
        )
    except BaseException:
        register.close()
        raise

    async def beat() -> None:
        while True:
            await asyncio.sleep(BEAT_S)
            now = policy.current
            try:
                await asyncio.to_thread(
                    register.beat, floor_sha256=now.floor_sha256, policy_sha256=now.sha256
                )
            except StoreError as exc:
                logger.warning("replica heartbeat failed: %s", exc)

    task = asyncio.create_task(beat())

    async def stop() -> None:
        await stop_task(task)
        await asyncio.to_thread(register.leave)

    stack.push_async_callback(stop)


async def _share_reloads(
    stack: AsyncExitStack, redis_url: str, fleet: FleetIdentity, policy: PolicyRuntime
) -> None:
    """A reload asked of one replica (admin API, SIGHUP) makes every replica re-read its
    policy files: announced on Redis, on the fleet's policy channel, with this replica's
    token so that it ignores its own announcement. Best effort: a replica that misses one
    keeps its policy, and ``redline doctor`` shows the disagreement."""
    channel = RedisHaltChannel(redis_url, channel=f"redline:policy:{fleet.fleet_id}", what="policy")
    token = secrets.randbits(62)

    async def announce() -> None:
        await channel.publish(token)

    async def on_announcement(sender: int) -> None:
        if sender != token:
            result = await policy.reload(by="fleet", trigger="fleet")
            if not result.ok:
                logger.warning("fleet policy reload rejected here: %s", result.error)

    policy.announce_with(announce)
    task = asyncio.create_task(channel.listen(on_announcement))

    async def stop() -> None:
        await stop_task(task, unblock=channel.aclose)
        await channel.aclose()

    stack.push_async_callback(stop)


async def _authority_register(settings: Settings, audit: AuditSink) -> RegisterInForce | None:
    """The signed authority register, when configured; it must verify for the gateway to start."""
    if settings.authority_register is None or settings.authority_public_key is None:
        return None
    try:
        key = settings.authority_public_key.read_bytes()
    except OSError as exc:
        raise ConfigError(f"[authority] public_key: cannot read: {exc}") from None
    register = RegisterInForce(settings.authority_register, key, audit)
    try:
        await register.open()
    except AuthorityRegisterError as exc:
        raise ConfigError(f"[authority] register: {exc}") from None
    return register


async def _pending_since(queue: ReviewQueue) -> list[datetime]:
    """When each request still awaiting review was held."""
    return [item.created_at for item in await queue.pending()]


def _readiness_checks(
    keys: KeyStore,
    audit_log: AuditLog,
    halts: HaltService,
    policy: PolicyRuntime,
    reviews: ReviewQueue,
) -> dict[str, Check]:
    """What ``/readyz`` checks: every store answers, a policy is in force, and the audit log
    runs with a known sequencer."""

    async def key_store() -> dict[str, JSONValue]:
        await keys.lookup("readyz")
        return {}

    async def review_store() -> dict[str, JSONValue]:
        await reviews.get("readyz")
        return {}

    async def halt_store() -> dict[str, JSONValue]:
        await halts.refresh()
        return {"in_force": len(halts.state.halts)}

    async def audit() -> dict[str, JSONValue]:
        if not audit_log.running:
            return {"ok": False, "error": "the audit log is not running: appends fail"}
        return {"sequencer": audit_log.sequencer, "tree_size": audit_log.size}

    async def policy_in_force() -> dict[str, JSONValue]:
        return {"sha256": policy.current.sha256}

    return {
        "keys": key_store,
        "reviews": review_store,
        "halts": halt_store,
        "audit": audit,
        "policy": policy_in_force,
    }


def _review(settings: Settings) -> ReviewConfig:
    return ReviewConfig(
        retention_s=settings.review_retention_s,
        webhook_url=settings.review_webhook_url,
        webhook_secret=settings.review_webhook_secret,
    )


def _halt_store(settings: Settings) -> HaltStore:
    if settings.database_url:
        return PostgresHaltStore(settings.database_url, table=HALT_TABLE)
    return SqliteHaltStore.in_data_dir(settings.data_dir)


def _halt_channels(settings: Settings, fleet: FleetIdentity | None) -> list[HaltChannel]:
    """On a fleet: PostgreSQL LISTEN/NOTIFY and Redis pub/sub, on channels named for the
    fleet (two fleets sharing a Redis never wake each other)."""
    channels: list[HaltChannel] = []
    name = DEFAULT_CHANNEL if fleet is None else f"{DEFAULT_CHANNEL}:{fleet.fleet_id}"
    if settings.database_url:
        channels.append(PostgresHaltChannel(settings.database_url, channel=name))
    if settings.redis_url:
        channels.append(RedisHaltChannel(settings.redis_url, channel=name))
    return channels


def _monitor_builder(
    settings: Settings, fleet: FleetIdentity | None, lane: CpuLane | None = None
) -> Callable[[MonitorSettings], Monitors]:
    """Monitors for given policy settings: in-process windows, or on a fleet Redis ones
    shared by all replicas (keys prefixed with the fleet's id).

    Replicas of a fleet hold the same salt and confirmation key files (checked against the
    fleet's fingerprints at start-up), so they count a person once and accept each other's
    tokens.
    """
    salt = load_or_create_secret(settings.data_dir, "monitor-salt.key")
    key = load_or_create_secret(settings.data_dir, "confirmation.key")
    extractor = PersonExtractor(salt)

    def build(monitor_settings: MonitorSettings) -> Monitors:
        config = MonitorConfig.from_policy(monitor_settings)
        state: MonitorState = (
            RedisMonitorState.from_url(
                settings.redis_url, config, prefix=f"rl:{fleet.fleet_id}:mon"
            )
            if settings.redis_url and fleet is not None
            else InProcessMonitorState(config)
        )
        return Monitors(
            config,
            state,
            extractor,
            confirmation_key=key,
            clock=SystemClock(),
            offload=lane.offload if lane is not None else None,
        )

    return build


def _certificate_authenticator(settings: Settings) -> CertificateAuthenticator | None:
    """Client-certificate identities when mTLS is on (see gateway/identity.py)."""
    tls = settings.tls
    if tls is None or tls.client_ca is None:
        return None
    return CertificateAuthenticator(tls.identities)
