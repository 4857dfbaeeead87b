"""A sink added to a store that already holds leads receives them too: every lead from every source reaches every
sink, not only the leads staged after the sink appeared.

The store records the sinks its leads are planned for (``KV["sinks_planned"]``: the configured ones). When the
configuration names one more (at start or on a reload), the leads already processed go back to ``pending`` in the
same transaction, and the planner takes them again once the new sink's mirror is loaded: matched against what that
sink already holds, they are adopted or created there. For the sinks they already reached, planning them again
finds their records and sends nothing unless a field differs. A sink removed and added back later gets what it
missed the same way. A store without the record (new, or made by an earlier version) starts it from the configured
sinks, with nothing planned again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from halosync.store.models import KV, StagedLead

KEY = "sinks_planned"


def note_sinks(sinks: Sequence[str]) -> tuple[list[str], int]:
    """Record ``sinks``; returns the ones new to this store and how many processed leads go back to planning."""
    row = KV.get_or_none(KV.key == KEY)
    known = [str(s) for s in row.value] if row is not None and isinstance(row.value, list) else None
    new = [] if known is None else [s for s in sinks if s not in known]
    replanned = 0
    if new:
        replanned = int(StagedLead.update(state="pending").where(StagedLead.state == "processed").execute())
    if known is None or set(known) != set(sinks):  # a sink removed and added back later gets what it missed
        value = sorted(set(sinks))
        KV.insert(key=KEY, value=value, updated_at=time.time()).on_conflict(
            conflict_target=[KV.key], update={KV.value: value, KV.updated_at: time.time()}).execute()
    return new, replanned
