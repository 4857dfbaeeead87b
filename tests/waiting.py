"""Bounded waits for state that other tasks or processes change: the one way tests poll.

A test waits for something a user could see (a figure the control socket serves, a record in a fake, a log line).
Each wait is bounded and, when the bound passes, fails saying what it waited for and the last value it read, so a
stuck test says why instead of running into pytest's per-test timeout.

``until`` runs under trio and measures its bound on trio's clock, so a test on an autojump clock waits in virtual
time; ``until_sync`` is its twin for tests that drive real subprocesses from plain threads.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

import trio

T = TypeVar("T")


@overload
async def until(read: Callable[[], Awaitable[T]], ok: Callable[[T], object] = bool, *, what: str,
                within: float = 20.0, step: float = 0.05) -> T: ...


@overload
async def until(read: Callable[[], T], ok: Callable[[T], object] = bool, *, what: str, within: float = 20.0,
                step: float = 0.05) -> T: ...


async def until(read: Callable[[], Any], ok: Callable[[Any], object] = bool, *, what: str, within: float = 20.0,
                step: float = 0.05) -> Any:
    """Read ``read()`` (awaited if it returns an awaitable) every ``step`` seconds until ``ok(value)`` holds, and
    return that value; after ``within`` seconds fail naming ``what`` and the last value read."""
    deadline = trio.current_time() + within
    while True:
        value = read()
        if inspect.isawaitable(value):
            value = await value
        if ok(value):
            return value
        if trio.current_time() >= deadline:
            raise AssertionError(_message(what, within, value))
        await trio.sleep(step)


def until_sync(read: Callable[[], T], ok: Callable[[T], object] = bool, *, what: str, within: float = 20.0,
               step: float = 0.05) -> T:
    """``until`` for tests outside trio: blocks the calling thread between reads."""
    deadline = time.monotonic() + within
    while True:
        value = read()
        if ok(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(_message(what, within, value))
        time.sleep(step)


def _message(what: str, within: float, last: object) -> str:
    shown = repr(last)
    if len(shown) > 2000:  # a log or a listing: its end is what tells
        shown = "..." + shown[-2000:]
    return f"waited {within:g} s for {what}; last seen: {shown}"
