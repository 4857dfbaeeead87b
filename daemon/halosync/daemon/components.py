"""The long-lived parts of the daemon. Each is started with ``nursery.start`` and reports ready through
``task_status.started()``; READY=1 is sent only after the last one has.

A component is any object with a ``name`` and ``async def run(self, daemon, *, task_status)``. The order here is
the start order: the store and plugins first, front ends last, so nothing answers before it can be served.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import trio

if TYPE_CHECKING:
    from halosync.daemon.app import Daemon


class Component(Protocol):
    name: str

    async def run(self, daemon: Daemon, *, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        ...


def default_components(daemon: Daemon) -> list[Component]:
    """Imported here, not at module level, so that a front end that is switched off costs nothing at start-up."""
    from halosync.alerts.component import AlertsComponent
    from halosync.control.server import ControlComponent
    from halosync.engine.component import EngineComponent

    out: list[Component] = [EngineComponent(), ControlComponent()]
    if daemon.config.get("http.listen"):
        from halosync.http.server import HTTPComponent

        out.append(HTTPComponent())
    out.append(AlertsComponent())
    return out
