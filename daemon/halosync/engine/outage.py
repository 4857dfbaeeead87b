"""Riding out a store that went away: a PostgreSQL restart, a failover, a daemon frozen past its
idle-in-transaction timeout (issue 18) waking to find its connection ended.

A unit of work whose connection was lost is tried again on a new one (``transaction``); a loop that still meets
the outage after that waits and starts over (``outlasting``), so the daemon keeps running and catches up once the
store answers, instead of stopping on the first lost connection. ``/health`` answers 503 meanwhile.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import trio
from loguru import logger

from halosync.engine.ledger import Ledger
from halosync.errors import StoreUnreachable
from halosync.exception_groups import leaves

T = TypeVar("T")

STORE_PATIENCE = 30.0  # seconds one unit is tried again for, before its loop waits the outage out
LOOP_PAUSE_MAX = 30.0  # the longest wait between a loop's attempts while the store stays away


class Transactional(Protocol):
    async def transaction(self, fn: Callable[[], T]) -> T: ...


async def transaction(store: Transactional, ledger: Ledger, unit: Callable[[], T], *,
                      draining: Callable[[], bool]) -> T:
    """``unit`` in one transaction, tried again on a new connection while the store is unreachable. Every unit
    must bear running twice: a commit cut off may have landed, and then the second run finds its work done (a
    settle finds no row under its claim, a page stages as unchanged, the planner finds nothing pending)."""
    waited = 0.0
    for attempt in itertools.count():
        try:
            return await store.transaction(unit)
        except StoreUnreachable as exc:
            if waited >= (1.0 if draining() else STORE_PATIENCE):
                raise
            ledger.reset()
            pause = min(0.1 * 2 ** attempt, 5.0)
            (logger.warning if attempt == 0 else logger.debug)("{}; trying again in {:.1f} s", exc, pause)
            await trio.sleep(pause)
            waited += pause
    raise AssertionError("itertools.count() ended")


def lost_store(error: BaseException) -> StoreUnreachable | None:
    """The ``StoreUnreachable`` that ``error`` is or holds, when it holds nothing else."""
    found = leaves(error)
    if found and all(isinstance(leaf, StoreUnreachable) for leaf in found):
        return found[0]  # type: ignore[return-value]
    return None


async def outlasting(what: str, loop: Callable[..., Awaitable[None]], *args: Any,
                     stop: Callable[[], bool], beat: Callable[[], None] | None = None) -> None:
    """Run ``loop(*args)`` until it returns; while the store is away it is started again after a pause that grows
    to LOOP_PAUSE_MAX (``beat`` keeps the watchdog fed: waiting for the store is not a hang)."""
    pause, since = 0.5, None
    while True:
        started = time.monotonic()
        try:
            await loop(*args)
            return
        except Exception as exc:
            lost = lost_store(exc)
            if lost is None or stop():
                raise
            if since is None or time.monotonic() - started > 2 * LOOP_PAUSE_MAX:  # a new outage
                pause, since = 0.5, time.monotonic()
                logger.error("{} stopped, the store is unreachable: {}; it starts again once the store answers",
                             what, lost)
            else:
                logger.warning("{}: the store is still unreachable ({:.0f} s)", what, time.monotonic() - since)
            with trio.move_on_after(pause):
                while not stop():
                    if beat is not None:
                        beat()
                    await trio.sleep(min(pause, 1.0))
            pause = min(pause * 2, LOOP_PAUSE_MAX)
