"""A real fleet for tests: a fresh PostgreSQL database, Redis, ``redline serve`` replicas
and HAProxy from the distribution in front of them.

Everything is real and isolated per test: a database ``redline_fleet_<random>`` created and
dropped (``WITH (FORCE)``), Redis keys under the fleet's own prefix (deleted afterwards),
replicas on ports the OS picked (``--port 0``), HAProxy listening on a socket this process
bound to port 0 and handed over as ``fd@N``.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import redis

from tests.support.servers import redline_cli, subprocess_env, wait_serving

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
FLEET_FILES = (
    "audit.skey",
    "audit.vkey",
    "review-body.key",
    "monitor-salt.key",
    "confirmation.key",
)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"redline_fleet_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as db:
            db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class Replica:
    """One running ``redline serve`` of the fleet."""

    name: str
    url: str
    process: subprocess.Popen[str]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class Fleet:
    """Replicas sharing one database and one Redis, each with its own data directory."""

    root: Path
    database_url: str
    redis_url: str = REDIS_URL
    replicas: dict[str, Replica] = field(default_factory=dict)
    fleet_id: str = ""
    log_level: str = "info"

    @property
    def secrets_dir(self) -> Path:
        return self.root / "fleet"

    def env(self, data_dir: Path | None = None, **extra: str) -> dict[str, str]:
        return subprocess_env(
            REDLINE_DATA_DIR=str(data_dir or self.secrets_dir),
            REDLINE_DATABASE_URL=self.database_url,
            REDLINE_REDIS_URL=self.redis_url,
            REDLINE_LOG_LEVEL=self.log_level,
            **extra,
        )

    def upgrade(self) -> str:
        """``redline db upgrade``: the schema and the fleet's key files; returns its output."""
        done = redline_cli("db", "upgrade", "--data-dir", str(self.secrets_dir), env=self.env())
        assert done.returncode == 0, done.stderr
        with psycopg.connect(self.database_url) as db:
            row = db.execute("SELECT fleet_id FROM redline.fleet").fetchone()
        assert row is not None
        self.fleet_id = str(row[0])
        return done.stdout

    def key(self, tenant: str, *roles: str, clearance: str = "U") -> str:
        args = ["keys", "create", "--tenant", tenant, "--clearance", clearance]
        for role in roles:
            args += ["--role", role]
        created = redline_cli(*args, env=self.env())
        assert created.returncode == 0, created.stderr
        return created.stdout.strip()

    def data_dir(self, name: str) -> Path:
        """A replica's data directory holding copies of the fleet's key files."""
        target = self.root / name
        target.mkdir(mode=0o700, exist_ok=True)
        for file in FLEET_FILES:
            if not (target / file).exists():
                shutil.copy2(self.secrets_dir / file, target / file)
        return target

    def start(self, name: str, *extra: str, timeout: float = 90) -> Replica:
        data_dir = self.data_dir(name)
        log = self.root / f"{name}.log"
        with log.open("a") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "redline", "serve", "--port", "0", *extra],
                env=self.env(data_dir),
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        try:
            url, _ = wait_serving(proc, log, timeout)
        except RuntimeError:
            proc.kill()
            proc.wait()
            raise
        replica = Replica(name=name, url=url, process=proc, log=log)
        self.replicas[name] = replica
        return replica

    def start_failure(self, name: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        """Start a replica that is expected to refuse: (exit code, output)."""
        done = subprocess.run(
            [sys.executable, "-m", "redline", "serve", "--port", "0"],
            env=env or self.env(self.data_dir(name)),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return done.returncode, done.stdout + done.stderr

    def kill9(self, replica: Replica) -> None:
        replica.process.send_signal(signal.SIGKILL)
        replica.process.wait()
        self.replicas.pop(replica.name, None)

    def sequencer_pid(self) -> int | None:
        """The pid of the replica holding the audit sequencer lock (from PostgreSQL)."""
        from redline.audit.postgres_store import PostgresLogStore

        store = PostgresLogStore(self.database_url, create=False)
        try:
            name = store.sequencer()
        finally:
            store.close()
        return None if name is None else int(name.rsplit(":", 1)[1])

    def stop(self) -> None:
        for replica in list(self.replicas.values()):
            replica.process.terminate()
        for replica in list(self.replicas.values()):
            try:
                replica.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()
        self.replicas.clear()
        if self.fleet_id:
            client = redis.Redis.from_url(self.redis_url)
            keys = list(client.scan_iter(match=f"rl:{self.fleet_id}:*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()


@contextlib.contextmanager
def running_fleet(root: Path, *, log_level: str = "info") -> Iterator[Fleet]:
    """A fleet on a fresh database (schema upgraded); replicas stopped afterwards."""
    with fresh_database() as url:
        fleet = Fleet(root=root, database_url=url, log_level=log_level)
        fleet.upgrade()
        try:
            yield fleet
        finally:
            fleet.stop()


@contextlib.contextmanager
def haproxy(backends: dict[str, str], root: Path) -> Iterator[str]:
    """HAProxy (the distribution's) in front of ``backends`` (name -> base URL); yields its URL.

    Round robin with health checks; a connection refused by a dead replica is retried on
    another (``option redispatch``), never a request already sent. Console traffic is pinned
    to one replica by a cookie, because console sessions live in the replica's memory.
    """
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    servers = "\n".join(
        f"    server {name} {url.removeprefix('http://')} check inter 300 fall 1 rise 1"
        f" cookie {name}"
        for name, url in backends.items()
    )
    root.mkdir(parents=True, exist_ok=True)
    config = root / "haproxy.cfg"
    config.write_text(
        f"""global
    maxconn 512
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch 1
frontend redline
    bind fd@{sock.fileno()}
    acl console path_beg /console
    use_backend console if console
    default_backend replicas
backend replicas
    balance roundrobin
{servers}
backend console
    balance roundrobin
    cookie RLSRV insert indirect nocache
{servers}
"""
    )
    log = root / "haproxy.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [binary, "-db", "-f", str(config)],
            pass_fds=(sock.fileno(),),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/v1/models", timeout=2).status_code == 401:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"haproxy did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        sock.close()


class Console:
    """A reviewer signed in to one replica's console (cookies kept by hand: they are
    ``Secure`` and the test speaks plain HTTP)."""

    def __init__(self, base: str, api_key: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        self.cookies: dict[str, str] = {}
        page = self._get("/console/login")
        token = CSRF.search(page.text)
        assert token is not None, page.text
        signed = self._post("/console/login", {"api_key": api_key, "csrf_token": token.group(1)})
        assert signed.status_code in (200, 303), signed.text

    def _keep(self, response: httpx.Response) -> httpx.Response:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response

    def _headers(self) -> dict[str, str]:
        return {"cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def _get(self, path: str) -> httpx.Response:
        return self._keep(self.http.get(path, headers=self._headers()))

    def _post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self._keep(self.http.post(path, data=data, headers=self._headers()))

    def item(self, review_id: str) -> httpx.Response:
        return self._get(f"/console/items/{review_id}")

    def approve(self, review_id: str, rationale: str) -> httpx.Response:
        page = self.item(review_id)
        token = CSRF.search(page.text)
        assert token is not None, page.text
        return self._post(
            f"/console/items/{review_id}/decide",
            {"decision": "approve", "rationale": rationale, "csrf_token": token.group(1)},
        )

    def close(self) -> None:
        self.http.close()


def entries_of_export(directory: Path, size: int) -> list[bytes]:
    """The entries of a tlog-tiles export, read from its entry bundles (uint16 lengths)."""
    entries: list[bytes] = []
    bundle = 0
    while len(entries) < size:
        full = size - len(entries) >= 256
        name = _tile_path(bundle) if full else f"{_tile_path(bundle)}.p/{size - len(entries)}"
        data = (directory / "tile" / "entries" / name).read_bytes()
        offset = 0
        while offset < len(data):
            length = int.from_bytes(data[offset : offset + 2], "big")
            entries.append(data[offset + 2 : offset + 2 + length])
            offset += 2 + length
        bundle += 1
    return entries


def _tile_path(n: int) -> str:
    text = f"{n:03d}"
    groups: list[str] = []
    while len(text) > 3:
        groups.insert(0, text[-3:])
        text = text[:-3]
    groups.insert(0, text.rjust(3, "0"))
    return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])


__all__ = [
    "PG_ADMIN_URL",
    "REDIS_URL",
    "Console",
    "Fleet",
    "Replica",
    "entries_of_export",
    "fresh_database",
    "haproxy",
    "running_fleet",
]
