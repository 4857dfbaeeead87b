"""The alerts component running for real (rules, evaluator, dispatcher, silences, the built-in alerts plugin) inside
a daemon object built from a real configuration file, with receivers that record what they were told.

``FiguresEngine`` answers the read side of ``EngineAPI`` (all the alert rules ever read from an engine) with
figures a test sets, so that timing tests on the autojump clock control their inputs exactly; test_with_engine.py
runs the rules against the real sync engine over a real store.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trio

import halosync_builtin.alerts as builtin_alerts
from halosync.alerts.component import AlertsComponent
from halosync.alerts.service import AlertService
from halosync.config import loader
from halosync.contracts import Alert, Alerter
from halosync.daemon.app import Daemon
from halosync.plugin import hookimpl
from halosync.plugin.host import PluginHost
from halosync.plugin.manager import PluginManager

# Tests set their own thresholds and timers on top of these: evaluation every 15 s, no group wait, so a
# notification goes out at the evaluation that fires it.
ALERTS: dict[str, Any] = {"group_wait": 0, "resolve_after": 60, "retry_base": 1, "retry_cap": 4}


class Recorder:
    """A receiver that keeps every group it is sent; ``failures`` makes the next sends raise."""

    def __init__(self, name: str = "rec", failures: int = 0) -> None:
        self.name = name
        self.failures = failures
        self.groups: list[list[Alert]] = []
        self.delivered = trio.Event()

    async def send(self, alerts: Sequence[Alert]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("receiver unreachable")
        self.groups.append(list(alerts))
        self.delivered.set()

    @property
    def alerts(self) -> list[Alert]:
        return [a for g in self.groups for a in g]

    def states(self) -> list[tuple[str, str, str]]:
        """(rule, state, severity) of everything received, in order."""
        return [(a.rule, a.state, a.severity) for a in self.alerts]


class ReceiversPlugin:
    """A third-party style alert plugin handing the daemon the given receivers."""

    def __init__(self, *receivers: Alerter) -> None:
        self.receivers = receivers

    @hookimpl
    def halosync_alerters(self, host: PluginHost) -> list[Alerter]:
        return list(self.receivers)


@dataclass
class FiguresEngine:
    """The read side of EngineAPI, answering what the test sets."""

    installed = True  # a stand-in for a running engine (not the daemon's NullEngine)
    paused = False

    queue_figures: dict[str, Any] = field(default_factory=lambda: {
        "pending": 0, "in_flight": 0, "dead": 0, "oldest_age_seconds": 0.0, "rate_per_minute": 0.0})
    totals_figures: dict[str, int] = field(default_factory=lambda: {
        "seen": 0, "created": 0, "updated": 0, "merged": 0, "skipped": 0, "failed": 0})
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    bug: Exception | None = None  # raised by queue(), as a broken engine would

    async def queue(self) -> dict[str, Any]:
        if self.bug is not None:
            raise self.bug
        return dict(self.queue_figures)

    async def totals(self) -> dict[str, int]:
        return dict(self.totals_figures)

    async def sources_status(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.sources.items()}


@dataclass
class Running:
    daemon: Daemon
    component: AlertsComponent
    engine: FiguresEngine
    started: float  # trio time when the first evaluation ran

    async def at(self, t: float) -> None:
        """Sleep until ``t`` seconds after the first evaluation."""
        await trio.sleep_until(self.started + t)

    @property
    def service(self) -> AlertService:
        assert self.component.service is not None
        return self.component.service


def write_config(tmp_path: Path, toml: str, db_url: str | None = None, alerts: dict[str, Any] | None = None) -> Path:
    path = tmp_path / "halosync.toml"
    database = f'[database]\nurl = "{db_url}"\npool_size = 2\n' if db_url else ""
    section = "".join(f"{k} = {json.dumps(v)}\n" for k, v in {**ALERTS, **(alerts or {})}.items())
    path.write_text(f'[daemon]\nstate_dir = "{tmp_path}"\n{database}[http]\nlisten = ""\n[alerts]\n{section}{toml}',
                    encoding="utf-8")
    return path


def plugin_manager(*plugins: object) -> PluginManager:
    pm = PluginManager()
    pm.register(builtin_alerts, "alerts")
    for i, plugin in enumerate(plugins):
        pm.register(plugin, f"test{i}")
    return pm


@asynccontextmanager
async def alerts_running(tmp_path: Path, toml: str = "", *plugins: object, db_url: str | None = None,
                         alerts: dict[str, Any] | None = None) -> AsyncIterator[Running]:
    pm = plugin_manager(*plugins)
    config = loader.load(write_config(tmp_path, toml, db_url, alerts), pm.config_specs())
    daemon = Daemon(config, pm, components=[])
    engine = FiguresEngine()
    daemon.engine = engine  # type: ignore[assignment]
    component = AlertsComponent()
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(component.run, daemon)
            yield Running(daemon, component, engine, trio.current_time())
            nursery.cancel_scope.cancel()
    finally:
        daemon.store.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
