"""Shared fixtures: a real mock upstream, a data directory with a key, a running gateway."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from redline.bootstrap import build_app
from redline.settings import RouteConfig, Settings, UpstreamConfig
from redline.store.keys import SqliteKeyStore
from tests.support.mock_upstream import Recorder, create_mock_upstream
from tests.support.servers import closed_port, serve_in_thread

# Property tests draw the same examples on every run, so a CI result is reproducible; each
# property still explores its full example budget (and a failure prints its example).
hypothesis_settings.register_profile("redline", derandomize=True, print_blob=True)
hypothesis_settings.load_profile("redline")

MOCK_MODELS = (
    "mock-ok",
    "mock-400",
    "mock-500",
    "mock-slow",
    "mock-break",
    "mock-endless",
    "mock-rogue",
    "mock-script",
)


@dataclass
class MockUpstream:
    url: str
    recorder: Recorder


@pytest.fixture(scope="session")
def mock_upstream_server() -> Iterator[MockUpstream]:
    recorder = Recorder()
    with serve_in_thread(create_mock_upstream(recorder)) as url:
        yield MockUpstream(url=url, recorder=recorder)


@pytest.fixture
def mock_upstream(mock_upstream_server: MockUpstream) -> MockUpstream:
    mock_upstream_server.recorder.bodies.clear()
    mock_upstream_server.recorder.headers.clear()
    return mock_upstream_server


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def api_key(data_dir: Path) -> str:
    store = SqliteKeyStore(data_dir / "keys.db")
    issued = store.create(tenant="acme", label="tests")
    store.close()
    return issued.plaintext


def gateway_settings(data_dir: Path, upstream_url: str, **overrides: object) -> Settings:
    upstreams = {
        "mock": UpstreamConfig(name="mock", base_url=upstream_url + "/v1", read_timeout_s=1.0),
        "down": UpstreamConfig(
            name="down", base_url=f"http://127.0.0.1:{closed_port()}/v1", connect_timeout_s=0.5
        ),
    }
    routes = {m: RouteConfig(model=m, upstream="mock", upstream_model=m) for m in MOCK_MODELS}
    routes["public-name"] = RouteConfig(
        model="public-name", upstream="mock", upstream_model="mock-ok"
    )
    routes["mock-down"] = RouteConfig(model="mock-down", upstream="down", upstream_model="x")
    values: dict[str, object] = {"data_dir": data_dir, "upstreams": upstreams, "routes": routes}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def gateway_url(data_dir: Path, api_key: str, mock_upstream: MockUpstream) -> Iterator[str]:
    settings = gateway_settings(data_dir, mock_upstream.url, max_body_bytes=64 * 1024)
    with serve_in_thread(build_app(settings)) as url:
        yield url


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run every ``async def`` test on asyncio through anyio's pytest plugin."""
    import inspect

    for item in items:
        function = getattr(item, "function", None)
        if function is not None and inspect.iscoroutinefunction(function):
            item.add_marker(pytest.mark.anyio)
