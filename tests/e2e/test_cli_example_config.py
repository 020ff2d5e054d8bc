"""``redline.example.toml`` (repository root) stays loadable: the real Settings loader, and a
real ``redline serve`` started on it, so the quickstart cannot rot."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from redline.access import route_ceiling
from redline.errors import ConfigError
from redline.settings import Settings
from tests.support.servers import redline_cli, redline_serve_process, subprocess_env

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[2] / "redline.example.toml"
SECRETS = {"OPENAI_API_KEY": "sk-test", "AZURE_OPENAI_API_KEY": "azure-test"}


def test_example_loads_through_settings(tmp_path: Path) -> None:
    settings = Settings.load(SECRETS, config_path=EXAMPLE, data_dir=tmp_path)
    assert set(settings.upstreams) == {"openai", "vllm", "azure-gpt4o"}
    openai, vllm, azure = (settings.upstreams[n] for n in ("openai", "vllm", "azure-gpt4o"))
    assert (openai.kind, openai.api_key) == ("openai", "sk-test")
    assert (vllm.kind, vllm.api_key) == ("openai", None)
    assert (azure.kind, azure.api_key, azure.api_version) == ("azure", "azure-test", "2024-10-21")
    assert set(settings.routes) == {"gpt-4o", "llama-70b", "azure-gpt-4o"}
    for route in settings.routes.values():
        assert route.upstream in settings.upstreams
        route_ceiling(route.accreditation, sci_systems=route.sci_systems)  # raises if unknown
    with pytest.raises(ConfigError, match="OPENAI_API_KEY is not set"):
        Settings.load({}, config_path=EXAMPLE, data_dir=tmp_path)


def test_gateway_starts_on_the_example(tmp_path: Path) -> None:
    env = subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "data"), **SECRETS)
    created = redline_cli("keys", "create", "--tenant", "ops", env=env)
    assert created.returncode == 0, created.stderr
    with redline_serve_process(env, config=EXAMPLE) as served:
        models = httpx.get(
            served.url + "/v1/models",
            headers={"authorization": f"Bearer {created.stdout.strip()}"},
        )
    assert models.status_code == 200, models.text
    assert {m["id"] for m in models.json()["data"]} == {
        "gpt-4o",
        "llama-70b",
        "azure-gpt-4o",
        "redline-echo",
    }
