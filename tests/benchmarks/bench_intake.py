"""Callback acknowledgement under load (issue: foundation).

Starts the production server (`advisor-bot serve`: gunicorn) on PostgreSQL and Redis, then a separate
load-generator process sends freshly encrypted text messages with distinct MsgIds at fixed arrival
rates. Prints achieved rate, p50/p99 latency, CPU per request, and checks that every event reached
the inbox exactly once.

    python -m tests.benchmarks.bench_intake [--rates 100,500,1000,1500,2000] [--seconds 10] [--workers 4]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import requests
from sqlalchemy import create_engine, text

from bot import migrate
from bot.wecom.simulator.callbacks import CallbackSender
from tests.conftest import fresh_pg_database

ROOT = Path(__file__).resolve().parents[2]
CORP = "wwbenchcorp0001"
APP = {"kind": "app", "agent_id": 1000002, "secret": "s", "token": "BenchTok",
       "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int | str) -> tuple[float, float]:
    """User and system CPU seconds of one process (0, 0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0, 0.0
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def _tree_cpu(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process and its children (gunicorn master + workers)."""
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    times = [_process_cpu(p) for p in pids]
    return sum(u for u, _ in times), sum(s for _, s in times)


def _postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL server process (backends, WAL writer, checkpointer)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "comm").read_text().strip() == "postgres":
                total += sum(_process_cpu(proc.name))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def _machine_busy() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / CLK_TCK


def _load_job(port: int, rate: float, requests: list[str]) -> str:
    return json.dumps({"host": "127.0.0.1", "port": port, "rate": rate, "requests": requests})


def _run_load(job: str) -> dict:
    """Run one load job (see `_load_job`) in a separate load-generator process; its result JSON."""
    out = subprocess.run([sys.executable, "-m", "tests.benchmarks.loadgen"], input=job, text=True,
                         capture_output=True, cwd=ROOT, check=True)
    return json.loads(out.stdout)


def _requests(n: int, offset: int, port: int) -> list[str]:
    sender = CallbackSender(f"http://127.0.0.1:{port}/wecom/{{app}}/callback", CORP, {"advisor": APP})
    out = []
    for i in range(offset, offset + n):
        plaintext = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[adv{i % 300}]]>"
                     f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                     f"<Content><![CDATA[请问如何开通创业板权限？编号{i}]]></Content><MsgId>{8_000_000_000 + i}</MsgId>"
                     f"<AgentID>1000002</AgentID></xml>")
        body, params = sender.envelope("advisor", plaintext)
        raw = body.encode()
        head = (f"POST /wecom/advisor/callback?{urlencode(params)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: text/xml\r\nContent-Length: {len(raw)}\r\n\r\n")
        out.append((head.encode() + raw).decode("latin-1"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", default="100,500,1000,1500,2000")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--port", type=int, default=18731)
    args = ap.parse_args()

    url = fresh_pg_database("advisor_bench_intake")
    migrate.upgrade(url)
    cfg = ROOT / "var" / "bench_intake.toml"
    cfg.parent.mkdir(exist_ok=True)
    cfg.write_text(f"""
[app]
log_level = "WARNING"
[database]
url = "{url}"
pool_size = 2
[redis]
url = "redis://127.0.0.1:6379/9"
[server]
workers = {args.workers}
threads = {args.threads}
[worker]
embedded = false
[wecom]
corp_id = "{CORP}"
[wecom.apps.advisor]
kind = "app"
agent_id = 1000002
secret = "s"
token = "{APP['token']}"
encoding_aes_key = "{APP['encoding_aes_key']}"
""", encoding="utf-8")
    server = subprocess.Popen([str(Path(sys.executable).with_name("advisor-bot")), "--config", str(cfg), "serve",
                               "--port", str(args.port)], cwd=ROOT)
    try:
        for _ in range(200):
            if server.poll() is not None:
                raise SystemExit("the server did not start")
            try:
                requests.get(f"http://127.0.0.1:{args.port}/healthz", timeout=0.5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not answer /healthz")
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        offset, results = 0, []
        # Warm-up, not reported: every worker opens its database connection and prepares its statement.
        warm = _requests(400, offset, args.port)
        offset += len(warm)
        _run_load(_load_job(args.port, 200, warm))
        for rate in [float(r) for r in args.rates.split(",")]:
            n = int(rate * args.seconds)
            job = _load_job(args.port, rate, _requests(n, offset, args.port))  # built before the CPU readings
            offset += n
            cpu0, busy0, pg0 = _tree_cpu(server.pid), _machine_busy(), _postgres_cpu()
            gen0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            result = _run_load(job)
            cpu1, busy1, pg1 = _tree_cpu(server.pid), _machine_busy(), _postgres_cpu()
            gen1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            result["server_cpu_ms_per_req"] = round((sum(cpu1) - sum(cpu0)) * 1000 / n, 3)
            result["server_sys_ms_per_req"] = round((cpu1[1] - cpu0[1]) * 1000 / n, 3)
            result["loadgen_cpu_ms_per_req"] = round(
                (gen1.ru_utime + gen1.ru_stime - gen0.ru_utime - gen0.ru_stime) * 1000 / n, 3)
            result["postgres_cpu_ms_per_req"] = round((pg1 - pg0) * 1000 / n, 3)
            result["machine_cpu_ms_per_req"] = round((busy1 - busy0) * 1000 / n, 3)
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT count(*), count(DISTINCT dedupe_key) FROM inbox_event")).one()
            result["inbox_rows_total"], result["inbox_distinct_total"] = rows
            result["exactly_once"] = rows[0] == rows[1] == offset and result["statuses"].get("200") == n
            results.append(result)
            print(json.dumps(result, ensure_ascii=False), flush=True)
            time.sleep(1)
        engine.dispose()
    finally:
        server.terminate()
        server.wait(20)


if __name__ == "__main__":
    main()
