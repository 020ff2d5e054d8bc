"""A writer under load for the kill -9 test: prints ``<index> <leaf hex>`` per ack.

Run as ``python writer_script.py DATA_DIR SKEY_TEXT``.
"""

from __future__ import annotations

import asyncio
import sys

from redline.audit import AuditLog, LogConfig, NoteSigner, SqliteLogStore


async def _worker(log: AuditLog, worker: int) -> None:
    n = 0
    while True:
        result = await log.append(
            "request_decision", {"w": worker, "n": n}, request_id=f"w{worker}-{n}"
        )
        sys.stdout.write(f"{result.index} {result.leaf_hash.hex()}\n")
        sys.stdout.flush()
        n += 1


async def main(data_dir: str, skey: str) -> None:
    signer = NoteSigner.parse(skey)
    config = LogConfig(checkpoint_interval=0.2)
    log = await AuditLog.open(SqliteLogStore.in_data_dir(data_dir), signer, config=config)
    await asyncio.gather(*(_worker(log, w) for w in range(64)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
