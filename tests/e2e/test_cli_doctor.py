"""``redline doctor`` on a real fleet: says what is wrong, exits non-zero when something is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fleet import running_fleet
from tests.support.servers import redline_cli, subprocess_env

pytestmark = pytest.mark.e2e


def test_doctor_reports_a_healthy_fleet_and_what_is_wrong(tmp_path: Path) -> None:
    with running_fleet(tmp_path) as fleet:
        replica = fleet.start("r1")
        healthy = redline_cli("doctor", env=fleet.env(fleet.data_dir("r1")))
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        assert "ok    database schema: version 1" in healthy.stdout
        assert "ok    audit sequencer: held by" in healthy.stdout
        assert f":{replica.pid}" in healthy.stdout

        bare = tmp_path / "bare"
        bare.mkdir(mode=0o700)
        missing = redline_cli("doctor", env=fleet.env(bare))
        assert missing.returncode == 1
        assert "FAIL  key files: the fleet's audit signing key (audit.skey) is missing" in (
            missing.stdout
        )

        overlay = tmp_path / "overlay.toml"
        overlay.write_text('schema_version = 1\n[[routes]]\nmodel = "redline-echo"\n')
        config = tmp_path / "redline.toml"
        config.write_text(f'[policy]\noverlay = "{overlay}"\n')
        differs = redline_cli(
            "doctor", "--config", str(config), env=fleet.env(fleet.data_dir("r1"))
        )
        assert differs.returncode == 1
        assert "differs from this configuration's policy" in differs.stdout

    half = redline_cli(
        "doctor",
        env=subprocess_env(
            REDLINE_DATA_DIR=str(tmp_path / "x"), REDLINE_DATABASE_URL="postgresql://h/db"
        ),
    )
    assert half.returncode == 1
    assert "REDLINE_REDIS_URL is not" in half.stdout
