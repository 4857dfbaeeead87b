"""High availability (issue 18): several daemons sharing one PostgreSQL store.

    leadership.py   one poller per source, elected through a lease row with a heartbeat (SQLite: the one daemon)
    leases.py       the lease and member rows, in SQL on the database's clock
    windows.py      provider budgets shared through the store (HaloPSA's rolling window, Apollo's quota headers)
    solo.py         SQLite: a second daemon on the same file is refused

``make_leadership`` and ``shared_budgets`` are what the composition root (halosync.daemon.app) builds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from halosync.ha.leadership import Leadership, SharedLeadership, SoloLeadership
from halosync.store.gateway import Store


def make_leadership(store: Store, lease_seconds: float, sources: Callable[[], Iterable[str]],
                    version: str) -> Leadership:
    if store.sqlite:
        path = str(store.db.database)
        return SoloLeadership(sources, database=None if path in ("", ":memory:") else Path(path))
    return SharedLeadership(store, lease_seconds, sources, version)


__all__ = ["Leadership", "make_leadership"]
