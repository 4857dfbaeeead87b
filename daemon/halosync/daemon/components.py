"""The long-lived parts of the daemon. Each is started with ``nursery.start`` and reports ready through
``task_status.started()``; READY=1 is sent only after the last one has.

A component is any object with a ``name`` and ``async def run(self, daemon, *, task_status)``; it types ``daemon``
as the ports of halosync.daemon.api it needs (the daemon hands itself over as ``DaemonPorts``, all of them). One
with an ``engine`` attribute provides the daemon's engine once started; one with ``drain(daemon)`` is drained on
shutdown. The order here is
the start order: the store and plugins first, front ends last, so nothing answers before it can be served.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import trio

from halosync.daemon.api import HealthRecorder, Lifecycle, MethodRegistration, ReloadRegistration, StateView

if TYPE_CHECKING:
    from halosync.control.registry import ControlMethod


class DaemonPorts(StateView, Lifecycle, ReloadRegistration, HealthRecorder, MethodRegistration["ControlMethod"],
                  Protocol):
    """Every port at once: what the daemon is to its components."""

    @property
    def control_methods(self) -> Mapping[str, ControlMethod]: ...


class Component(Protocol):
    name: str

    async def run(self, daemon: DaemonPorts, *,
                  task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        ...


def default_components(daemon: StateView) -> list[Component]:
    """Imported here, not at module level, so that a front end that is switched off costs nothing at start-up."""
    from halosync.alerts.component import AlertsComponent
    from halosync.control.server import ControlComponent
    from halosync.engine.component import EngineComponent
    from halosync.engine.retention import RetentionComponent

    out: list[Component] = [EngineComponent(), ControlComponent()]
    if daemon.config.get("http.listen"):
        from halosync.http.server import HTTPComponent

        out.append(HTTPComponent())
    out.append(AlertsComponent())
    out.append(RetentionComponent())  # issue 16: prunes personal data past its [retention] period
    return out
