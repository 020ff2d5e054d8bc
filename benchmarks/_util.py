"""Small helpers shared by the benchmark scripts: percentiles, a lean HTTP/1.1 client,
and writing results into docs/benchmarks.md between markers."""

from __future__ import annotations

import asyncio
import re
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values_s: list[float]) -> tuple[float, float, float]:
    ms = [v * 1000 for v in values_s]
    return percentile(ms, 50), percentile(ms, 99), statistics.fmean(ms) if ms else float("nan")


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the section between ``<!-- name:begin -->`` markers."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = (
        DOC.read_text()
        if DOC.exists()
        else "# Benchmarks\n\nFigures written by the scripts in `benchmarks/`.\n"
    )
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    DOC.write_text(text)


class RawClient:
    """A minimal keep-alive HTTP/1.1 client: the load generator must cost far less than
    the thing measured. Handles Content-Length and chunked bodies."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer:
            self.writer.close()

    async def post(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, float]:
        """Send a POST; return (status, body, seconds to the first body byte)."""
        if self.writer is None or self.reader is None:
            await self.connect()
        assert self.writer is not None
        assert self.reader is not None
        loop = asyncio.get_running_loop()
        head = f"POST {path} HTTP/1.1\r\nhost: {self.host}\r\ncontent-length: {len(body)}\r\ncontent-type: application/json\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        started = loop.time()
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = None
        chunked = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding" and "chunked" in value:
                chunked = True
        first_byte = None
        if length is not None:
            data = await self.reader.readexactly(length)
            first_byte = loop.time() - started
            return status, data, first_byte
        parts = []
        while chunked:
            size = int((await self.reader.readline()).strip(), 16)
            if first_byte is None:
                first_byte = loop.time() - started
            if size == 0:
                await self.reader.readline()
                break
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()
        return status, b"".join(parts), first_byte or 0.0
