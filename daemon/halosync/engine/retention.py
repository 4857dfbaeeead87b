"""Retention (issue 16): personal data the pipeline no longer needs is pruned in the background.

    raw records     a processed lead's provider record (``staged_lead.payload.raw``, about 2.6 KB from Apollo) is
                    dropped ``raw_records_days`` after it was processed; the canonical lead stays (matching and
                    updates need it, ``trace`` shows it)
    lineage         ``lineage_event`` rows older than ``lineage_days``
    dead letters    ``dead_letter`` rows older than ``dead_letters_days`` (retry or drop them before then)
    webhook inbox   handled deliveries (not pending) older than ``webhook_inbox_days``

``RetentionComponent`` runs one pass every ``[retention] interval`` seconds. Each pass works in transactions of at
most ``batch`` rows and yields the store between them, so a sync in progress waits for one small transaction at a
time, never for the whole pass. Old rows are found by index: raw records by ``staged_lead(processed_at, id)``
(migration 0003) from a watermark, the others from the lowest id up (ids grow with time, so the oldest come first
and a pass stops at the first row still inside its period).

What each pass did, when it ran and when the next one is due: KV ``retention.status``, shown by
``halosyncctl status`` (``retention``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import trio
from loguru import logger

from halosync.daemon.api import Lifecycle, ReloadRegistration, StateView
from halosync.engine.index import tuples
from halosync.engine.sql import update_rows
from halosync.store.models import KV, DeadLetter, LineageEvent, StagedLead, WebhookInbox

DAY = 86_400.0
STATUS_KEY = "retention.status"
WATERMARK_KEY = "retention.raw_records.watermark"
KINDS = ("raw_records", "lineage", "dead_letters", "webhook_inbox")
PAUSE_BETWEEN_BATCHES = 0.02  # seconds the store is left to the pipeline between two pruning transactions


@dataclass(frozen=True)
class RetentionSettings:
    raw_records_days: float = 30.0
    lineage_days: float = 180.0
    dead_letters_days: float = 90.0
    webhook_inbox_days: float = 30.0
    interval: float = 3600.0
    batch: int = 500

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> RetentionSettings:
        return cls(float(table.get("raw_records_days", 30.0)), float(table.get("lineage_days", 180.0)),
                   float(table.get("dead_letters_days", 90.0)), float(table.get("webhook_inbox_days", 30.0)),
                   float(table.get("interval", 3600.0)), int(table.get("batch", 500)))

    def days(self, kind: str) -> float:
        value: float = getattr(self, f"{kind}_days")
        return value


# --- one batch of each kind, in the caller's transaction ---------------------------------------------------


def prune_raw_records(cutoff: float, batch: int) -> tuple[int, bool]:
    """Drop ``raw`` from up to ``batch`` leads processed before ``cutoff``; (pruned, more may be left)."""
    mark = KV.get_or_none(KV.key == WATERMARK_KEY)
    at, last_id = (mark.value if mark is not None and isinstance(mark.value, list) else [0.0, 0])
    after = (StagedLead.processed_at > at) | ((StagedLead.processed_at == at) & (StagedLead.id > last_id))
    found = list(tuples(StagedLead.select(StagedLead.id, StagedLead.processed_at, StagedLead.state,
                                          StagedLead.payload).where(
        StagedLead.processed_at.is_null(False) & (StagedLead.processed_at < cutoff) & after)
        .order_by(StagedLead.processed_at, StagedLead.id).limit(batch)))
    changed = []
    for row_id, _, state, payload in found:
        if state != "pending" and isinstance(payload, dict) and payload.get("raw"):
            changed.append({"id": row_id, "payload": {**payload, "raw": {}}})
    update_rows(StagedLead, "id", changed)
    if found:
        _, processed_at, *_ = found[-1]
        KV.insert(key=WATERMARK_KEY, value=[processed_at, found[-1][0]], updated_at=time.time()).on_conflict(
            conflict_target=[KV.key], update={KV.value: [processed_at, found[-1][0]], KV.updated_at: time.time()}
        ).execute()
    return len(changed), len(found) == batch


def _oldest_first(model: Any, column: Any, cutoff: float, batch: int, extra: Any = None) -> tuple[int, bool]:
    primary = model._meta.primary_key
    query = model.select(primary, column).order_by(primary).limit(batch)
    if extra is not None:
        query = query.where(extra)
    found = list(tuples(query))
    old = [row_id for row_id, at in found if at is not None and at < cutoff]
    if old:
        model.delete().where(primary.in_(old)).execute()
    return len(old), bool(found) and len(old) == len(found) and len(found) == batch


def prune_lineage(cutoff: float, batch: int) -> tuple[int, bool]:
    return _oldest_first(LineageEvent, LineageEvent.at, cutoff, batch)


def prune_dead_letters(cutoff: float, batch: int) -> tuple[int, bool]:
    return _oldest_first(DeadLetter, DeadLetter.created_at, cutoff, batch)


def prune_webhook_inbox(cutoff: float, batch: int) -> tuple[int, bool]:
    return _oldest_first(WebhookInbox, WebhookInbox.received_at, cutoff, batch, WebhookInbox.state != "pending")


PRUNERS: dict[str, Callable[[float, int], tuple[int, bool]]] = {
    "raw_records": prune_raw_records, "lineage": prune_lineage, "dead_letters": prune_dead_letters,
    "webhook_inbox": prune_webhook_inbox,
}


# --- a pass ----------------------------------------------------------------------------------------------


async def prune_pass(store: Any, settings: RetentionSettings, *, now: float | None = None,
                     pause: float = PAUSE_BETWEEN_BATCHES) -> dict[str, int]:
    """Prune every kind whose period is set, a batch per transaction; returns the rows pruned per kind."""
    now = time.time() if now is None else now
    out = dict.fromkeys(KINDS, 0)
    for kind in KINDS:
        days = settings.days(kind)
        if days <= 0:
            continue
        cutoff = now - days * DAY
        more = True
        while more:
            pruned, more = await store.transaction(PRUNERS[kind], cutoff, settings.batch)
            out[kind] += pruned
            await trio.sleep(pause)  # the pipeline's units of work get the store between two batches
    return out


def save_status(status: dict[str, Any]) -> None:
    KV.insert(key=STATUS_KEY, value=status, updated_at=time.time()).on_conflict(
        conflict_target=[KV.key], update={KV.value: status, KV.updated_at: time.time()}).execute()


def read_status() -> dict[str, Any] | None:
    """What ``halosyncctl status`` shows under ``retention`` (None before the first pass)."""
    row = KV.get_or_none(KV.key == STATUS_KEY)
    return dict(row.value) if row is not None and isinstance(row.value, dict) else None


class RetentionPorts(StateView, Lifecycle, ReloadRegistration, Protocol):
    """The store and configuration to prune by, ``stopping`` to end with the daemon, a reload hook."""


class RetentionComponent:
    """One pruning pass a minute after start (or when the previous daemon said the next was due), then every
    ``[retention] interval``; a reload applies new periods and runs a pass at once."""

    name = "retention"
    FIRST_PASS_AFTER = 60.0

    def __init__(self) -> None:
        self.settings = RetentionSettings()
        self._kick = trio.Event()
        self._daemon: RetentionPorts | None = None

    async def run(self, daemon: RetentionPorts, *,
                  task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        self._daemon = daemon
        self.settings = RetentionSettings.from_config(daemon.config.section("retention"))
        daemon.add_reload_hook(self._reload)
        task_status.started()
        previous = await daemon.store.run(read_status) or {}
        totals: dict[str, int] = {str(k): int(v) for k, v in (previous.get("total") or {}).items()}
        due = previous.get("next_run_at")
        wait = min(max(0.0, float(due) - time.time()), self.settings.interval) if isinstance(due, (int, float)) \
            else self.FIRST_PASS_AFTER
        while True:
            with trio.move_on_after(wait):
                await self._kick.wait()
            self._kick = trio.Event()
            await self.run_pass(daemon, totals)
            wait = self.settings.interval

    async def run_pass(self, daemon: StateView, totals: dict[str, int]) -> dict[str, Any]:
        started = time.time()
        pruned: dict[str, int] | None
        try:
            pruned = await prune_pass(daemon.store, self.settings, now=started)
        except Exception as exc:  # the store is busy or down: tried again next interval; the pipeline goes on
            logger.warning("retention: pruning failed ({}); tried again in {:.0f} s", exc, self.settings.interval)
            pruned = None
        for kind, n in (pruned or {}).items():
            totals[kind] = totals.get(kind, 0) + n
        status = {"last_run_at": started, "duration_seconds": round(time.time() - started, 3),
                  "next_run_at": time.time() + self.settings.interval, "pruned": pruned, "total": dict(totals),
                  "ok": pruned is not None, "keep_days": {k: self.settings.days(k) for k in KINDS}}
        await daemon.store.transaction(save_status, status)
        if pruned and any(pruned.values()):
            logger.info("retention: pruned {}", ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in pruned.items()
                                                           if n))
        return status

    async def _reload(self) -> None:
        if self._daemon is not None:
            self.settings = RetentionSettings.from_config(self._daemon.config.section("retention"))
        self._kick.set()
