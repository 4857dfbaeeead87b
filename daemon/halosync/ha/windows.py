"""Provider budgets shared through a PostgreSQL store (issue 18): the core's side of halosync.provider.shared.

A rolling window is one ``ha_window`` row (limit, window, the effective limit after 429s) and one ``ha_window_slot``
row per request counted: granted (in flight, ``at`` when granted) or answered (``at`` when the answer arrived; it
leaves the window at ``at + window``). ``reserve`` locks the window row FOR UPDATE, drops what left the window,
counts, and grants a slot only while fewer than the effective limit are counted: the daemons take turns on that
row lock, so together they never exceed it, and a slot that opens is open to whichever daemon asks first, so
together they use all of it. Times are the database's clock. An in-flight slot of a daemon that died stops
counting ``IN_FLIGHT_GRACE`` seconds after its window would have ended.

Outcomes (answered, unused, 429, a learned budget, quota readings) arrive sync from the plugins and are applied in
order by ``run``, in one transaction per batch, each with how long ago it happened.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import trio
from loguru import logger

from halosync import metrics
from halosync.contracts import RateWindow
from halosync.provider.rolling import RECOVERY_WINDOWS
from halosync.provider.shared import Reservation
from halosync.store.gateway import Store
from halosync.store.models import HAQuota, HAWindow, HAWindowSlot, database_proxy

NOW = "extract(epoch from clock_timestamp())"
IN_FLIGHT_GRACE = 30.0
Op = Callable[[float], None]  # applied in a database thread, given how many seconds ago it happened


def _sql(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    cursor = database_proxy.execute_sql(sql, params)
    return list(cursor.fetchall()) if cursor.description else []


def _prune_and_count(key: str, window: float) -> tuple[float, int, float | None]:
    """Drop what left the window; (now, how many are counted, when the oldest answered one leaves)."""
    slots = HAWindowSlot._meta.table_name
    now = float(_sql(f"SELECT {NOW}")[0][0])
    _sql(f'DELETE FROM "{slots}" WHERE key = %s AND ((answered AND at + %s <= %s) OR '
         "(NOT answered AND at + %s <= %s))", (key, window, now, window + IN_FLIGHT_GRACE, now))
    count, oldest = _sql(f'SELECT count(*), min(CASE WHEN answered THEN at END) FROM "{slots}" WHERE key = %s',
                         (key,))[0]
    return now, int(count), (float(oldest) + window if oldest is not None else None)


def _locked_window(key: str, limit: int, window: float, floor: int) -> HAWindow:
    table = HAWindow._meta.table_name
    _sql(f'INSERT INTO "{table}" (key, "limit", "window", effective, floor, throttled, sent, updated_at) '
         f"VALUES (%s, %s, %s, %s, %s, 0, 0, {NOW}) ON CONFLICT (key) DO NOTHING", (key, limit, window, limit, floor))
    row: HAWindow = HAWindow.select().where(HAWindow.key == key).for_update().get()
    return row


def reserve(key: str, limit: int, window: float, floor: int, owner: str) -> Reservation:
    """In one transaction: a slot if the shared window has room."""
    row = _locked_window(key, limit, window, floor)
    now, used, frees_at = _prune_and_count(key, row.window)
    effective = int(row.effective)
    recovered = row.last_throttle_at is not None and now - row.last_throttle_at >= RECOVERY_WINDOWS * row.window
    if effective < row.limit and recovered:  # windows without a refusal: probe upwards by a tenth (AIMD)
        effective = min(int(row.limit), effective + max(1, math.ceil(row.limit / 10)))
        HAWindow.update(effective=effective, last_throttle_at=now).where(HAWindow.key == key).execute()
    if used < effective:
        slot = HAWindowSlot.insert(key=key, owner=owner, at=now, answered=False).execute()
        HAWindow.update(sent=HAWindow.sent + 1, updated_at=now).where(HAWindow.key == key).execute()
        return Reservation(int(slot), 0.0, int(row.limit), float(row.window), effective, used + 1,
                           int(row.throttled))
    wait = max(0.0, frees_at - now) if frees_at is not None else 0.05  # all in flight: their answers come soon
    return Reservation(None, wait, int(row.limit), float(row.window), effective, used, int(row.throttled))


def _answered(slot: int, ago: float) -> None:
    _sql(f'UPDATE "{HAWindowSlot._meta.table_name}" SET answered = TRUE, at = {NOW} - %s WHERE id = %s', (ago, slot))


def _unused(slot: int) -> None:
    HAWindowSlot.delete().where(HAWindowSlot.id == slot).execute()


def _throttled(key: str, ago: float) -> None:
    row = HAWindow.select().where(HAWindow.key == key).for_update().get_or_none()
    if row is None:
        return
    now, used, _ = _prune_and_count(key, row.window)
    accepted = used - 1  # the refused request itself is among them
    effective = max(int(row.floor), min(int(row.effective), accepted))
    HAWindow.update(effective=effective, last_throttle_at=now - ago, throttled=HAWindow.throttled + 1,
                    updated_at=now).where(HAWindow.key == key).execute()


def _rebudget(key: str, limit: int, window: float) -> None:
    floor = max(1, min(limit, math.ceil(limit / 20)))
    HAWindow.update(limit=limit, window=window, effective=limit, floor=floor, last_throttle_at=None).where(
        HAWindow.key == key).execute()


def _publish(key: str, windows: list[RateWindow], seen_by: str, ago: float) -> None:
    for w in windows:
        values = {"limit": w.limit, "used": w.used, "remaining": w.remaining, "reset_at": w.reset_at or 0.0,
                  "seen_by": seen_by}
        HAQuota.insert(key=key, window=w.window, observed_at=_wall() - ago, **values).on_conflict(
            conflict_target=[HAQuota.key, HAQuota.window],
            update={**{getattr(HAQuota, k): v for k, v in values.items()}, HAQuota.observed_at: _wall() - ago},
        ).execute()


def latest(key: str, now: float) -> list[RateWindow]:
    provider, _, endpoint = key.partition(":")
    return [RateWindow(provider, r.window, r.limit, r.used, r.remaining, reset_at=r.reset_at, endpoint=endpoint)
            for r in HAQuota.select().where((HAQuota.key == key) & (HAQuota.reset_at > now))]


def _wall() -> float:
    return time.time()


class StoreWindow:
    """halosync.provider.shared.SharedWindow over the store."""

    def __init__(self, budgets: StoreBudgets, key: str) -> None:
        self.budgets, self.key = budgets, key
        self.provider = key.partition(":")[0]

    async def reserve(self, limit: int, window: float, floor: int) -> Reservation:
        got = await self.budgets.store.transaction(reserve, self.key, limit, window, floor, self.budgets.owner)
        metrics.set_shared_budget(self.provider, got.used, got.effective)
        if got.slot is None:
            metrics.HA_BUDGET_WAITS.labels(self.provider).inc()
        return got

    def answered(self, slot: int) -> None:
        self.budgets.post(lambda ago: _answered(slot, ago))

    def unused(self, slot: int) -> None:
        self.budgets.post(lambda ago: _unused(slot))

    def throttled(self) -> None:
        key = self.key
        self.budgets.post(lambda ago: _throttled(key, ago))

    def rebudget(self, limit: int, window: float) -> None:
        key = self.key
        self.budgets.post(lambda ago: _rebudget(key, limit, window))


class StoreQuotas:
    """halosync.provider.shared.SharedQuotas over the store."""

    def __init__(self, budgets: StoreBudgets) -> None:
        self.budgets = budgets

    def publish(self, key: str, windows: list[RateWindow]) -> None:
        owner = self.budgets.owner
        self.budgets.post(lambda ago: _publish(key, windows, owner, ago))

    async def latest(self, key: str) -> list[RateWindow]:
        return await self.budgets.store.run(latest, key, _wall())


class StoreBudgets:
    """halosync.provider.shared.SharedBudgets over the store; ``run`` applies the posted outcomes."""

    def __init__(self, store: Store, owner: str) -> None:
        self.store, self.owner = store, owner
        self._send, self._receive = trio.open_memory_channel[tuple[float, Op]](math.inf)
        self._windows: dict[str, StoreWindow] = {}
        self.quotas = StoreQuotas(self)

    def window(self, key: str) -> StoreWindow:
        return self._windows.setdefault(key, StoreWindow(self, key))

    def post(self, op: Op) -> None:
        self._send.send_nowait((trio.current_time(), op))

    async def run(self) -> None:
        """Apply posted outcomes in order, a batch per transaction, until cancelled (then what is left, briefly)."""
        try:
            while True:
                batch = [await self._receive.receive()]
                while True:
                    try:
                        batch.append(self._receive.receive_nowait())
                    except trio.WouldBlock:
                        break
                await self._apply(batch)
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(2):
                left: list[tuple[float, Op]] = []
                while True:
                    try:
                        left.append(self._receive.receive_nowait())
                    except trio.WouldBlock:
                        break
                if left:
                    await self._apply(left)

    async def _apply(self, batch: list[tuple[float, Op]]) -> None:
        now = trio.current_time()

        def unit() -> None:
            for at, op in batch:
                op(max(0.0, now - at))

        try:
            await self.store.transaction(unit)
        except Exception as exc:  # the store is away: the slots stop counting on their own (IN_FLIGHT_GRACE)
            logger.warning("ha: could not record {} outcome(s) in the shared budget ({})", len(batch), exc)
