"""Control methods: what the daemon answers on its socket, built-in or added by another component.

A component adds a method by registering a ``ControlMethod`` with ``daemon.add_control_method``
(halosync.daemon.api.MethodRegistration)::

    async def silence(call: Call) -> dict[str, Any]:
        rule = call.str_param("rule", required=True)
        ...
        return {"silenced": rule}

    daemon.add_control_method(ControlMethod("alerts.silence", silence, mutating=True,
                                            help="silence an alert rule for a while"))

A handler gets a ``Call`` (the daemon's ports, the parameters, the peer) and returns a JSON-able result, or raises
``ControlFailure(code, message)``. A streaming handler sends events with ``await call.emit({...})`` before it
returns. Every call of a mutating method is written to the audit log first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import trio
from loguru import logger

from halosync.control.protocol import ControlFailure
from halosync.daemon.api import Lifecycle, StateView

if TYPE_CHECKING:
    from halosync.control.peer import Peer
    from halosync.control.snapshot import StatusSnapshot

Handler = Callable[["Call"], Awaitable[Any]]
Emit = Callable[[dict[str, Any]], Awaitable[None]]


async def no_events(event: dict[str, Any]) -> None:
    return None


@dataclass(frozen=True)
class ControlMethod:
    name: str
    handler: Handler
    help: str = ""
    # True, or a predicate on the parameters for a method that only sometimes writes (integrity with repair).
    mutating: bool | Callable[[Mapping[str, Any]], bool] = False
    streaming: bool = False

    def is_mutating(self, params: Mapping[str, Any]) -> bool:
        return self.mutating(params) if callable(self.mutating) else self.mutating

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "help": self.help, "mutating": self.mutating is not False,
                "streaming": self.streaming}


class ControlPorts(StateView, Lifecycle, Protocol):
    """What the control socket's methods need of the daemon: its state (and engine) to read and steer, and the
    lifecycle (``reload``). Registered methods are read on every call, so a component may add its own later."""

    @property
    def control_methods(self) -> Mapping[str, ControlMethod]: ...


@dataclass
class Call:
    """One request being served."""

    daemon: ControlPorts
    method: str
    params: dict[str, Any]
    peer: Peer
    # Background work that must outlive this connection (a sync started without --follow) goes here.
    nursery: trio.Nursery
    status: StatusSnapshot  # the control component's cache of the figures behind `status`
    emit: Emit = field(default=no_events)

    def _param(self, name: str, kinds: type | tuple[type, ...], default: Any, required: bool) -> Any:
        if name not in self.params or self.params[name] is None:
            if required:
                raise ControlFailure("invalid_params", f"{self.method}: parameter {name!r} is required")
            return default
        value = self.params[name]
        if not isinstance(value, kinds) or (isinstance(value, bool) and kinds is int):
            shown = kinds.__name__ if isinstance(kinds, type) else " or ".join(k.__name__ for k in kinds)
            raise ControlFailure("invalid_params", f"{self.method}: parameter {name!r} must be a {shown}")
        return value

    def str_param(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value: str | None = self._param(name, str, default, required)
        return value

    def bool_param(self, name: str, default: bool = False) -> bool:
        value: bool = self._param(name, bool, default, False)
        return value

    def int_param(self, name: str, default: int | None = None, *, required: bool = False,
                  minimum: int | None = None, maximum: int | None = None) -> int | None:
        value: int | None = self._param(name, int, default, required)
        if value is not None and ((minimum is not None and value < minimum) or
                                  (maximum is not None and value > maximum)):
            raise ControlFailure("invalid_params", f"{self.method}: {name} must be between {minimum} and {maximum}")
        return value


class MethodRegistry:
    """The built-in methods plus whatever is in ``daemon.control_methods``, looked up on every call so that a
    component may register its methods after the socket is up."""

    def __init__(self, daemon: ControlPorts, builtins: Iterable[ControlMethod]) -> None:
        self.daemon = daemon
        self.builtins = {m.name: m for m in builtins}

    def _extra(self) -> dict[str, ControlMethod]:
        out: dict[str, ControlMethod] = {}
        for name, method in self.daemon.control_methods.items():
            if isinstance(method, ControlMethod):
                out[name] = method
            else:
                logger.warning("control method {!r} is a {}, not a ControlMethod; ignored", name,
                               type(method).__name__)
        return out

    def get(self, name: str) -> ControlMethod:
        method = self.builtins.get(name) or self._extra().get(name)
        if method is None:
            raise ControlFailure("unknown_method",
                                 f"no method {name!r}; `system.methods` lists what this daemon answers")
        return method

    def all(self) -> list[ControlMethod]:
        return sorted({**self._extra(), **self.builtins}.values(), key=lambda m: m.name)
