"""From alert transitions to notifications: routing, silences, grouping, de-duplication, repeats and delivery.

    evaluator ─▶ update(changes, firing) ─▶ pending groups (per receiver and group_by labels)
                                               │ group_wait after the first change in the group
                                               ▼
                                  flush() ─▶ one channel per receiver ─▶ alerter.send(group), retried

De-duplication: each receiver remembers what it was last told about each alert (firing at a severity, when). A
firing alert is queued again only when that changes or ``repeat_interval`` has passed, replacing any notification
about it still waiting; an alert that fires and resolves before its group is flushed is never sent at all. A
resolved notification goes only to receivers that were sent the firing one, and not while a silence matches it
(as Alertmanager does). Silenced alerts are neither queued nor flushed.

A failing receiver never stops the daemon: its group is retried with backoff (bounded attempts), the failure is
logged and recorded in the daemon's plugin health as ``alerts.NAME`` (which ``/health`` shows), and other
receivers carry on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import trio
from loguru import logger

from halosync.alerts import metrics as alert_metrics
from halosync.alerts.evaluator import fingerprint
from halosync.alerts.silences import Silences
from halosync.contracts import Alert, Alerter
from halosync.provider.backoff import full_jitter


class HealthRecorder(Protocol):
    def record_success(self, plugin: str) -> None: ...

    def record_error(self, plugin: str, error: str, *, state: str = "degraded") -> None: ...


@dataclass(frozen=True)
class DeliverySettings:
    default_receivers: tuple[str, ...] = ("log",)
    group_by: tuple[str, ...] = ("rule",)
    group_wait: float = 30.0
    repeat_interval: float = 14400.0
    send_resolved: bool = True
    timeout: float = 30.0
    attempts: int = 5
    retry_base: float = 5.0
    retry_cap: float = 300.0


@dataclass
class _Told:
    state: str
    severity: str
    at: float  # when it was queued
    sent: bool = False  # a firing notification about it has been handed to the receiver


@dataclass
class _Group:
    first_at: float
    alerts: dict[str, Alert] = field(default_factory=dict)


def health_key(receiver: str) -> str:
    return f"alerts.{receiver}"


def failure(exc: BaseException) -> str:
    """A delivery failure in one line: the error's type and its message (a timeout has no message)."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Dispatcher:
    def __init__(self, alerters: dict[str, Alerter], silences: Silences, settings: DeliverySettings,
                 health: HealthRecorder) -> None:
        self.alerters = alerters
        self.silences = silences
        self.settings = settings
        self.health = health
        self.routes: dict[str, tuple[str, ...]] = {}  # rule name → receivers, set by the component
        self._told: dict[tuple[str, str], _Told] = {}
        self._groups: dict[tuple[str, tuple[str, ...]], _Group] = {}
        self._unrouted: set[str] = set()
        self._channels: dict[str, trio.MemorySendChannel[list[Alert]]] = {}

    # --- deciding what to tell whom ------------------------------------------------------------------

    def receivers(self, rule: str) -> tuple[str, ...]:
        wanted = self.routes.get(rule) or self.settings.default_receivers
        found = tuple(r for r in wanted if r in self.alerters)
        for missing in set(wanted) - set(found) - self._unrouted:
            self._unrouted.add(missing)
            logger.warning("alert rule {} routes to receiver {!r}, which no alert plugin provides; define it in "
                           "[plugins.alerts.receivers.{}] or change the rule's receivers", rule, missing, missing)
        return found

    def update(self, changes: Sequence[Alert], firing: Sequence[Alert], now: float) -> None:
        """Queue what each receiver needs to hear: new or changed firing alerts, repeats that are due, and
        resolutions of alerts it was told about. ``firing`` is every alert firing now."""
        for alert in changes:
            if alert.state == "resolved":
                self._resolve(alert, now)
        for alert in firing:
            if self.silences.silencing(alert, now):
                continue
            key = fingerprint(alert.rule, dict(alert.labels))
            for receiver in self.receivers(alert.rule):
                told = self._told.get((receiver, key))
                if (told is None or told.severity != alert.severity
                        or now - told.at >= self.settings.repeat_interval):
                    self._told[(receiver, key)] = _Told("firing", alert.severity, now, sent=bool(told and told.sent))
                    self._unqueue(receiver, key)
                    self._queue(receiver, key, alert, now)

    def saved(self) -> list[dict[str, Any]]:
        """Which receivers were told of which firing alerts, as ``AlertMemory`` keeps it."""
        return [{"receiver": receiver, "key": key, "severity": told.severity, "at": told.at, "sent": told.sent}
                for (receiver, key), told in self._told.items() if told.state == "firing"]

    def restore(self, entries: Iterable[dict[str, Any]], firing: set[str]) -> None:
        """What receivers were told before a restart, for alerts restored as firing and receivers that still exist."""
        for entry in entries:
            if entry["key"] in firing and entry["receiver"] in self.alerters:
                self._told[(entry["receiver"], entry["key"])] = _Told("firing", entry["severity"],
                                                                     float(entry["at"]), bool(entry["sent"]))

    def _resolve(self, alert: Alert, now: float) -> None:
        key = fingerprint(alert.rule, dict(alert.labels))
        for receiver, told_key in [k for k in self._told if k[1] == key]:
            told = self._told.pop((receiver, told_key))
            self._unqueue(receiver, key)
            # Only a receiver that was sent the firing hears of the resolution: one whose firing notification was
            # still waiting in its group never needs to hear of either.
            if told.sent and self.settings.send_resolved and not self.silences.silencing(alert, now):
                self._queue(receiver, key, alert, now)

    def _unqueue(self, receiver: str, key: str) -> None:
        """Drop a waiting notification about ``key`` (in whichever group: its severity may have changed)."""
        for group_key, group in list(self._groups.items()):
            if group_key[0] == receiver and group.alerts.pop(key, None) is not None and not group.alerts:
                del self._groups[group_key]

    def _group_key(self, alert: Alert) -> tuple[str, ...]:
        def label(name: str) -> str:
            if name == "rule":
                return alert.rule
            if name == "severity":
                return alert.severity
            return alert.labels.get(name, "")

        return tuple(label(n) for n in self.settings.group_by)

    def _queue(self, receiver: str, key: str, alert: Alert, now: float) -> None:
        group = self._groups.setdefault((receiver, self._group_key(alert)), _Group(now))
        group.alerts[key] = alert  # a newer state of the same alert replaces the older one (de-duplication)

    def forget_receivers(self, gone: set[str]) -> None:
        """After a reload removed receivers: forget what they were told and what waited for them."""
        self._told = {k: v for k, v in self._told.items() if k[0] not in gone}
        self._groups = {k: v for k, v in self._groups.items() if k[0] not in gone}
        self._unrouted.clear()

    def pending(self) -> int:
        return sum(len(g.alerts) for g in self._groups.values())

    def next_flush_at(self) -> float:
        return min((g.first_at + self.settings.group_wait for g in self._groups.values()), default=math.inf)

    def flush(self, now: float) -> None:
        """Hand every group whose wait is over to its receiver's delivery task."""
        for (receiver, group_key), group in list(self._groups.items()):
            if now - group.first_at < self.settings.group_wait:
                continue
            del self._groups[(receiver, group_key)]
            batch = []
            for key, alert in group.alerts.items():
                told = self._told.get((receiver, key))
                if alert.state == "firing" and self.silences.silencing(alert, now):
                    # Silenced while it waited: untold, so that it goes out if it still fires when the silence ends.
                    if told is not None and not told.sent:
                        del self._told[(receiver, key)]
                    continue
                if told is not None and alert.state == "firing":
                    told.sent = True
                batch.append(alert)
            channel = self._channels.get(receiver)
            if not batch or channel is None:
                continue
            try:
                channel.send_nowait(batch)
            except trio.WouldBlock:
                logger.error("alert receiver {} is {} notifications behind; dropping a group of {} alert(s)",
                             receiver, len(batch), len(batch))
                alert_metrics.NOTIFICATIONS.labels(receiver, "dropped").inc()

    # --- delivering ----------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """One delivery task per receiver, so a slow or failing one holds up nobody else."""
        async with trio.open_nursery() as nursery:
            for name, alerter in self.alerters.items():
                send, receive = trio.open_memory_channel[list[Alert]](100)
                self._channels[name] = send
                nursery.start_soon(self._deliver, name, alerter, receive)
            task_status.started()

    async def _deliver(self, name: str, alerter: Alerter, batches: trio.MemoryReceiveChannel[list[Alert]]) -> None:
        async for batch in batches:
            await self.deliver(name, alerter, batch)

    async def deliver(self, name: str, alerter: Alerter, batch: list[Alert]) -> bool:
        """Send one group, retrying with backoff; True when it went out."""
        attempts = max(1, self.settings.attempts)
        for attempt in range(attempts):
            try:
                with trio.fail_after(self.settings.timeout):
                    await alerter.send(batch)
            except Exception as exc:  # any failure of a plugin: reported, retried, never fatal
                reason = failure(exc)
                self.health.record_error(health_key(name), f"delivery failed: {reason}",
                                         state="failed" if attempt == attempts - 1 else "degraded")
                alert_metrics.NOTIFICATIONS.labels(name, "error").inc()
                if attempt == attempts - 1:
                    logger.error("alert receiver {} failed {} time(s), giving up on {} alert(s): {}",
                                 name, attempts, len(batch), reason)
                    return False
                delay = full_jitter(attempt, base=self.settings.retry_base, cap=self.settings.retry_cap)
                logger.warning("alert receiver {} failed ({}); retrying in {:.0f} s", name, reason, delay)
                await trio.sleep(delay)
            else:
                self.health.record_success(health_key(name))
                alert_metrics.NOTIFICATIONS.labels(name, "sent").inc()
                return True
        return False
