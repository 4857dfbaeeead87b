"""The HTTP listener component: hypercorn serving ``ListenerApp`` inside the daemon's nursery.

    HTTPComponent.run
      ├── InboxWriter       group-commits webhook deliveries (must outlive the server: in-flight requests need it)
      ├── InboxWorker       turns stored deliveries into work for the engine
      ├── database pings    keep the health document's database check fresh
      └── hypercorn         bound before ``task_status.started(url)``, so READY=1 waits for the bind

On SIGTERM (``daemon.stopping``) hypercorn stops accepting, lets requests in flight finish (at most
http.request_timeout, within daemon.shutdown_grace), then the writer, worker and pings stop. ``drain`` lets the
daemon wait for that before it cancels its components. ``http.listen = ""`` leaves this component out entirely.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, Protocol

import trio
from loguru import logger

from halosync.daemon.api import Lifecycle, ReloadRegistration, StateView
from halosync.errors import ConfigError, ConfigProblem, HalosyncError
from halosync.http.access import AccessLog
from halosync.http.app import ListenerApp
from halosync.http.health import keep_database_pinged
from halosync.http.webhooks import WebhookRoutes
from halosync.provider.asgi import serve
from halosync.webhooks.inbox import InboxWriter
from halosync.webhooks.registry import Verifiers
from halosync.webhooks.worker import InboxWorker


class HTTPPorts(StateView, Lifecycle, ReloadRegistration, Protocol):
    """What the listener needs of the daemon: state to show, ``stopping`` to drain on, a reload hook (the
    webhook verifiers follow the configuration)."""


class HTTPComponent:
    name = "http"

    def __init__(self) -> None:
        self.url: str | None = None  # http://host:port once bound (the real port when listen asks for :0)
        self.served = trio.Event()
        self.worker: InboxWorker | None = None
        self.app: ListenerApp | None = None

    async def run(self, daemon: HTTPPorts, *, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        config = daemon.config
        listen = str(config.get("http.listen"))
        host, port = parse_listen(listen, str(config.path or "<defaults>"))
        request_timeout = float(config.get("http.request_timeout"))
        verifiers = Verifiers(daemon)
        verifiers.load()
        daemon.add_reload_hook(verifiers.reload)
        writer = InboxWriter(daemon.store)
        worker = self.worker = InboxWorker(daemon, verifiers, on_counts=_publish_counts(daemon))
        routes = WebhookRoutes(verifiers, writer, worker, max_body=int(config.get("http.max_body_bytes")))
        app = self.app = ListenerApp(daemon, routes, request_timeout=request_timeout)
        grace = min(request_timeout + 1.0, float(config.get("daemon.shutdown_grace")))
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.run)
            nursery.start_soon(worker.run)
            nursery.start_soon(keep_database_pinged, daemon)

            async def listener(*, task_status: trio.TaskStatus[str]) -> None:
                try:
                    await serve(AccessLog(app), host, port, shutdown=daemon.stopping, graceful_timeout=grace,
                                read_timeout=request_timeout, task_status=task_status)
                finally:
                    self.served.set()
                nursery.cancel_scope.cancel()  # requests drained: the writer, worker and pings can stop

            check_bindable(host, port, listen)
            self.url = await nursery.start(listener)
            logger.info("HTTP listener on {} (health, metrics, webhooks: {})", self.url,
                        ", ".join(verifiers.names()) or "none enabled")
            task_status.started(self.url)

    async def drain(self, daemon: HTTPPorts) -> None:
        """Wait until the requests in flight at SIGTERM have been answered."""
        await self.served.wait()


def check_bindable(host: str, port: int, listen: str) -> None:
    """Fail with a message a user can act on (hypercorn would raise a bare OSError, and leak its socket)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as hypercorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise HalosyncError(f"http.listen {listen!r}: cannot listen: {exc.strerror or exc}; free the port, "
                                'choose another, or set http.listen = "" to turn the listener off') from None


def parse_listen(listen: str, file: str = "<config>") -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``:port`` (every interface) as (host, port)."""
    host, sep, port_text = listen.rpartition(":")
    host = host.strip("[]") if host else "0.0.0.0"
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError([ConfigProblem(file, 0, "http.listen",
                                         f'{listen!r} is not host:port (e.g. "127.0.0.1:8787")')])
    return host, int(port_text)


def _publish_counts(daemon: StateView) -> Callable[[dict[str, Any]], None]:
    def publish(counts: dict[str, Any]) -> None:
        daemon.health_cache.webhook_inbox = counts

    return publish
