"""The store figures behind ``status`` (queue, totals, sources), kept as a short-lived snapshot.

``halosyncctl status`` must answer in milliseconds while a full sync keeps the store busy; the figures come from a
read that may take tens of milliseconds under load. So: a snapshot younger than FRESH is served as it is; one up to
STALE old is served at once while a refresh runs in the background; an older one (or none) is read afresh before
answering. ``as_of`` in the answer says how old the figures are.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import trio

from halosync.engine.figures import queue_figures
from halosync.engine.ledger import read_totals
from halosync.engine.retention import read_status as retention_status
from halosync.inspect.reads import read
from halosync.store.models import SourceCursor

if TYPE_CHECKING:
    from halosync.daemon.api import StateView

FRESH = 0.5
STALE = 2.0
ENGINE_WAIT = 0.25  # the engine's view of its sources needs the store's writer slot, which may be busy


def cursor_status(names: list[str]) -> dict[str, dict[str, Any]]:
    """Per source, what the store knows: when its cursor last moved, last success and error."""
    now = time.time()
    out: dict[str, dict[str, Any]] = {n: {"last_sync_at": None, "last_success_at": None, "last_error": None,
                                          "cursor_age_seconds": None, "running": False} for n in names}
    for row in SourceCursor.select():
        out[row.source] = {"last_sync_at": row.updated_at, "last_success_at": row.last_success_at,
                           "last_error": row.last_error, "cursor_age_seconds": round(now - row.updated_at, 3),
                           "running": False}
    return out


def _figures(names: list[str]) -> dict[str, Any]:
    return {"queue": queue_figures(), "totals": read_totals(), "sources": cursor_status(names),
            "retention": retention_status()}


class StatusSnapshot:
    def __init__(self) -> None:
        self.figures: dict[str, Any] | None = None
        self.taken_at = 0.0
        self._refreshing = False

    async def _refresh(self, daemon: StateView) -> dict[str, Any]:
        started = time.time()
        figures = await read(daemon.store, _figures, sorted(daemon.sources))
        if daemon.engine.installed:
            with trio.move_on_after(ENGINE_WAIT):  # it knows which pulls are running; the store does not
                figures["sources"] = await daemon.engine.sources_status()
        figures["as_of"] = started
        if started >= self.taken_at:
            self.figures, self.taken_at = figures, started
        return figures

    async def _refresh_in_background(self, daemon: StateView) -> None:
        try:
            await self._refresh(daemon)
        finally:
            self._refreshing = False

    async def get(self, daemon: StateView, nursery: trio.Nursery) -> dict[str, Any]:
        age = time.time() - self.taken_at
        if self.figures is None or age > STALE:
            return await self._refresh(daemon)
        if age > FRESH and not self._refreshing:
            self._refreshing = True
            nursery.start_soon(self._refresh_in_background, daemon)
        return self.figures
