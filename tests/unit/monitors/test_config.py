"""MonitorConfig from the policy, and its validation."""

from __future__ import annotations

import pytest

from redline.errors import ConfigError
from redline.monitors import MonitorConfig, VolumeWindow
from redline.policy import load_builtin_floor


def test_from_floor() -> None:
    config = MonitorConfig.from_policy(load_builtin_floor().monitors)
    short, long = config.windows
    assert (short.window_s, short.bucket_s, short.review_at, short.block_at) == (3600, 300, 25, 100)
    assert (short.tenant_review_at, short.tenant_block_at) == (250, 1000)
    assert (long.window_s, long.buckets, long.review_at, long.block_at) == (86400, 24, 100, 400)
    assert config.bulk_min_records == 100
    assert config.min_effector_interval_s == 5.0
    assert "fire*" in config.effector_patterns
    assert "detonate*" in config.effector_patterns


def test_overrides_and_single_window() -> None:
    monitors = load_builtin_floor().monitors
    config = MonitorConfig.from_policy(monitors, long_window_s=0, unknown_weight=1.0)
    assert len(config.windows) == 1
    assert config.unknown_weight == 1.0
    with pytest.raises(ConfigError):
        MonitorConfig.from_policy(monitors, no_such_field=1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"windows": ()},
        {
            "windows": (
                VolumeWindow(
                    window_s=100,
                    bucket_s=30,
                    review_at=1,
                    block_at=2,
                    tenant_review_at=1,
                    tenant_block_at=2,
                ),
            )
        },
        {
            "windows": (
                VolumeWindow(
                    window_s=60,
                    bucket_s=6,
                    review_at=5,
                    block_at=2,
                    tenant_review_at=1,
                    tenant_block_at=2,
                ),
            )
        },
        {"review_score": 0.95, "block_score": 0.9},
        {"token_max_ttl_s": 0},
        {"cadence_gaps": 4, "cadence_min_gaps": 8},
    ],
)
def test_invalid(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        MonitorConfig(**kwargs)  # type: ignore[arg-type]
