"""The provider request log: every request a provider client sends, at ``debug``, and the count of requests a
unit of work spent.

A client calls ``log_request`` once per HTTP exchange (answered or not), with the route *template* (``/api/Users``,
``contacts/search``), never the URL: paths and query strings may carry ids, e-mail addresses or tokens, and a
request's headers and bodies are never looked at here. ``budget`` is the client's own short account of what its
window has left after this request (``"hour 412/600, day 9,588/10,000"``), so an operator at ``debug`` sees the
budget draining request by request.

``counting()`` lets a caller (a pull, a sink batch) learn how many requests its work made: the count is a context
variable, and trio gives every task a copy of its parent's context, so requests made by another task's work (a
second sink worker, a concurrent pull) are not counted, while those of tasks the work starts are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from loguru import logger


@dataclass
class RequestCount:
    sent: int = 0  # exchanges attempted (answered or not)
    failed: int = 0  # no answer, or an answer of 400 and above


_counts: ContextVar[tuple[RequestCount, ...]] = ContextVar("halosync_request_counts", default=())


@contextmanager
def counting() -> Iterator[RequestCount]:
    """Count the requests made inside the block (by this task and the tasks it starts). Blocks may nest."""
    count = RequestCount()
    token = _counts.set((*_counts.get(), count))
    try:
        yield count
    finally:
        _counts.reset(token)


def log_request(provider: str, method: str, route: str, status: int | None, seconds: float,
                budget: str = "") -> None:
    """One request: counted for whoever counts, and logged at debug. ``status`` None: no answer (a timeout, a
    refused connection)."""
    for count in _counts.get():
        count.sent += 1
        count.failed += status is None or status >= 400
    shown = "no answer" if status is None else str(status)
    logger.debug("{}: {} {} -> {} in {:.3f} s{}", provider, method, route, shown, seconds,
                 f"; left: {budget}" if budget else "")
