"""Serving small ASGI apps (the provider fakes, and the daemon's own listener) with hypercorn on trio.

``serve(app, host, port, task_status=...)`` binds (port 0 picks a free port) and reports the base URL through
``task_status.started(url)``, so a test or ``halosync demo`` can ``url = await nursery.start(serve, app)``.
Also a tiny request/response helper so fakes stay readable without a web framework, and the two halves of a fake's
``python -m PACKAGE.fake``: ``fake_arguments`` (a parser with ``--host`` and ``--port``) and
``serve_until_interrupted`` (serve, print the base URL on stdout, stop on Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve as hypercorn_serve

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def serve(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    shutdown: trio.Event | None = None,
    graceful_timeout: float = 5.0,
    max_body: int = 16 * 1024 * 1024,
    read_timeout: float | None = None,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` until cancelled or until ``shutdown`` is set; report ``http://host:port`` when bound."""
    config = HypercornConfig()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.graceful_timeout = graceful_timeout
    config.keep_alive_timeout = 30
    config.wsgi_max_body_size = max_body
    # A client that stops sending mid-request is dropped after this (hypercorn takes whole seconds).
    config.read_timeout = None if read_timeout is None else max(1, math.ceil(read_timeout))
    trigger = shutdown.wait if shutdown is not None else None
    binds: list[str] = await _start(app, config, trigger, task_status)
    del binds


def fake_arguments(prog: str, description: str | None) -> argparse.ArgumentParser:
    """The command line of a fake server, ``--host`` and ``--port`` already there; add the fake's own options."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    return parser


def serve_until_interrupted(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
    """Serve ``app`` until Ctrl-C, printing its base URL on stdout once bound (what a script waits to read)."""

    async def run() -> None:
        async with trio.open_nursery() as nursery:
            url = await nursery.start(partial(serve, app, host, port))
            sys.stdout.write(url + "\n")
            sys.stdout.flush()

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the way to stop it
        trio.run(run)


async def _start(app: ASGIApp, config: HypercornConfig, trigger: Callable[[], Awaitable[None]] | None,
                 task_status: trio.TaskStatus[str]) -> list[str]:
    async with trio.open_nursery() as nursery:
        binds: list[str] = await nursery.start(
            lambda task_status: hypercorn_serve(app, config, shutdown_trigger=trigger, task_status=task_status)  # type: ignore[arg-type]
        )
        task_status.started(binds[0].rstrip("/"))
    return binds


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


async def read_request(scope: Scope, receive: Receive, max_body: int | None = None) -> Request:
    """Read a whole HTTP request. Raises ``BodyTooLarge`` past ``max_body`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if max_body is not None and size > max_body:
            raise BodyTooLarge(size)
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    return Request(scope["method"], scope["path"], query, headers, b"".join(chunks))


class BodyTooLarge(Exception):
    pass


async def respond(send: Send, status: int, body: Any = b"", *, headers: dict[str, str] | None = None,
                  content_type: str | None = None) -> None:
    """Send a whole response; ``body`` that is not bytes/str is JSON-encoded."""
    if isinstance(body, bytes):
        payload, ctype = body, content_type or "application/octet-stream"
    elif isinstance(body, str):
        payload, ctype = body.encode(), content_type or "text/plain; charset=utf-8"
    else:
        payload, ctype = json.dumps(body, separators=(",", ":")).encode(), content_type or "application/json"
    raw_headers = [(b"content-type", ctype.encode()), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(k.lower().encode(), str(v).encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


async def lifespan(receive: Receive, send: Send) -> None:
    """Answer ASGI lifespan events (for apps with nothing to set up)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
