"""What the running daemon offers its front ends (control socket, HTTP listener, alerts).

The sync engine implements ``EngineAPI``; front ends depend only on this Protocol and on plain dicts, so that each
can be tested against a real engine over a real store. Read-only inspection that also works without a running
daemon (dead letters, trace, integrity, queue figures) lives in ``halosync.inspect`` and reads the store directly.
Every dict shape here is part of CONTRACT.md where a
command prints it (``status --json``, ``queue``, ``integrity``...).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal, Protocol

from halosync.contracts import Rejected, SinkRecord
from halosync.model import Lead

DaemonState = Literal["starting", "running", "paused", "stopping"]


class EngineAPI(Protocol):
    # --- reading (cheap; served from the store and in-memory counters, never a provider call) ---
    async def totals(self) -> dict[str, int]:
        """{seen, created, updated, merged, skipped, failed} since the store was created."""
        ...

    async def queue(self) -> dict[str, Any]:
        """{pending, in_flight, dead, oldest_age_seconds, rate_per_minute} of the outbox."""
        ...

    async def sources_status(self) -> dict[str, dict[str, Any]]:
        """Per source: {last_sync_at, last_success_at, last_error, cursor_age_seconds, running}."""
        ...

    # --- control ---
    def pause(self) -> None:
        """Stop outbound writes and source polling (webhooks are still accepted and stored)."""
        ...

    def resume(self) -> None: ...

    @property
    def paused(self) -> bool: ...

    def set_concurrency(self, workers: int) -> None: ...

    def sync(self, source: str | None = None, *, full: bool = False,
             dry_run: bool = False) -> AsyncIterator[dict[str, Any]]:
        """Start a sync now and yield progress events ({"type": "progress"|"plan"|"done", ...}); the last event
        has type "done" and carries the summary (for a dry run: the plan of creates, updates with field diffs
        and merges)."""
        ...

    def wake(self) -> None:
        """Look for work now (after a dead-letter retry, a webhook delivery...); the store is the queue."""
        ...

    # --- intake from front ends (webhooks) ---
    async def stage(self, source: str, leads: Sequence[Lead], rejected: Sequence[Rejected] = ()) -> int:
        """Stage pushed leads durably (same path as a pulled page, without a cursor); returns how many."""
        ...

    async def apply_mirror_records(self, sink: str, records: Sequence[SinkRecord]) -> None:
        """Update the sink mirror (and links of deleted records) from a sink's own change notifications."""
        ...
