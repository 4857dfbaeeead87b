"""Silences mute delivery until they expire or are removed; alerts go out grouped and de-duplicated."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from halosync.alerts.control import list_alerts, silence, unsilence
from halosync.alerts.silences import SilenceError, SilenceNotFound, Silences, parse_duration
from tests.alerts.conftest import ReceiversPlugin, Recorder, alerts_running

ROUTE = '[alerts.rules.queue_backlog]\nreceivers = ["rec"]\nfor = 0\n'
STALLED = '[sync]\ninterval = 60\n[alerts.rules.cursor_stalled]\nreceivers = ["rec"]\n'


async def test_a_silenced_rule_fires_but_is_not_delivered_until_the_silence_expires(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    async with alerts_running(tmp_path, ROUTE, ReceiversPlugin(recorder)) as run:
        made = silence(run.service, rule="queue_backlog", duration="10m", created_by="test", comment="bulk import")
        await run.at(1)
        run.engine.queue_figures["pending"] = 5000
        await run.at(300)
        assert recorder.alerts == []
        listed = list_alerts(run.service)
        assert [(a["rule"], a["state"], a["silenced_by"]) for a in listed["alerts"]] == [
            ("queue_backlog", "firing", made["id"])]
        assert [s["comment"] for s in listed["silences"]] == ["bulk import"]
        await run.at(595)
        assert recorder.alerts == []
        await run.at(615)  # expired at 600; the next evaluation delivers what still fires
        assert recorder.states() == [("queue_backlog", "firing", "critical")]
        assert list_alerts(run.service)["silences"] == []


async def test_removing_a_silence_delivers_at_the_next_evaluation_and_matchers_select_labels(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    async with alerts_running(tmp_path, STALLED, ReceiversPlugin(recorder)) as run:
        muted = silence(run.service, matchers={"source": "apollo*"}, duration=3600)
        run.engine.sources = {"apollo-eu": {"cursor_age_seconds": 600}, "hubspot": {"cursor_age_seconds": 600}}
        await run.at(20)
        assert [a.labels["source"] for a in recorder.alerts] == ["hubspot"]
        unsilence(run.service, muted["id"])
        await run.at(35)
        assert [a.labels["source"] for a in recorder.alerts] == ["hubspot", "apollo-eu"]
        with pytest.raises(SilenceNotFound):
            unsilence(run.service, muted["id"])


async def test_silences_survive_a_restart(tmp_path: Path, autojump_clock: trio.testing.MockClock,
                                          recorder: Recorder) -> None:
    async with alerts_running(tmp_path, ROUTE, ReceiversPlugin(recorder)) as run:
        made = silence(run.service, rule="queue_backlog", duration="1h")
    async with alerts_running(tmp_path, ROUTE, ReceiversPlugin(recorder)) as run:
        assert [s["id"] for s in list_alerts(run.service)["silences"]] == [made["id"]]
        run.engine.queue_figures["pending"] = 5000
        await run.at(60)
        assert recorder.alerts == []


def test_silence_requests_that_cannot_work_say_why(tmp_path: Path) -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("90") == 90
    for bad in ("soon", "0", "-5m", "100d"):
        with pytest.raises(SilenceError):
            parse_duration(bad)
    with pytest.raises(SilenceError, match="at least one matcher"):
        Silences(None).add({}, 60, 0)


async def test_alerts_of_one_rule_go_out_in_one_notification(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    async with alerts_running(tmp_path, STALLED, ReceiversPlugin(recorder), alerts={"group_wait": 60}) as run:
        run.engine.sources = {"a": {"cursor_age_seconds": 600}, "b": {"cursor_age_seconds": 0}}
        await run.at(30)
        run.engine.sources["b"]["cursor_age_seconds"] = 600  # fires 30 s after the first: same group
        await run.at(55)
        assert recorder.groups == []  # waiting for more
        await run.at(80)
        assert [[a.labels["source"] for a in g] for g in recorder.groups] == [["a", "b"]]


async def test_group_by_splits_notifications_per_label(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    async with alerts_running(tmp_path, STALLED, ReceiversPlugin(recorder), alerts={"group_by": ["rule", "source"]}
                              ) as run:
        run.engine.sources = {s: {"cursor_age_seconds": 600} for s in ("a", "b", "c")}
        await run.at(20)
        assert sorted(a.labels["source"] for g in recorder.groups for a in g) == ["a", "b", "c"]
        assert len(recorder.groups) == 3


async def test_an_alert_that_resolves_before_its_group_goes_out_is_never_sent(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    async with alerts_running(tmp_path, ROUTE, ReceiversPlugin(recorder),
                              alerts={"group_wait": 300, "resolve_after": 0}) as run:
        run.engine.queue_figures["pending"] = 5000
        await run.at(20)  # fired at t=0, queued for t=300
        run.engine.queue_figures["pending"] = 0
        await run.at(400)
        assert recorder.groups == []
        assert run.service.dispatcher.pending() == 0


def test_matchers_cover_rule_severity_and_labels_with_patterns() -> None:
    from halosync.contracts import Alert

    book = Silences(None)
    book.add({"severity": "warning", "provider": "halo*"}, 600, now=0)
    warning = Alert("error_rate", "warning", "firing", "", labels={"provider": "halopsa"})
    assert book.silencing(warning, now=10) is not None
    assert book.silencing(Alert("error_rate", "critical", "firing", "", labels={"provider": "halopsa"}), 10) is None
    assert book.silencing(Alert("error_rate", "warning", "firing", "", labels={"provider": "apollo"}), 10) is None
    assert book.silencing(warning, now=600) is None  # expired


async def test_an_alert_silenced_while_its_group_waits_goes_out_when_the_silence_ends(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, recorder: Recorder) -> None:
    async with alerts_running(tmp_path, ROUTE, ReceiversPlugin(recorder), alerts={"group_wait": 60}) as run:
        await run.at(1)
        run.engine.queue_figures["pending"] = 5000  # fires at t=15, its group would go out at t=75
        await run.at(30)
        silence(run.service, rule="queue_backlog", duration="5m")  # until t=330
        await run.at(320)
        assert recorder.alerts == []
        await run.at(420)  # unmuted at 330, queued at the next evaluation, sent after its group wait
        assert recorder.states() == [("queue_backlog", "firing", "critical")]
