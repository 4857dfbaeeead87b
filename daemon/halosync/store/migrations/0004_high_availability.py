"""Issue 18: the tables through which several daemons share one store (halosync.ha).

    ha_member, ha_lease        who runs, who polls which source (lease with heartbeat and fencing epoch)
    ha_window, ha_window_slot  a provider's rolling-window budget shared by every daemon (HaloPSA)
    ha_quota                   a provider's quota headers as last seen by any daemon (Apollo)

Created on SQLite too (one daemon there, so they stay empty), so that a store moved between the two stays alike.
``safe``: a store created by 0001 from today's models already has them.
"""

from __future__ import annotations

from typing import Any

from halosync.store.models import HA_MODELS


def up(migrator: Any, db: Any) -> None:
    with db.bind_ctx(HA_MODELS):
        db.create_tables(HA_MODELS, safe=True)


def down(migrator: Any, db: Any) -> None:
    with db.bind_ctx(HA_MODELS):
        db.drop_tables(HA_MODELS, safe=True)
