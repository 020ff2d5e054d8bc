"""Monitor configuration: the policy's thresholds plus the knobs the policy does not carry yet.

:class:`MonitorConfig` is built from the policy's :class:`~redline.policy.MonitorSettings`
with :meth:`MonitorConfig.from_policy`; everything the policy does not (yet) carry has a
documented default here. The policy's ``person_volume`` window becomes the first,
short window; a second 24-hour window with four times the thresholds is added unless the
policy's window is already that long. Tenant thresholds are ``tenant_factor`` times the
principal's: a dragnet split over many principals of one tenant is still one dragnet.

Scores: monitor verdicts carry ``review_score`` (at or above the review count) and
``block_score`` (at or above the block count). The defaults (0.6 / 0.9) sit above the floor's
category thresholds (review 0.5, block 0.8); an overlay may only lower those thresholds, so a
monitor's review can become a block under a stricter overlay but never an allow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from redline.errors import ConfigError
from redline.policy.model import MonitorSettings

__all__ = ["DEFAULT_EXTRA_EFFECTORS", "MonitorConfig", "VolumeWindow"]

#: Effector patterns added to the policy's ``closed_loop.effector_tools`` (fnmatch, lower-case).
DEFAULT_EXTRA_EFFECTORS: tuple[str, ...] = (
    "strike*",
    "*_strike",
    "detonate*",
    "*_detonate",
    "*_release",
    "*_arm",
    "arm_weapon*",
    "drop_*",
    "shoot*",
    "*_shoot",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class VolumeWindow:
    """One sliding window of the person-volume monitor.

    The window is a ring of ``window_s // bucket_s`` sub-buckets; it slides by whole buckets.
    Counts at or above ``review_at`` / ``block_at`` (principal) or ``tenant_review_at`` /
    ``tenant_block_at`` (tenant) escalate person-centric requests.
    """

    window_s: int
    bucket_s: int
    review_at: int
    block_at: int
    tenant_review_at: int
    tenant_block_at: int

    @property
    def buckets(self) -> int:
        """Number of sub-buckets in the ring."""
        return self.window_s // self.bucket_s


def _window(window_s: int, review_at: int, block_at: int, factor: int) -> VolumeWindow:
    bucket_s = max(1, window_s // 12) if window_s <= 7200 else max(1, window_s // 24)
    return VolumeWindow(
        window_s=window_s,
        bucket_s=bucket_s,
        review_at=review_at,
        block_at=block_at,
        tenant_review_at=review_at * factor,
        tenant_block_at=block_at * factor,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorConfig:
    """Every knob of the monitors, with defaults matching the provider floor.

    Attributes:
        windows: the person-volume windows (short first).
        unknown_weight: weight of persons with no nationality indicator in the effective
            count (DOMAIN.md §5.2: unknown nationality *plus U.S. location* is already U.S.).
        foreign_weight: weight of persons with only non-U.S. indicators (FISA §702 work on
            non-U.S. persons abroad with specific selectors is lawful, so 0 by default).
        bulk_min_records: records in one request from which it is bulk (policy).
        effector_patterns: fnmatch patterns of effector tool names (policy + extras).
        min_effector_interval_s: two confirmed effector calls closer than this are held
            for review (policy ``closed_loop.min_interval_s``).
        max_unattended_calls: more effector calls than this since the last user turn (the
            conversation's history plus the response) are held for review, confirmed or
            not (policy ``closed_loop.max_unattended_calls``).
        cadence_gaps: how many recent inter-arrival gaps the cadence statistics use.
        cadence_min_gaps: fewer gaps than this never count as a machine cadence.
        cadence_max_cv: coefficient of variation below which arrivals are "regular".
        cadence_max_median_s: median gap below which arrivals are "machine speed".
        tool_cycle_streak: consecutive tool-result requests that make a tool loop.
        loop_ttl_s: idle time after which a principal+route cadence state expires.
        token_max_ttl_s: longest lifetime of a human-confirmation token.
        fed_back_grace_s: how long after expiry a token still vouches for a tool result
            fed back to the model (the call itself was checked when it was made).
        max_principals: in-process bound on principals (and tenants) kept; LRU beyond.
        max_loops: in-process bound on principal+route cadence states; LRU beyond.
        max_tokens: in-process bound on remembered used tokens (fail closed when full).
        max_scan_chars: characters of a request scanned for identifiers and records.
        max_persons_per_request: distinct persons of one request added to the windows.
        review_score: verdict score at the review threshold.
        block_score: verdict score at the block threshold.
        examples: how many example identifier hashes a verdict cites.
    """

    windows: tuple[VolumeWindow, ...] = (
        _window(3600, 25, 100, 10),
        _window(86400, 100, 400, 10),
    )
    unknown_weight: float = 0.5
    foreign_weight: float = 0.0
    bulk_min_records: int = 100
    effector_patterns: tuple[str, ...] = (
        "fire*",
        "engage*",
        "release*",
        "launch*",
        "arm",
        "arm_*",
        "*_fire",
        "*_engage",
        "*_launch",
        *DEFAULT_EXTRA_EFFECTORS,
    )
    min_effector_interval_s: float = 5.0
    max_unattended_calls: int = 1
    cadence_gaps: int = 16
    cadence_min_gaps: int = 8
    cadence_max_cv: float = 0.15
    cadence_max_median_s: float = 2.0
    tool_cycle_streak: int = 3
    loop_ttl_s: int = 3600
    token_max_ttl_s: int = 120
    fed_back_grace_s: float = 600.0
    max_principals: int = 200_000
    max_loops: int = 200_000
    max_tokens: int = 100_000
    max_scan_chars: int = 262_144
    max_persons_per_request: int = 10_000
    review_score: float = 0.6
    block_score: float = 0.9
    examples: int = 3

    def __post_init__(self) -> None:
        if not self.windows:
            raise ConfigError("monitors: at least one person-volume window is required")
        for w in self.windows:
            if w.bucket_s <= 0 or w.window_s % w.bucket_s or w.window_s < w.bucket_s:
                raise ConfigError(f"monitors: window {w.window_s}s is not whole buckets")
            if not 0 < w.review_at <= w.block_at or not 0 < w.tenant_review_at <= w.tenant_block_at:
                raise ConfigError(f"monitors: window {w.window_s}s needs 0 < review <= block")
        if not 0.0 <= self.review_score <= self.block_score <= 1.0:
            raise ConfigError("monitors: need 0 <= review_score <= block_score <= 1")
        if self.token_max_ttl_s <= 0 or self.cadence_min_gaps < 2:
            raise ConfigError("monitors: token_max_ttl_s > 0 and cadence_min_gaps >= 2 required")
        if self.cadence_gaps < self.cadence_min_gaps:
            raise ConfigError("monitors: cadence_gaps must be >= cadence_min_gaps")

    @classmethod
    def from_policy(
        cls,
        settings: MonitorSettings,
        *,
        tenant_factor: int = 10,
        long_window_s: int = 86400,
        long_factor: int = 4,
        extra_effectors: tuple[str, ...] = DEFAULT_EXTRA_EFFECTORS,
        **overrides: object,
    ) -> MonitorConfig:
        """Build the config from the policy's monitor settings.

        Args:
            settings: ``policy.monitors``.
            tenant_factor: tenant thresholds = principal thresholds x this.
            long_window_s: the second (long) window; skipped if not longer than the policy's.
            long_factor: long-window thresholds = policy thresholds x this.
            extra_effectors: effector patterns added to the policy's.
            **overrides: any other :class:`MonitorConfig` field.

        Raises:
            ConfigError: the resulting configuration is invalid.
        """
        pv = settings.person_volume
        windows = [_window(pv.window_s, pv.review_at, pv.block_at, tenant_factor)]
        if long_window_s > pv.window_s:
            windows.append(
                _window(
                    long_window_s,
                    pv.review_at * long_factor,
                    pv.block_at * long_factor,
                    tenant_factor,
                )
            )
        patterns = tuple(dict.fromkeys((*settings.closed_loop.effector_tools, *extra_effectors)))
        base = cls(
            windows=tuple(windows),
            bulk_min_records=settings.bulk_records.min_records,
            effector_patterns=patterns,
            min_effector_interval_s=settings.closed_loop.min_interval_s,
            max_unattended_calls=settings.closed_loop.max_unattended_calls,
        )
        try:
            return replace(base, **overrides)  # type: ignore[arg-type]
        except TypeError as exc:
            raise ConfigError(f"monitors: {exc}") from exc
