"""Open-loop HTTP load at a fixed arrival rate, on keep-alive connections, from its own process.

Latency is measured from each request's *scheduled* send time, so a server that falls behind is
charged for the queueing it causes (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import sys


async def _request(pool: asyncio.Queue, host: str, port: int, raw: bytes, timeout: float):
    conn = await pool.get()
    try:
        if conn is None:
            conn = await asyncio.open_connection(host, port)
        reader, writer = conn
        writer.write(raw)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        status = int(status_line.split()[1])
        length, close = 0, False
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and "close" in value.lower():
                close = True
        if length:
            await reader.readexactly(length)
        if close:
            writer.close()
            conn = None
        return status
    except Exception:
        if conn is not None:
            conn[1].close()
        conn = None
        return None
    finally:
        pool.put_nowait(conn)


async def run(host: str, port: int, requests: list[bytes], rate: float, connections: int = 64,
              timeout: float = 10.0) -> dict:
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(None)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    tasks = []

    async def one(i: int, raw: bytes):
        scheduled = start + i / rate
        status = await _request(pool, host, port, raw, timeout)
        latencies.append(loop.time() - scheduled)
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    for i, raw in enumerate(requests):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, raw)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"sent": len(requests), "target_rate": rate, "achieved_rate": round(len(requests) / elapsed, 1),
            "p50_ms": round(pct(0.50), 2), "p99_ms": round(pct(0.99), 2), "max_ms": round(latencies[-1] * 1000, 2),
            "statuses": statuses}


def main() -> None:
    """stdin: JSON {host, port, rate, connections, requests: [latin-1 strings]}; stdout: the result JSON."""
    job = json.loads(sys.stdin.read())
    raws = [r.encode("latin-1") for r in job["requests"]]
    result = asyncio.run(run(job["host"], job["port"], raws, job["rate"], job.get("connections", 64)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
