"""High availability (issue 18): several daemons sharing one PostgreSQL store.

    leadership.py   one poller per source, elected through a lease row with a heartbeat (SQLite: the one daemon)
    leases.py       the lease and member rows, in SQL on the database's clock
    windows.py      provider budgets shared through the store (HaloPSA's rolling window, Apollo's quota headers)

``make_leadership`` and ``shared_budgets`` are what the composition root (halosync.daemon.app) builds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from halosync.ha.leadership import Leadership, SharedLeadership, SoloLeadership
from halosync.store.gateway import Store


def make_leadership(store: Store, lease_seconds: float, sources: Callable[[], Iterable[str]],
                    version: str) -> Leadership:
    if store.sqlite:  # one daemon per SQLite file: halosync.daemon.lock refuses a second one at start
        return SoloLeadership(sources)
    return SharedLeadership(store, lease_seconds, sources, version)


__all__ = ["Leadership", "make_leadership"]
