"""Durable webhook intake: signed deliveries per second and latency on loopback, each 202 committed to SQLite
(WAL, synchronous=FULL for the inbox commit) before it is answered.

The daemon runs in its own process (the real listener and inbox; no engine, so the numbers are the intake alone);
this process is the load generator: 16, then 64 keep-alive connections posting pre-built, pre-signed requests over
raw sockets (an HTTP client library would spend more CPU than the listener, on a machine with two cores).
Run: ``python -m tests.bench webhooks`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import trio

from halosync.webhooks.standard import signed_headers
from tests.e2e.processes import start_fake

TITLE = "webhook intake"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CONCURRENCY = (16, 64)  # keep-alive connections sending at once

Row = tuple[str, float | int | str, str, str]


def run(quick: bool) -> list[Row]:
    total = 2_000 if quick else 10_000
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="halosync-bench-") as tmp:
        server, url = _start_daemon(Path(tmp))
        try:
            trio.run(_load, url, 200, 4, "warm-")  # connections, page cache and code paths warm
            sent = 0
            listener = psutil.Process(server.pid)
            for concurrency in CONCURRENCY:
                cpu_before = sum(listener.cpu_times()[:2])
                latencies, elapsed, statuses = trio.run(_load, url, total, concurrency, f"c{concurrency}-")
                cpu = sum(listener.cpu_times()[:2]) - cpu_before
                rows += _rows(concurrency, latencies, elapsed, statuses)
                # The machine is shared: what the listener costs per delivery, and how much of a core it was given,
                # say what it would do on a core of its own (1 / cost).
                rows.append((f"{concurrency} senders: listener CPU per delivery", cpu / total * 1000, "ms", ""))
                rows.append((f"{concurrency} senders: listener's share of one core", cpu / elapsed, "", ""))
                sent += total
            stored = _stored(Path(tmp) / "halosync.db")
        finally:
            server.terminate()
            server.wait(timeout=30)
    rows.append(("accepted (202) / durably stored rows", f"{sent} / {stored}", "", "equal"))
    return rows


def _rows(concurrency: int, latencies: list[float], elapsed: float, statuses: dict[int, int]) -> list[Row]:
    latencies.sort()
    p50, p99 = latencies[len(latencies) // 2], latencies[max(0, int(len(latencies) * 0.99) - 1)]
    accepted = statuses.get(202, 0)
    other = {k: v for k, v in statuses.items() if k != 202}
    return [
        (f"{concurrency} senders: throughput", accepted / elapsed, "deliveries/s", ">= 1,000"),
        (f"{concurrency} senders: latency p50", p50 * 1000, "ms", ""),
        (f"{concurrency} senders: latency p99", p99 * 1000, "ms", "<= 50"),
        *([(f"{concurrency} senders: not 202", str(other), "", "none")] if other else []),
    ]


async def _load(url: str, total: int, concurrency: int, prefix: str) -> tuple[list[float], float, dict[int, int]]:
    host, _, port = url.removeprefix("http://").partition(":")
    requests = [_request(host, f"{prefix}{i}") for i in range(total)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    next_index = 0

    async def connection() -> None:
        nonlocal next_index
        while next_index < total:
            # hypercorn closes a keep-alive connection after 1,000 requests (it says so with "connection: close").
            stream = await trio.open_tcp_stream(host, int(port))
            async with stream:
                reader = _Responses(stream)
                while next_index < total and not reader.closing:
                    raw = requests[next_index]
                    next_index += 1
                    started = time.perf_counter()
                    await stream.send_all(raw)
                    status = await reader.next_status()
                    latencies.append(time.perf_counter() - started)
                    statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(concurrency):
            nursery.start_soon(connection)
    return latencies, time.perf_counter() - started, statuses


def _request(host: str, i: str) -> bytes:
    """One pre-built, pre-signed HTTP/1.1 request, so the load generator spends its CPU on sending, not signing."""
    body = json.dumps({"id": f"lead-{i}", "person": {"email": f"user{i}@example.com", "first_name": "Bench"},
                       "company": {"name": "Bench Ltd", "domain": "example.com"}}).encode()
    headers = signed_headers(SECRET, body, delivery_id=f"bench-{i}")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (f"POST /webhooks/webhook HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n{head}\r\n").encode() + body


class _Responses:
    """Reads HTTP/1.1 responses (with content-length) off a keep-alive connection; a minimal parser on purpose."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buffer = b""
        self.closing = False

    async def next_status(self) -> int:
        while b"\r\n\r\n" not in self.buffer:
            await self._more()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = next(int(line.split(b":", 1)[1]) for line in lines[1:] if line.lower().startswith(b"content-length"))
        while len(rest) < length:
            await self._more()
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
        self.buffer = rest[length:]
        self.closing = any(line.lower() == b"connection: close" for line in lines[1:])
        return int(lines[0].split()[1])

    async def _more(self) -> None:
        data = await self.stream.receive_some(65536)
        if not data:
            raise ConnectionError("the listener closed the connection")
        self.buffer += data


def _start_daemon(state: Path) -> tuple[subprocess.Popen[str], str]:
    config = state / "halosync.toml"
    config.write_text(f"""
[daemon]
state_dir = "{state}"
control_socket = "{state / 'control.sock'}"
log_level = "warning"
[database]
url = "sqlite:///{state / 'halosync.db'}"
[http]
listen = "127.0.0.1:0"
[plugins.webhook]
secrets = ["{SECRET}"]
""")
    # The benchmark's daemon registers the plugins it needs itself: no entry-point autoload.
    return start_fake(["tests.bench.webhook_daemon", str(config)],
                      env={**os.environ, "HALOSYNC_DISABLE_PLUGIN_AUTOLOAD": "1"})


def _stored(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        (count,) = conn.execute("SELECT count(*) FROM webhook_inbox WHERE delivery_id LIKE 'bench-c%'").fetchone()
    return int(count)
