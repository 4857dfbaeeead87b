"""Each rule reads its real input — provider metrics, psutil, plugins' rate windows, the engine's figures, the
database pool — and fires only after its duration (autojump clock where nothing waits on a socket)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import trio
import trio.testing

from halosync import metrics
from halosync.alerts import metrics as alert_metrics
from halosync.config import loader
from halosync.contracts import RateWindow
from halosync.errors import ConfigError
from tests.alerts.conftest import ReceiversPlugin, Recorder, alerts_running, plugin_manager, write_config


def route(rule: str, extra: str = "") -> str:
    return f'[alerts.rules.{rule}]\nreceivers = ["rec"]\n{extra}'


async def traffic(provider: str, *, errors_every: int = 0, seconds: float = 0.05,
                  until: Callable[[], bool] = lambda: False) -> None:
    """Ten provider requests every 5 s as a plugin's client records them; every ``errors_every``-th a 503."""
    n = 0
    while not until():
        for _ in range(10):
            n += 1
            status = 503 if errors_every and n % errors_every == 0 else 200
            metrics.observe_provider_request(provider, "/api/Users", status, seconds)
        await trio.sleep(5)


async def test_error_rate_fires_after_five_minutes_above_five_percent_and_resolves(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    provider = f"halo-{uuid.uuid4().hex[:6]}"
    healthy = False
    async with alerts_running(tmp_path, route("error_rate"), ReceiversPlugin(recorder)) as run, \
            trio.open_nursery() as nursery:
        nursery.start_soon(lambda: traffic(provider, errors_every=5, until=lambda: healthy))
        await run.at(300)
        assert recorder.alerts == []
        await run.at(330)
        [alert] = recorder.alerts
        assert (alert.rule, alert.severity, dict(alert.labels)) == ("error_rate", "critical", {"provider": provider})
        assert alert.value == pytest.approx(20.0)
        healthy = True
        nursery.start_soon(traffic, provider)
        await run.at(500)
        assert [a.state for a in recorder.alerts] == ["firing", "resolved"]
        nursery.cancel_scope.cancel()


async def test_slow_provider_answers_fire_the_response_time_rule_after_a_minute(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    provider = f"slow-{uuid.uuid4().hex[:6]}"
    async with alerts_running(tmp_path, route("response_time"), ReceiversPlugin(recorder)) as run, \
            trio.open_nursery() as nursery:
        nursery.start_soon(lambda: traffic(provider, seconds=8.0))
        await run.at(70)
        assert recorder.alerts == []
        await run.at(80)
        [alert] = recorder.alerts
        assert alert.labels == {"provider": provider} and alert.severity == "warning"
        assert 5 < (alert.value or 0) <= 10  # the 95th percentile, within the 5-10 s bucket
        nursery.cancel_scope.cancel()


async def test_memory_rule_reads_the_system_memory(tmp_path: Path, autojump_clock: trio.testing.MockClock,
                                                   recorder: Recorder) -> None:
    async with alerts_running(tmp_path, route("memory", "threshold = 0.01\nfor = 0\n"),
                              ReceiversPlugin(recorder)) as run:
        await run.at(1)
        [alert] = recorder.alerts
        assert alert.value is not None and 0 < alert.value <= 100
        assert alert_metrics.MEMORY_USED._value.get() == pytest.approx(alert.value / 100, abs=0.05)


class QuotaPlugin:
    """A source plugin's view of its quota, as ``rate_limits()`` reports it (what Apollo's headers give)."""

    name = "apollo"

    def __init__(self) -> None:
        self.windows: list[RateWindow] = []

    def rate_limits(self) -> list[RateWindow]:
        return list(self.windows)


async def test_a_quota_forecast_to_run_out_before_its_reset_fires(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    quota = QuotaPlugin()
    async with alerts_running(tmp_path, route("rate_limit_exhaustion"), ReceiversPlugin(recorder)) as run:
        run.daemon.sources["apollo"] = quota  # type: ignore[assignment]
        now = time.time()
        quota.windows = [RateWindow("apollo", "hour", 600, 500, 100, reset_at=now + 1800, exhausted_at=now + 600,
                                    endpoint="/v1/contacts/search"),
                         RateWindow("apollo", "day", 6000, 10, 5990, reset_at=now + 7200)]
        await run.at(70)
        assert recorder.alerts == []  # held since t=15, due at t=75
        await run.at(80)
        [alert] = recorder.alerts
        assert alert.labels == {"provider": "apollo", "window": "hour", "endpoint": "/v1/contacts/search"}
        assert alert.value == pytest.approx(1200, abs=1)
        # The metric Prometheus rules read is the alert's own figure.
        assert alert_metrics.QUOTA_SHORTFALL.labels("apollo", "hour")._value.get() == pytest.approx(1200, abs=1)
        quota.windows = [RateWindow("apollo", "hour", 600, 100, 500, reset_at=now + 1800)]
        await run.at(200)
        assert [a.state for a in recorder.alerts] == ["firing", "resolved"]


async def test_dead_letters_growing_fires_at_once_and_resolves_when_growth_stops(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    async with alerts_running(tmp_path, route("dead_letters_growing", "window = 300\n"),
                              ReceiversPlugin(recorder)) as run:
        await run.at(100)
        run.engine.queue_figures["dead"] = 3
        await run.at(120)
        assert [(a.state, a.value) for a in recorder.alerts] == [("firing", 3.0)]
        await run.at(400)  # still within the window of the growth: no resolution yet
        assert len(recorder.alerts) == 1
        await run.at(500)
        assert [a.state for a in recorder.alerts] == ["firing", "resolved"]


async def test_a_burst_of_merged_duplicates_against_a_quiet_baseline_is_a_spike(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    async with alerts_running(tmp_path, route("duplicates_spike"), ReceiversPlugin(recorder)) as run:
        totals = run.engine.totals_figures
        for minute in range(120):  # two hours with a merge every ten minutes: about 1.5 per 15-minute window
            await run.at(60 * minute + 1)
            if minute % 10 == 0:
                totals["merged"] += 1
        assert recorder.alerts == []
        totals["merged"] += 60  # a bad source replays old contacts
        await run.at(7300)
        [alert] = recorder.alerts
        assert alert.rule == "duplicates_spike" and (alert.value or 0) > 3


@pytest.mark.postgres
async def test_database_pool_nearly_exhausted_fires(tmp_path: Path, autojump_clock: trio.testing.MockClock,
                                                     recorder: Recorder, pg_url: str) -> None:
    async with alerts_running(tmp_path, route("db_connections"), ReceiversPlugin(recorder), db_url=pg_url) as run:
        limiter = run.daemon.store.limiter
        holders = [object(), object()]
        for holder in holders:  # both connections of the pool (pool_size = 2) busy
            limiter.acquire_on_behalf_of_nowait(holder)
        await run.at(70)
        assert recorder.alerts == []  # held since t=15, due at t=75
        await run.at(80)
        assert [(a.rule, a.value) for a in recorder.alerts] == [("db_connections", 100.0)]
        for holder in holders:
            limiter.release_on_behalf_of(holder)


async def test_a_disabled_rule_never_fires_and_a_user_rule_reuses_a_kind(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    toml = ('[alerts.rules.queue_backlog]\nenabled = false\n'
            '[alerts.rules.backlog_page]\nkind = "queue_backlog"\nthreshold = 50000\nwarning = 20000\nfor = 0\n'
            'receivers = ["rec"]\n')
    async with alerts_running(tmp_path, toml, ReceiversPlugin(recorder)) as run:
        run.engine.queue_figures["pending"] = 30000
        await run.at(300)
        assert recorder.states() == [("backlog_page", "firing", "warning")]


def test_rule_and_receiver_mistakes_are_config_errors_with_their_line(tmp_path: Path) -> None:
    toml = ('[alerts.rules.error_rate]\ntreshold = 3\n[alerts.rules.memroy]\nthreshold = 90\n'
            '[alerts.rules.queue_backlog]\nthreshold = 500\nwarning = 800\n'
            '[plugins.alerts.receivers.mail]\ntype = "email"\nhost = "smtp.example.com"\n'
            '[plugins.alerts.receivers.hook]\ntype = "webhook"\nurl = "http://example.com/hook"\n')
    pm = plugin_manager()
    with pytest.raises(ConfigError) as caught:
        loader.load(write_config(tmp_path, toml), pm.config_specs())
    shown = str(caught.value)
    assert "alerts.rules.error_rate.treshold: unknown key (did you mean 'threshold'?)" in shown
    assert "alerts.rules.memroy: no built-in rule of this name (did you mean 'memory'?)" in shown
    assert "plugins.alerts.receivers.mail.from: is required" in shown
    assert "alerts.rules.queue_backlog.warning: must be below threshold (500)" in shown
    assert "plugins.alerts.receivers.hook.url: must use https://" in shown
    assert all(":0:" not in line for line in shown.splitlines() if "treshold" in line)
