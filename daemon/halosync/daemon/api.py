"""What the running daemon offers its front ends (control socket, HTTP listener, alerts).

The sync engine implements ``EngineAPI``; front ends depend only on this Protocol and on plain dicts, so that each
can be tested against a real engine over a real store. Every dict shape here is part of CONTRACT.md where a
command prints it (``status --json``, ``queue``, ``integrity``...).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal, Protocol

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

    async def trace(self, query: str) -> list[dict[str, Any]]:
        """Lineage of the leads matching an email, a source id or a sink id: one dict per lead with the source
        record, the match decision (rule, inputs), every write attempt and outcome, and the sink ids."""
        ...

    async def integrity(self, repair: bool = False) -> dict[str, Any]:
        """{"ok": bool, "checks": [{"name", "ok", "problems", "details": [...], "repaired"?}]}."""
        ...

    # --- dead letters ---
    async def dlq_list(self, limit: int = 100) -> list[dict[str, Any]]: ...
    async def dlq_retry(self, ids: list[int] | None) -> int:
        """Requeue the given dead letters (None: all); returns how many."""
        ...

    async def dlq_drop(self, ids: list[int]) -> int: ...

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

    async def ingest_webhook(self, inbox_id: int) -> None:
        """Process one stored webhook delivery (called by the inbox worker)."""
        ...
