"""Gateway overhead, side by side: the same mock upstream called directly, through
``redline serve`` (every safeguard on) and, when installed, through LiteLLM's proxy and
Portkey's gateway (plain routing, nothing checked), in one run.

Reported per gateway, for short and long prompts, plain and streaming, at concurrency 1
and 32: p50/p99 latency (streams: time to the first body byte), the latency added to the
direct call, requests/s, and the gateway's CPU time per request (user + system time of its
process tree, the steadiest figure on a shared machine); and per gateway, start-up time to
the first answer and resident memory (RSS of the process tree) idle and after the load.
Rounds are interleaved (every scenario runs on every gateway in each round, in a rotating
order) and the report shows the median over rounds. Each gateway is pinned to core 0 and the
mock upstream and load generator to the others when the machine has more than one core
(``--no-pin`` to switch that off).

Run: ``.venv/bin/python benchmarks/gateway_overhead.py [--rounds 3] [--requests 400]``.

The peers are never project dependencies. Install them outside the project (a peer that is
not found is skipped with a note):

* LiteLLM, in its own virtual environment::

      python3 -m venv /tmp/peers/litellm-venv
      /tmp/peers/litellm-venv/bin/pip install 'litellm[proxy]'

  found at ``--litellm PATH`` (the ``litellm`` executable), else
  ``/tmp/peers/litellm-venv/bin/litellm``, else ``litellm`` on ``PATH``. It runs with the
  bundled model cost map (``LITELLM_LOCAL_MODEL_COST_MAP``), one worker, no database.
* Portkey's gateway, with npm (Node 18 or newer)::

      mkdir -p /tmp/peers/portkey && cd /tmp/peers/portkey && npm install @portkey-ai/gateway

  found at ``--portkey PATH`` (its ``build/start-server.js``), else under
  ``/tmp/peers/portkey/node_modules``; run with ``node start-server.js --headless``, the
  upstream given per request (``x-portkey-provider: openai``, ``x-portkey-custom-host``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, RawClient, percentile, write_section

SYSTEM = "You are a logistics assistant."
SHORT = "How many pallets of MREs fit in a C-130 for the exercise next week?"
PARAGRAPH = (
    "The quarterly logistics review covers fuel, spare parts and transport schedules for the "
    "northern depots. Deliveries were on time in most weeks; two were late because of weather. "
)
PEERS_DIR = Path(tempfile.gettempdir()) / "peers"


def body(prompt: str, *, stream: bool) -> bytes:
    return json.dumps(
        {
            "model": "bench",
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": prompt},
            ],
            "stream": stream,
        },
        separators=(",", ":"),
    ).encode()


def long_prompt(tokens: int, ref: str) -> str:
    """About ``tokens`` tokens of report prose in paragraphs, ending with the question."""
    out, n, i = [], 0, 0
    while n < tokens:
        out.append(f"Depot {ref}/{i}: {PARAGRAPH}")
        n += len(out[-1]) // 4
        i += 1
        if i % 5 == 0:
            out.append("\n\n")
    return "".join(out) + "\n\n" + SHORT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"port {port} did not open")


def tree(pid: int) -> list[int]:
    """``pid`` and its live descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                todo += [int(c) for c in children]
        except OSError:
            continue
    return out


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_mb(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


async def run_load(
    port: int, payloads: list[bytes], headers: dict[str, str], concurrency: int
) -> tuple[list[float], float]:
    """Send ``payloads`` over ``concurrency`` keep-alive connections; return (per-request
    latency, or time to the first body byte for streams, and wall seconds)."""
    latencies: list[float] = []

    async def worker(mine: list[bytes]) -> None:
        client = RawClient("127.0.0.1", port)
        await client.connect()
        loop = asyncio.get_running_loop()
        for payload in mine:
            started = loop.time()
            status, data, first = await client.post("/v1/chat/completions", payload, headers)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {data[:300]!r}")
            stream = b'"stream":true' in payload
            latencies.append(first if stream else loop.time() - started)
        await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(payloads[k::concurrency]) for k in range(concurrency)))
    return latencies, time.perf_counter() - started


def payloads(prompt: str, mode: str, n: int, long_tokens: int) -> list[bytes]:
    """``n`` distinct requests: every request, and every paragraph of a long prompt, carries
    its own reference number, so no gateway can answer from a cache of earlier prompts."""
    salt = secrets.token_hex(4)
    stream = mode == "stream"
    if prompt == "short":
        return [body(f"{SHORT} (ref {salt}-{i})", stream=stream) for i in range(n)]
    return [body(long_prompt(long_tokens, f"{salt}-{i}"), stream=stream) for i in range(n)]


@dataclass
class Gateway:
    """One gateway under test (or the direct call)."""

    name: str
    port: int
    headers: dict[str, str]
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    startup_s: float = 0.0
    rss_idle: float = 0.0
    rss_loaded: float = 0.0

    def start(self, workdir: Path, pin: list[str]) -> None:
        if not self.command:
            return
        log = open(workdir / f"{self.name}.log", "wb")  # noqa: SIM115 - lives with the process
        started = time.perf_counter()
        self.proc = subprocess.Popen([*pin, *self.command], env=self.env, stdout=log, stderr=log)
        wait_port(self.port, timeout=120)
        payload = body(SHORT, stream=False)
        deadline = time.monotonic() + 120
        while True:
            try:
                asyncio.run(run_load(self.port, [payload], self.headers, 1))
                break
            except (RuntimeError, OSError, ValueError, IndexError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.startup_s = time.perf_counter() - started
        time.sleep(1.0)
        self.rss_idle = rss_mb(self.proc.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid) if self.proc else 0.0

    def stop(self) -> None:
        if self.proc is not None:
            self.rss_loaded = rss_mb(self.proc.pid)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def redline(workdir: Path, up_port: int) -> Gateway:
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "redline.toml"
    config.write_text(
        f'[upstreams.mock]\nbase_url = "http://127.0.0.1:{up_port}/v1"\n\n'
        '[[routes]]\nmodel = "bench"\nupstream = "mock"\nupstream_model = "bench"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINE_")}
    env["REDLINE_DATA_DIR"] = str(workdir / "data")
    sys.path.insert(0, str(ROOT / "src"))
    from redline.store.keys import SqliteKeyStore

    key = SqliteKeyStore(workdir / "data" / "keys.db").create(tenant="bench").plaintext
    return Gateway(
        name="Redline",
        port=port,
        headers={"authorization": f"Bearer {key}"},
        command=[
            sys.executable,
            "-m",
            "redline",
            "serve",
            "--port",
            str(port),
            "--config",
            str(config),
        ],
        env=env,
    )


def litellm(workdir: Path, up_port: int, path: str | None) -> Gateway | str:
    exe = path or (
        str(PEERS_DIR / "litellm-venv/bin/litellm")
        if (PEERS_DIR / "litellm-venv/bin/litellm").exists()
        else shutil.which("litellm")
    )
    if not exe:
        return "LiteLLM not found (see the docstring to install it): skipped"
    port = free_port()
    master = "sk-" + secrets.token_hex(32)  # the proxy refuses to start without a master key
    config = workdir / "litellm.yaml"
    config.write_text(
        "model_list:\n  - model_name: bench\n    litellm_params:\n"
        f"      model: openai/bench\n      api_base: http://127.0.0.1:{up_port}/v1\n"
        "      api_key: sk-bench\nlitellm_settings:\n  telemetry: false\n"
        f"general_settings:\n  master_key: {master}\n"
    )
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOG": "ERROR",
        "LITELLM_TELEMETRY": "False",
    }
    return Gateway(
        name="LiteLLM",
        port=port,
        headers={"authorization": f"Bearer {master}"},
        command=[exe, "--config", str(config), "--port", str(port), "--num_workers", "1"],
        env=env,
    )


def portkey(up_port: int, path: str | None) -> Gateway | str:
    script = path or str(
        PEERS_DIR / "portkey/node_modules/@portkey-ai/gateway/build/start-server.js"
    )
    node = shutil.which("node")
    if not Path(script).exists() or not node:
        return "Portkey gateway not found (see the docstring to install it): skipped"
    port = free_port()
    return Gateway(
        name="Portkey",
        port=port,
        headers={
            "authorization": "Bearer sk-bench",
            "x-portkey-provider": "openai",
            "x-portkey-custom-host": f"http://127.0.0.1:{up_port}/v1",
        },
        command=[node, script, f"--port={port}", "--headless"],
        env={**os.environ, "NODE_ENV": "production"},
    )


def version(name: str, gateway: Gateway) -> str:
    if name.startswith("Redline"):
        return "baseline tree" if "baseline" in name else "this tree"
    if name == "LiteLLM":
        pip = Path(gateway.command[0]).parent / "pip"
        out = subprocess.run(
            [str(pip), "show", "litellm"], check=False, capture_output=True, text=True
        )
        found = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("Version")]
        return found[0] if found else "?"
    package = Path(gateway.command[1]).parent.parent / "package.json"
    return str(json.loads(package.read_text()).get("version", "?"))


Runs = dict[tuple[str, str, str, int], list[tuple[list[float], float, float]]]


def measure(
    g: Gateway,
    scenario: tuple[str, str, int],
    requests: tuple[list[bytes], list[bytes]],
    runs: Runs,
    failed: dict[tuple[str, str, str, int], str],
) -> None:
    """One run of one scenario on one gateway (after a short warm-up); a gateway that
    fails a scenario is not asked again and the report says so."""
    prompt, mode, concurrency = scenario
    key = (g.name, prompt, mode, concurrency)
    if key in failed:
        return
    warm, measured = requests
    try:
        asyncio.run(run_load(g.port, warm, g.headers, concurrency))
        before = g.cpu()
        lat, wall = asyncio.run(run_load(g.port, measured, g.headers, concurrency))
    except (RuntimeError, OSError, ValueError, IndexError) as exc:
        failed[key] = str(exc)[:120]
        print(f"{g.name} {prompt} {mode} c={concurrency}: {exc}", flush=True)
        return
    cpu_ms = (g.cpu() - before) / len(lat) * 1000
    runs.setdefault(key, []).append(([x * 1000 for x in lat], len(lat) / wall, cpu_ms))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400, help="short-prompt requests per run")
    parser.add_argument("--long-requests", type=int, default=128, help="long-prompt requests")
    parser.add_argument("--long-tokens", type=int, default=2000)
    parser.add_argument("--litellm", help="path to the litellm executable")
    parser.add_argument("--portkey", help="path to Portkey's build/start-server.js")
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument(
        "--baseline-src", type=Path, help="also run Redline from this src directory (PYTHONPATH)"
    )
    parser.add_argument("--only", help="comma-separated gateway names to run")
    return parser.parse_args()


def main() -> None:
    args = parse_args()

    cores = os.cpu_count() or 1
    pin: list[str] = []
    taskset = shutil.which("taskset")
    if not args.no_pin and cores > 1 and taskset and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(1, cores)))  # this process and the upstream
        pin = [taskset, "-c", "0"]

    workdir = Path(tempfile.mkdtemp(prefix="redline-bench-"))
    up_port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "mock_upstream_fast.py"), str(up_port)]
    )
    notes: list[str] = []
    gateways: list[Gateway] = [Gateway(name="direct", port=up_port, headers={})]
    gateways.append(redline(workdir, up_port))
    if args.baseline_src:  # another Redline tree beside this one, e.g. before a change
        base = redline(workdir / "baseline", up_port)
        base.name = "Redline (baseline)"
        base.env["PYTHONPATH"] = str(args.baseline_src)
        gateways.append(base)
    for peer in (litellm(workdir, up_port, args.litellm), portkey(up_port, args.portkey)):
        if isinstance(peer, str):
            print(peer)
            notes.append(peer)
        else:
            gateways.append(peer)
    if args.only:
        keep = {n.strip().lower() for n in args.only.split(",")} | {"direct"}
        gateways = [g for g in gateways if g.name.split()[0].lower() in keep]
    scenarios = [
        (prompt, mode, concurrency)
        for prompt in ("short", "long")
        for mode in ("plain", "stream")
        for concurrency in (1, 32)
    ]
    # (gateway, prompt, mode, concurrency) -> per round: (latencies ms, req/s, cpu ms/request)
    runs: Runs = {}
    failed: dict[tuple[str, str, str, int], str] = {}
    try:
        wait_port(up_port)
        for g in gateways:
            g.start(workdir, pin)
            print(f"{g.name}: up in {g.startup_s:.2f} s, RSS {g.rss_idle:.0f} MB", flush=True)
        for r in range(args.rounds):
            order = gateways[r % len(gateways) :] + gateways[: r % len(gateways)]
            for prompt, mode, concurrency in scenarios:
                total = args.requests if prompt == "short" else args.long_requests
                for g in order:
                    requests = (
                        payloads(prompt, mode, 2 * concurrency, args.long_tokens),
                        payloads(prompt, mode, total, args.long_tokens),
                    )
                    measure(g, (prompt, mode, concurrency), requests, runs, failed)
                print(f"round {r + 1}: {prompt} {mode} c={concurrency} done", flush=True)
    finally:
        for g in gateways:
            g.stop()
        upstream.terminate()
        upstream.wait(timeout=10)

    text = report(args, gateways, runs, failed, scenarios, notes, pinned=bool(pin))
    print(text)
    write_section(
        "gateway_overhead", "## Gateway overhead (`benchmarks/gateway_overhead.py`)\n\n" + text
    )


def report(
    args: argparse.Namespace,
    gateways: list[Gateway],
    runs: Runs,
    failed: dict[tuple[str, str, str, int], str],
    scenarios: list[tuple[str, str, int]],
    notes: list[str],
    *,
    pinned: bool,
) -> str:
    """The Markdown tables: medians over rounds."""
    cores = os.cpu_count() or 1

    def med(key: tuple[str, str, str, int], what: str) -> float:
        values = []
        for lat, rps, cpu in runs[key]:
            values.append(
                {"p50": percentile(lat, 50), "p99": percentile(lat, 99), "rps": rps, "cpu": cpu}[
                    what
                ]
            )
        return statistics.median(values)

    names = [g.name for g in gateways if g.name != "direct"]
    lines = [
        f"Machine: {cores} cores shared with other work, Python {platform.python_version()}; "
        f"{args.rounds} interleaved rounds, medians over rounds; {args.requests} short-prompt and "
        f"{args.long_requests} long-prompt requests per run, every request distinct (its own "
        "reference number, in every paragraph of a long prompt: nothing is served from a "
        "cache of earlier prompts); short prompt: a system prompt and "
        f"a {len(SHORT)}-character question; long prompt: ~{args.long_tokens:,} tokens of report "
        f"prose. Gateways pinned to core 0, the mock upstream "
        "(`benchmarks/mock_upstream_fast.py`) and the load generator (raw asyncio HTTP/1.1, "
        "keep-alive) on the other core"
        + ("" if pinned else " (pinning off)")
        + ". Stream latency is time to the first body byte. Redline runs with every safeguard "
        "on (screening, monitors, markings, audit); the peers route only. Versions: "
        + ", ".join(f"{g.name} {version(g.name, g)}" for g in gateways if g.name != "direct")
        + ".",
        "",
        "| prompt | mode | c | gateway | p50 ms | p99 ms | added p50 ms | req/s | CPU ms/request |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for prompt, mode, concurrency in scenarios:
        direct = med(("direct", prompt, mode, concurrency), "p50")
        lines.append(
            f"| {prompt} | {mode} | {concurrency} | direct | {direct:.2f} | "
            f"{med(('direct', prompt, mode, concurrency), 'p99'):.2f} | | "
            f"{med(('direct', prompt, mode, concurrency), 'rps'):,.0f} | |"
        )
        for name in names:
            key = (name, prompt, mode, concurrency)
            if key in failed:
                lines.append(
                    f"| {prompt} | {mode} | {concurrency} | {name} | failed: "
                    f"{failed[key].replace('|', '/')} | | | | |"
                )
                continue
            lines.append(
                f"| {prompt} | {mode} | {concurrency} | {name} | {med(key, 'p50'):.2f} | "
                f"{med(key, 'p99'):.2f} | {med(key, 'p50') - direct:+.2f} | "
                f"{med(key, 'rps'):,.0f} | {med(key, 'cpu'):.2f} |"
            )
    lines += [
        "",
        "| gateway | start-up to first answer s | RSS idle MB | RSS after load MB |",
        "|---|---|---|---|",
    ]
    for g in gateways:
        if g.name != "direct":
            lines.append(
                f"| {g.name} | {g.startup_s:.2f} | {g.rss_idle:.0f} | {g.rss_loaded:.0f} |"
            )
    if notes:
        lines += ["", *(f"Note: {n}." for n in notes)]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
