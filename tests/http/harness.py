"""A real daemon with the real HTTP listener on 127.0.0.1:0, the built-in webhook plugin, and an httpx client.

Tests drive it over HTTP and look at the store the way a user would (rows in the inbox, dead letters).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import httpx
import trio

from halosync.config import loader
from halosync.daemon.app import Daemon
from halosync.daemon.components import Component
from halosync.http.server import HTTPComponent
from halosync.plugin.manager import PluginManager
from halosync.store.models import DeadLetter, WebhookInbox
from halosync.webhooks.standard import signed_headers
from halosync_builtin import webhook_source

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_ZWxkZXJzZWNyZXRmb3JrZXlyb3RhdGlvbg=="


def config_text(tmp_path: Path, *, secrets: Sequence[str] = (SECRET,), extra: str = "", max_body: int = 65536,
                database_url: str | None = None, request_timeout: float = 10.0) -> str:
    db = database_url or f"sqlite:///{tmp_path / 'halosync.db'}"
    return f"""
[daemon]
state_dir = "{tmp_path}"
control_socket = "{tmp_path / 'control.sock'}"
shutdown_grace = 5

[database]
url = "{db}"
timeout = 0.5

[http]
listen = "127.0.0.1:0"
max_body_bytes = {max_body}
request_timeout = {request_timeout}

[plugins.webhook]
secrets = {json.dumps(list(secrets))}
{extra}
"""


@dataclass
class Running:
    daemon: Daemon
    http: HTTPComponent
    client: httpx.AsyncClient

    async def inbox(self) -> list[dict[str, Any]]:
        # peewee's stubs type .dicts() as the model select; it yields dicts
        return await self.daemon.store.run(lambda: list(cast("Iterable[dict[str, Any]]", WebhookInbox.select()
                                                             .order_by(WebhookInbox.received_at).dicts())))

    async def dead_letters(self) -> list[dict[str, Any]]:
        return await self.daemon.store.run(lambda: list(cast("Iterable[dict[str, Any]]", DeadLetter.select().dicts())))

    async def deliver(self, body: bytes | dict[str, Any], *, secret: str | Sequence[str] = SECRET,
                      plugin: str = "webhook", delivery_id: str | None = None, timestamp: int | None = None,
                      headers: dict[str, str] | None = None) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        signed = signed_headers(secret, raw, delivery_id=delivery_id, timestamp=timestamp)
        return await self.client.post(f"/webhooks/{plugin}", content=raw,
                                      headers={**signed, "content-type": "application/json", **(headers or {})})


@asynccontextmanager
async def running_daemon(tmp_path: Path, text: str | None = None, *, plugins: Sequence[tuple[str, ModuleType]] = (),
                         components: Sequence[Component] = ()) -> AsyncIterator[Running]:
    path = tmp_path / "halosync.toml"
    path.write_text(text if text is not None else config_text(tmp_path))
    manager = PluginManager()
    manager.register(webhook_source, "webhook")
    for name, module in plugins:
        manager.register(module, name)
    config = loader.load(path, manager.config_specs(), environ={})
    http = HTTPComponent()
    daemon = Daemon(config, manager, components=[*components, http])
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.serve)
        try:
            assert http.url is not None
            async with httpx.AsyncClient(base_url=http.url, timeout=10) as client:
                yield Running(daemon, http, client)
        finally:
            daemon.request_stop()
