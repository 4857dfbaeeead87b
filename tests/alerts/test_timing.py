"""Rules fire only after their duration, escalate, resolve after a clear spell, and do not flap (autojump clock).

Evaluations run every 15 s from t=0; a figure set just after an evaluation is first seen at the next one.
"""

from __future__ import annotations

from pathlib import Path

import trio
import trio.testing

from tests.alerts.conftest import ReceiversPlugin, Recorder, alerts_running

ROUTE = '[alerts.rules.queue_backlog]\nreceivers = ["rec"]\n'


async def test_backlog_warns_then_escalates_only_after_each_duration_and_resolves_after_a_clear_spell(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    async with alerts_running(tmp_path, ROUTE, ReceiversPlugin(recorder)) as run:
        await run.at(1)
        run.engine.queue_figures["pending"] = 150  # above the warning level (100); seen from t=15
        await run.at(130)
        assert recorder.states() == [], "the warning fired before its 120 s"
        await run.at(140)
        assert recorder.states() == [("queue_backlog", "firing", "warning")]
        assert "150 items, above 100 items" in recorder.alerts[0].summary

        run.engine.queue_figures["pending"] = 1500  # critical from t=150, due at t=270
        await run.at(265)
        assert len(recorder.alerts) == 1
        await run.at(275)
        assert recorder.states()[-1] == ("queue_backlog", "firing", "critical")

        run.engine.queue_figures["pending"] = 0  # clear from t=285; resolves 60 s later
        await run.at(340)
        assert recorder.states()[-1][1] == "firing"
        await run.at(350)
        assert recorder.states() == [("queue_backlog", "firing", "warning"), ("queue_backlog", "firing", "critical"),
                                     ("queue_backlog", "resolved", "critical")]
        assert run.service.evaluator.describe() == []


async def test_a_value_hovering_around_the_threshold_does_not_flap(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    async with alerts_running(tmp_path, ROUTE, ReceiversPlugin(recorder)) as run:
        figures = run.engine.queue_figures
        # Above the thresholds in bursts shorter than their 120 s: never fires.
        for step in range(20):
            await run.at(1 + 60 * step)
            figures["pending"] = 1500 if step % 2 == 0 else 50
        assert recorder.states() == [], "fired on bursts shorter than its duration"

        # Once firing at critical, dips to just under the threshold (above its clear level, 900) change nothing.
        figures["pending"] = 1500
        await run.at(1400)
        firing = len(recorder.alerts)
        for step in range(20):
            await run.at(1401 + 15 * step)
            figures["pending"] = 950 if step % 2 == 0 else 1100
        assert len(recorder.alerts) == firing
        # A real dip shorter than resolve_after (60 s) does not resolve it either.
        figures["pending"] = 0
        await run.at(1730)
        figures["pending"] = 1500
        await run.at(2000)
        assert len(recorder.alerts) == firing
        assert recorder.states()[-1] == ("queue_backlog", "firing", "critical")


async def test_repeat_interval_is_honoured(tmp_path: Path, autojump_clock: trio.testing.MockClock,
                                           recorder: Recorder) -> None:
    async with alerts_running(tmp_path, ROUTE + "for = 0\n", ReceiversPlugin(recorder),
                              alerts={"repeat_interval": 600}) as run:
        await run.at(1)
        run.engine.queue_figures["pending"] = 5000  # fires at t=15
        await run.at(20)
        assert len(recorder.alerts) == 1
        await run.at(610)
        assert len(recorder.alerts) == 1, "repeated before repeat_interval"
        await run.at(620)
        assert len(recorder.alerts) == 2 and recorder.alerts[1].state == "firing"


async def test_a_failing_receiver_is_retried_reported_in_health_and_never_stops_the_others(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    flaky, broken, good = Recorder("flaky", failures=2), Recorder("broken", failures=10**6), Recorder("good")
    toml = '[alerts.rules.queue_backlog]\nreceivers = ["flaky", "broken", "good"]\nfor = 0\n'
    async with alerts_running(tmp_path, toml, ReceiversPlugin(flaky, broken, good)) as run:
        run.engine.queue_figures["pending"] = 5000
        await good.delivered.wait()
        await flaky.delivered.wait()  # after two failures and their backoff
        assert [a.rule for a in flaky.alerts] == ["queue_backlog"]
        health = run.daemon.plugin_health
        assert health["alerts.flaky"].state == "connected"
        assert health["alerts.flaky"].last_error == "delivery failed: ConnectionError: receiver unreachable"
        await trio.sleep(60)  # five attempts with backoff of at most 4 s each
        assert health["alerts.broken"].state == "failed"
        assert health["alerts.good"].state == "connected"
        # The daemon goes on evaluating and delivering to the healthy receivers.
        run.engine.queue_figures["pending"] = 0
        await trio.sleep(120)
        assert [a.state for a in good.alerts] == ["firing", "resolved"]


async def test_a_reload_applies_new_thresholds_and_routes_to_running_alerts(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    first, second = Recorder("first"), Recorder("second")
    async with alerts_running(tmp_path, '[alerts.rules.queue_backlog]\nreceivers = ["first"]\nfor = 0\n',
                              ReceiversPlugin(first, second)) as run:
        run.engine.queue_figures["pending"] = 500
        await run.at(20)
        assert first.states() == [("queue_backlog", "firing", "warning")]
        path = run.daemon.config.path
        assert path is not None
        path.write_text(path.read_text().replace('receivers = ["first"]', 'receivers = ["second"]\nthreshold = 400'))
        assert await run.daemon.reload()
        await run.at(40)
        assert second.states() == [("queue_backlog", "firing", "critical")]
        assert first.states() == [("queue_backlog", "firing", "warning")]


async def test_an_evaluation_that_breaks_is_logged_and_the_next_one_runs(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    async with alerts_running(tmp_path, ROUTE + "for = 0\n", ReceiversPlugin(recorder)) as run:
        run.engine.bug = RuntimeError("engine bug")
        run.engine.queue_figures["pending"] = 5000
        await run.at(100)
        assert recorder.alerts == []
        run.engine.bug = None
        await run.at(120)
        assert recorder.states() == [("queue_backlog", "firing", "critical")]


async def test_a_resolution_is_sent_even_when_it_overtakes_a_waiting_repeat(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    async with alerts_running(tmp_path, ROUTE + "for = 0\n", ReceiversPlugin(recorder),
                              alerts={"group_wait": 120, "repeat_interval": 600}) as run:
        await run.at(1)
        run.engine.queue_figures["pending"] = 5000  # fires at 15, sent at 135; repeat queued at 615 for 735
        await run.at(620)
        run.engine.queue_figures["pending"] = 0  # clear from 630, resolved at 690, before the repeat went out
        await run.at(900)
        assert recorder.states() == [("queue_backlog", "firing", "critical"), ("queue_backlog", "resolved", "critical")]


async def test_a_restart_neither_repeats_a_firing_alert_nor_loses_its_resolution(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    async with alerts_running(tmp_path, ROUTE, ReceiversPlugin(recorder)) as run:
        await run.at(1)
        run.engine.queue_figures["pending"] = 150
        await run.at(140)
        assert recorder.states() == [("queue_backlog", "firing", "warning")]

    # The daemon restarts with the backlog still there: the alert is still firing, and nobody hears it twice.
    async with alerts_running(tmp_path, ROUTE, ReceiversPlugin(recorder)) as run:
        await run.at(1)
        run.engine.queue_figures["pending"] = 150
        await run.at(400)  # long past the rule's 120 s: a forgotten alert would have fired again by now
        assert recorder.states() == [("queue_backlog", "firing", "warning")]
        assert [a["state"] for a in run.service.evaluator.describe()] == ["firing"]
        run.engine.queue_figures["pending"] = 0
        await run.at(500)
        assert recorder.states() == [("queue_backlog", "firing", "warning"), ("queue_backlog", "resolved", "warning")]
        assert recorder.alerts[-1].started_at == recorder.alerts[0].started_at  # the same incident, resolved
