"""``AlertService``: every ``alerts.interval`` seconds, sample the daemon's cached state, evaluate the rules,
and hand what changed to the dispatcher; between evaluations, flush notification groups as their wait ends.
(``AlertsComponent`` in ``component.py`` runs it in the daemon; ``control.py`` puts its API on the socket.)

Time: rule durations run on trio's clock (so tests use the autojump clock); the epoch times in alerts and silences
come from ``AlertClock``, which is the wall clock at start advanced by trio's clock, so both agree.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

import trio
from loguru import logger

from halosync.alerts import metrics as alert_metrics
from halosync.alerts.dispatch import DeliverySettings, Dispatcher, health_key
from halosync.alerts.evaluator import Evaluator
from halosync.alerts.log_alerter import LogAlerter
from halosync.alerts.memory import FILE_NAME as MEMORY_FILE
from halosync.alerts.memory import AlertMemory
from halosync.alerts.readings import History, take_snapshot
from halosync.alerts.silences import FILE_NAME, Silences
from halosync.config.alert_rules import Rule, load_rules
from halosync.contracts import Alert, Alerter
from halosync.control.registry import ControlMethod
from halosync.daemon.api import HealthRecorder, MethodRegistration, PluginHealth, ReloadRegistration, StateView
from halosync.errors import PluginError

if TYPE_CHECKING:
    from halosync.config.loader import Config


class AlertPorts(StateView, ReloadRegistration, HealthRecorder, MethodRegistration[ControlMethod], Protocol):
    """What alerting needs of the daemon: the state its rules read, a reload hook, the receivers' health, and its
    ``alerts.*`` control methods."""


LOGGED_CHANGES = 20  # alert transitions logged one by one per evaluation; the rest are counted


class AlertClock:
    """Epoch seconds that advance with trio's clock."""

    def __init__(self) -> None:
        self.offset = time.time() - trio.current_time()

    def now(self) -> float:
        return self.offset + trio.current_time()


def delivery_settings(config: Config) -> DeliverySettings:
    a = config.section("alerts")
    return DeliverySettings(
        default_receivers=tuple(a["receivers"]), group_by=tuple(a["group_by"]), group_wait=a["group_wait"],
        repeat_interval=a["repeat_interval"], send_resolved=a["send_resolved"], timeout=a["delivery_timeout"],
        attempts=a["delivery_attempts"], retry_base=a["retry_base"], retry_cap=a["retry_cap"])


def build_alerters(daemon: AlertPorts) -> dict[str, Alerter]:
    """The receivers the alert plugins provide, plus the core ``log`` receiver when none of them is called so.
    When a plugin's hook fails, the plugin manager gives no receivers at all: that is reported (log and health)
    and alerting goes on with the ``log`` receiver. (The built-in plugin never fails whole: a receiver it cannot
    build stands in with its problem, see ``UnusableReceiver``.)"""
    found: list[Alerter] = []
    try:
        found = daemon.plugins.alerters(daemon.host)
    except PluginError as exc:
        logger.error("alerts: {}; its receivers are left out until it is fixed and the daemon reloaded", exc)
        daemon.record_error(health_key(exc.plugin), str(exc), state="failed")
    out: dict[str, Alerter] = {}
    for alerter in found:
        if alerter.name in out:
            logger.warning("alerts: two receivers are named {!r}; the second is ignored", alerter.name)
            continue
        out[alerter.name] = alerter
    out.setdefault("log", LogAlerter())
    return out


class AlertService:
    """The rules, their state, the silences and the dispatcher of one running daemon."""

    def __init__(self, daemon: AlertPorts, alerters: dict[str, Alerter]) -> None:
        self.daemon = daemon
        self.clock = AlertClock()
        self.silences = Silences(daemon.config.state_dir / FILE_NAME)
        self.evaluator = Evaluator([], hysteresis=0.0, resolve_after=0.0)
        self.history = History(keep=0.0)
        self.dispatcher = Dispatcher(alerters, self.silences, delivery_settings(daemon.config), daemon)
        self.rules: list[Rule] = []
        self.delivery_scope: trio.CancelScope | None = None
        self.configure(daemon.config)
        self._track_health(alerters)
        self.memory = AlertMemory(daemon.config.state_dir / MEMORY_FILE)
        self.memory.restore(self.evaluator, self.dispatcher)

    def _track_health(self, alerters: dict[str, Alerter]) -> None:
        for name, alerter in alerters.items():
            health = self.daemon.track_health(health_key(name), _receiver_health())
            health.detail["receiver"] = name
            problem = getattr(alerter, "problem", None)  # a receiver its plugin could not build from its settings
            if problem:
                self.daemon.record_error(health_key(name), problem, state="failed")

    def configure(self, config: Config) -> None:
        """Apply ``[alerts]`` (at start and on reload): rules, thresholds, routes, delivery settings. Running
        alerts keep their timers; receivers themselves are built once at start."""
        a = config.section("alerts")
        self.interval = float(a["interval"])
        self.rules = load_rules(a["rules"])
        self.evaluator.set_rules(self.rules, hysteresis=a["hysteresis"], resolve_after=a["resolve_after"])
        self.history.dense = max([r.window for r in self.rules] + [0.0]) + self.interval * 2
        self.history.keep = max([r.window + r.baseline for r in self.rules if r.kind == "duplicates_spike"]
                                + [self.history.dense])
        self.dispatcher.settings = delivery_settings(config)
        self.dispatcher.routes = {r.name: r.receivers for r in self.rules if r.receivers}

    async def reload(self) -> None:
        """New rules and settings, and receivers rebuilt from the new configuration; the delivery tasks restart
        on them. A receiver keeps what it was told under the same name (no repeat of everything firing), but a
        group already handed to the old delivery task and not yet sent is lost: the repeat interval covers it."""
        self.configure(self.daemon.config)
        old = self.dispatcher.alerters
        new = build_alerters(self.daemon)
        gone = set(old) - set(new)
        for name in gone:
            self.daemon.forget_health(health_key(name))
        self._track_health(new)
        self.dispatcher.alerters = new
        self.dispatcher.forget_receivers(gone)
        if self.delivery_scope is not None:
            self.delivery_scope.cancel()
        await close_alerters(old.values())

    async def deliver(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The dispatcher's delivery tasks, started again on the new receivers after each reload."""
        while True:
            with trio.CancelScope() as self.delivery_scope:
                await self.dispatcher.run(task_status=task_status)
            task_status = trio.TASK_STATUS_IGNORED

    async def evaluate(self) -> list[Alert]:
        """One evaluation: sample, evaluate, queue notifications, flush the groups that are due."""
        now = self.clock.now()
        for silence in self.silences.prune(now):
            logger.info("alert silence {} ({}) expired", silence.id, _matchers(silence.matchers))
        snapshot = await take_snapshot(self.daemon, now)
        self.history.add(snapshot)
        alert_metrics.set_readings(snapshot.memory_percent, snapshot.rate_windows, snapshot.at)
        changes = self.evaluator.evaluate(self.history, now)
        for alert in changes[:LOGGED_CHANGES]:
            silenced = " (silenced)" if self.silences.silencing(alert, now) else ""
            if alert.state == "firing":
                logger.warning("alert firing{}: {} [{}]", silenced, alert.summary, alert.severity)
            else:
                logger.info("alert resolved{}: {}", silenced, alert.summary)
        if len(changes) > LOGGED_CHANGES:  # a burst (a thousand sources stalling at once) must not flood the log
            logger.warning("... and {} more alert changes; `halosyncctl alerts` lists them all",
                           len(changes) - LOGGED_CHANGES)
        firing = self.evaluator.firing()
        alert_metrics.set_firing(firing)
        self.dispatcher.update(changes, firing, now)
        self.dispatcher.flush(now)
        return changes

    async def run(self) -> None:
        next_evaluation = trio.current_time()
        while True:
            if trio.current_time() >= next_evaluation:
                try:
                    await self.evaluate()
                except Exception:  # alerting must never take the daemon down; the log has the traceback
                    logger.opt(exception=True).error("alerts: evaluation failed; trying again in {:g} s",
                                                     self.interval)
                next_evaluation = trio.current_time() + self.interval
            else:
                self.dispatcher.flush(self.clock.now())
            self.memory.save(self.evaluator, self.dispatcher)  # writes only when something changed
            flush_at = self.dispatcher.next_flush_at() - self.clock.offset
            await trio.sleep_until(min(next_evaluation, flush_at))


def _receiver_health() -> PluginHealth:
    # A receiver is usable until a delivery says otherwise; /health shows "connected" until then.
    return PluginHealth("alert", state="connected")


def _matchers(matchers: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in matchers.items())


async def close_alerters(alerters: Iterable[Alerter]) -> None:
    """Receivers holding connections (HaloPSA's client) close them; shielded, as this runs while cancelled."""
    with trio.move_on_after(5, shield=True):
        for alerter in alerters:
            aclose = getattr(alerter, "aclose", None)
            if aclose is None:
                continue
            try:
                await aclose()
            except Exception:  # closing is best effort at exit; the log says which receiver failed
                logger.opt(exception=True).warning("closing alert receiver {} failed", alerter.name)
