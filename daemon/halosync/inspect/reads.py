"""Read-only units of work that must not queue behind the writer.

The store runs every unit of work through one capacity limiter, and on SQLite that limiter has one slot (one
writer). An operator's ``halosyncctl status`` during a full sync would then wait behind seconds of engine
transactions. SQLite in WAL mode lets readers run beside the writer, so on SQLite a read here runs in its own worker
thread with its own short-lived connection (peewee keeps connections per thread), bounded by a small limiter of its
own. PostgreSQL already serves ``pool_size`` units at once, so there reads go through the store as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import trio

from halosync.store.gateway import Store

T = TypeVar("T")
READERS = trio.CapacityLimiter(2)


def _read_and_close(store: Store, fn: Callable[..., T], *args: Any) -> T:
    try:
        return store.call(fn, *args)
    finally:
        store.db.close()  # this thread's own connection; the writer's, in another thread, is untouched


async def read(store: Store, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` (read-only!) without waiting for the store's writer."""
    if not store.sqlite or store.db.database == ":memory:":  # a :memory: database exists once per connection
        return await store.run(fn, *args)
    return await trio.to_thread.run_sync(partial(_read_and_close, store, fn, *args), limiter=READERS)
