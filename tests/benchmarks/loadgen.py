"""Open-loop HTTP load at a fixed arrival rate, from its own process.

Request *i* is due at ``start + i / rate`` and is sent then, on a new connection, whatever the server is
doing; its latency runs from that scheduled time to the last byte of the answer, so a server that falls
behind is charged for the queueing it causes (no coordinated omission). Each request opens its own
connection because WeCom's callbacks arrive that way and gunicorn's sync workers close after each answer.

Written on raw non-blocking sockets and epoll rather than asyncio streams: the generator shares the
machine's two cores with the server under test, and asyncio cost about 0.6 ms of CPU per request here.
"""

from __future__ import annotations

import errno
import json
import select
import socket
import sys
import time

_READ_SIZE = 65536


class _Call:
    __slots__ = ("index", "sock", "sent", "received")

    def __init__(self, index: int, sock: socket.socket):
        self.index = index
        self.sock = sock
        self.sent = 0
        self.received = bytearray()


def _response_complete(data: bytearray) -> bool:
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    head = bytes(data[:head_end]).lower()
    marker = head.find(b"content-length:")
    if marker < 0:
        return False  # no length: the answer ends when the server closes
    length = int(head[marker + 15:].split(b"\r\n", 1)[0])
    return len(data) >= head_end + 4 + length


def _status(data: bytearray) -> str:
    try:
        return data[:data.index(b"\r\n")].split()[1].decode()
    except (ValueError, IndexError):
        return "none"


def run(host: str, port: int, requests: list[bytes], rate: float, max_in_flight: int = 512,
        timeout: float = 10.0) -> dict:
    poller = select.epoll()
    calls: dict[int, _Call] = {}
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    start = time.monotonic() + 0.2
    next_index, total = 0, len(requests)

    def finish(call: _Call, status: str) -> None:
        poller.unregister(call.sock.fileno())
        del calls[call.sock.fileno()]
        call.sock.close()
        latencies.append(time.monotonic() - (start + call.index / rate))
        statuses[status] = statuses.get(status, 0) + 1

    while next_index < total or calls:
        now = time.monotonic()
        # Start every request that is due (the schedule, not the answers, sets the pace).
        while next_index < total and start + next_index / rate <= now and len(calls) < max_in_flight:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            code = sock.connect_ex((host, port))
            if code not in (0, errno.EINPROGRESS):
                sock.close()
                latencies.append(time.monotonic() - (start + next_index / rate))
                statuses["connect-error"] = statuses.get("connect-error", 0) + 1
            else:
                call = _Call(next_index, sock)
                calls[sock.fileno()] = call
                poller.register(sock.fileno(), select.EPOLLOUT)
            next_index += 1
        if next_index < total and len(calls) < max_in_flight:
            wait = max(0.0, start + next_index / rate - time.monotonic())
        else:
            wait = timeout
        events = poller.poll(wait)
        if not events:  # a quiet moment: give up on answers that are overdue
            for call in [c for c in calls.values() if time.monotonic() - (start + c.index / rate) > timeout]:
                finish(call, "timeout")
        for fd, mask in events:
            call = calls.get(fd)
            if call is None:
                continue
            if mask & select.EPOLLOUT:
                raw = requests[call.index]
                try:
                    call.sent += call.sock.send(raw[call.sent:])
                except OSError:
                    finish(call, "send-error")
                    continue
                if call.sent == len(raw):
                    poller.modify(fd, select.EPOLLIN)
                continue
            try:
                chunk = call.sock.recv(_READ_SIZE)
            except OSError:
                finish(call, _status(call.received) if call.received else "recv-error")
                continue
            if chunk:
                call.received += chunk
            if not chunk or _response_complete(call.received):
                finish(call, _status(call.received))
        if not calls and next_index >= total:
            break
    elapsed = time.monotonic() - start
    poller.close()
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    return {"sent": total, "target_rate": rate, "achieved_rate": round(total / elapsed, 1),
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": round(latencies[-1] * 1000, 2),
            "statuses": statuses}


def main() -> None:
    """stdin: JSON {host, port, rate, requests: [latin-1 strings]}; stdout: the result JSON."""
    job = json.loads(sys.stdin.read())
    raws = [r.encode("latin-1") for r in job["requests"]]
    result = run(job["host"], job["port"], raws, job["rate"], job.get("max_in_flight", 512))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
