"""The listener's life: a request in flight at SIGTERM is still answered (and stored), nothing new is accepted after,
a request slower than http.request_timeout is answered 503, and a port in use is a clear start-up error."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from pathlib import Path

import pytest
import trio
import trio.testing

from halosync import metrics
from halosync.errors import HalosyncError
from halosync.webhooks.standard import signed_headers
from tests.http.harness import SECRET, config_text, running_daemon


def raw_request(body: bytes, headers: dict[str, str]) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (f"POST /webhooks/webhook HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n{head}\r\n").encode()


async def read_response(stream: trio.SocketStream) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        chunk = await stream.receive_some(65536)
        if not chunk:
            break
        data += chunk
    return data


async def test_request_in_flight_at_sigterm_is_answered_and_stored(tmp_path: Path) -> None:
    body = json.dumps({"id": "late", "person": {"email": "late@example.com"}}).encode()
    headers = signed_headers(SECRET, body, delivery_id="msg_in_flight")
    async with running_daemon(tmp_path) as run:
        url = run.http.url
        assert url is not None
        port = int(url.rsplit(":", 1)[1])
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(raw_request(body, headers) + body[:10])
            await trio.testing.wait_all_tasks_blocked(cushion=0.05)
            assert metrics.HTTP_IN_FLIGHT._value.get() == 1  # inside the request, waiting for the rest of the body
            stopped_at = time.monotonic()
            run.daemon.request_stop()  # what SIGTERM does
            await trio.lowlevel.checkpoint()  # no new connection is taken from here on
            await stream.send_all(body[10:])
            response = await read_response(stream)
        assert response.startswith(b"HTTP/1.1 202"), response
        with pytest.raises(OSError):
            await trio.open_tcp_stream("127.0.0.1", port)
    assert time.monotonic() - stopped_at < 5  # drained, not cut off at the grace deadline
    with sqlite3.connect(tmp_path / "halosync.db") as db:
        assert db.execute("SELECT delivery_id FROM webhook_inbox").fetchall() == [("msg_in_flight",)]


async def test_a_request_slower_than_the_timeout_is_503(tmp_path: Path) -> None:
    body = json.dumps({"id": "slow", "person": {"email": "slow@example.com"}}).encode()
    async with running_daemon(tmp_path, config_text(tmp_path, request_timeout=0.3)) as run:
        assert run.http.url is not None
        async with await trio.open_tcp_stream("127.0.0.1", int(run.http.url.rsplit(":", 1)[1])) as stream:
            await stream.send_all(raw_request(body, signed_headers(SECRET, body)) + body[:5])  # never the rest
            with trio.fail_after(5):
                response = await read_response(stream)
        assert response.startswith(b"HTTP/1.1 503") and b"http.request_timeout" in response
        assert await run.inbox() == []


async def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    text = config_text(tmp_path).replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{port}"')
    try:
        with pytest.RaisesGroup(pytest.RaisesExc(HalosyncError, match="cannot listen"), flatten_subgroups=True):
            async with running_daemon(tmp_path, text):
                pass
    finally:
        taken.close()
