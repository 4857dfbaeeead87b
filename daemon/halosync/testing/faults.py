"""Provider faults any fake can suffer: the kit serves a plugin's fake behind ``FaultyApp``, so every plugin is
checked against the same 429s and lost answers without its author building them into the fake.

``FaultyApp`` wraps an ASGI app. Armed faults apply to the next matching requests, in order:

- ``throttle(retry_after=...)``: the request is answered 429 Too Many Requests without reaching the fake, with a
  ``Retry-After`` header when ``retry_after`` is given (and without one otherwise, as many providers do);
- ``lose_answer()``: the request reaches the fake (which carries it out), but its answer never gets back: the
  client sees a 504 Gateway Timeout, as behind a proxy whose upstream timed out after the work was done.

Which requests a fault may hit is ``matches(method, path)``: by default every request that is not a GET, since
what matters is a write whose answer is lost; a fake that also POSTs for tokens narrows it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from halosync.plugin import ASGIApp, Receive, Scope, Send, respond

Matcher = Callable[[str, str], bool]  # (method, path) -> may this fault hit the request?
FaultKind = Literal["throttle", "lose"]


def any_request(method: str, path: str) -> bool:
    return True


def writes(method: str, path: str) -> bool:
    return method.upper() not in ("GET", "HEAD", "OPTIONS")


@dataclass
class Fault:
    kind: FaultKind
    matches: Matcher
    retry_after: float | None = None


@dataclass(frozen=True)
class Hit:
    """A request a fault was applied to."""

    kind: FaultKind
    method: str
    path: str


class FaultyApp:
    """An ASGI app that serves ``app``, applying armed faults to the requests they match."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.armed: deque[Fault] = deque()
        self.hits: list[Hit] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every HTTP request seen

    def throttle(self, *, retry_after: float | None = None, matches: Matcher = any_request, times: int = 1) -> None:
        for _ in range(times):
            self.armed.append(Fault("throttle", matches, retry_after))

    def lose_answer(self, *, matches: Matcher = writes, times: int = 1) -> None:
        for _ in range(times):
            self.armed.append(Fault("lose", matches))

    def pending(self) -> int:
        """Armed faults no request has hit yet."""
        return len(self.armed)

    def _take(self, method: str, path: str) -> Fault | None:
        for fault in self.armed:
            if fault.matches(method, path):
                self.armed.remove(fault)
                self.hits.append(Hit(fault.kind, method, path))
                return fault
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = str(scope["method"]), str(scope["path"])
        self.requests.append((method, path))
        fault = self._take(method, path)
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind == "throttle":
            headers = {} if fault.retry_after is None else {"retry-after": f"{fault.retry_after:g}"}
            await respond(send, 429, {"error": "Too Many Requests (halosync.testing)"}, headers=headers)
        else:
            await self.app(scope, receive, _discard)  # carried out; the answer is dropped on the floor
            await respond(send, 504, "Gateway Timeout (halosync.testing: the answer was lost)")


async def _discard(message: MutableMapping[str, Any]) -> None:
    return None
