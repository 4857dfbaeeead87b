"""The engine of a daemon that runs without one (a test daemon of front ends only, or an engine that never started).

Front ends hold an ``EngineAPI`` at all times, so none of them asks "is there an engine?" before a harmless call:
``wake`` does nothing, ``paused`` is False. Where the absence changes the answer (``status``'s ``engine`` field, a
``pause`` refused as unavailable, the queue figures left out of ``/health``, deliveries kept in the webhook inbox),
the front end reads ``installed``. Anything that would need a real engine raises and says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, NoReturn

from halosync.contracts import Rejected, SinkRecord
from halosync.errors import HalosyncError
from halosync.model import Lead

ABSENT = ("the sync engine is not part of this running daemon (not installed, or it failed to start: see the "
          "daemon's log)")


class NullEngine:
    installed = False
    paused = False

    async def totals(self) -> dict[str, int]:
        return {}

    async def queue(self) -> dict[str, Any]:
        return {}

    async def sources_status(self) -> dict[str, dict[str, Any]]:
        return {}

    def pause(self) -> None:
        _absent("pause")

    def resume(self) -> None:
        _absent("resume")

    def set_concurrency(self, workers: int) -> None:
        _absent("set the concurrency")

    def sync(self, source: str | None = None, *, full: bool = False,
             dry_run: bool = False) -> AsyncIterator[dict[str, Any]]:
        _absent("sync")

    def wake(self) -> None:
        """Nothing to wake: the work stays in the store until an engine runs."""

    async def stage(self, source: str, leads: Sequence[Lead], rejected: Sequence[Rejected] = ()) -> int:
        _absent("stage leads")

    async def apply_mirror_records(self, sink: str, records: Sequence[SinkRecord]) -> None:
        _absent("update the sink mirror")


def _absent(doing: str) -> NoReturn:
    raise HalosyncError(f"cannot {doing}: {ABSENT}")
