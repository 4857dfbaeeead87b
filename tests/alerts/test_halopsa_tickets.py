"""The HaloPSA receiver against the fake HaloPSA over a real socket: a firing alert opens a ticket (with the
token flow of the HaloPSA plugin's client), a repeat adds a note instead of a second ticket, and the resolution
closes the story with a note."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from halosync.config import loader
from halosync.contracts import Alert, Alerter
from halosync.errors import ProviderError
from halosync.plugin.host import PluginHost
from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake
from tests.alerts.conftest import alerts_running, plugin_manager, write_config
from tests.waiting import until

FIRING = Alert("error_rate", "critical", "firing", "error_rate provider=apollo: 23 %, above 5 %", 23.0,
               {"provider": "apollo"}, started_at=1_790_000_000.0)
RESOLVED = Alert("error_rate", "critical", "resolved", "error_rate provider=apollo: resolved at 0 %", 0.0,
                 {"provider": "apollo"}, started_at=1_790_000_000.0, ended_at=1_790_000_900.0)


def halo_toml(url: str) -> str:
    # The receiver shares [plugins.halopsa]'s instance and credentials (the usual MSP setup).
    return f"""
[plugins.halopsa]
base_url = "{url}"
client_id = "halosync"
client_secret = "env:HALO_SECRET"
[plugins.alerts.receivers.tickets]
type = "halopsa"
tickettype_id = 1
ticket_client_id = 0
"""


@pytest.fixture
async def halo(nursery: trio.Nursery, monkeypatch: pytest.MonkeyPatch) -> tuple[FakeHalo, str]:
    monkeypatch.setenv("HALO_SECRET", "fake-secret")
    fake = FakeHalo(FakeSettings())
    url: str = await nursery.start(serve_fake, fake)
    return fake, url


def tickets_receiver(tmp_path: Path, toml: str) -> Alerter:
    from halosync_halopsa import plugin as halopsa_plugin

    pm = plugin_manager(halopsa_plugin)
    config = loader.load(write_config(tmp_path, toml), pm.config_specs())
    return next(a for a in pm.alerters(PluginHost(config)) if a.name == "tickets")


async def test_an_alert_opens_one_ticket_notes_repeats_and_notes_its_resolution(
        tmp_path: Path, halo: tuple[FakeHalo, str]) -> None:
    fake, url = halo
    receiver = tickets_receiver(tmp_path, halo_toml(url))
    try:
        await receiver.send([FIRING])
        await receiver.send([FIRING])  # the repeat interval passed: a note, not a second ticket
        await receiver.send([RESOLVED])
    finally:
        await receiver.aclose()  # type: ignore[attr-defined]
    [ticket] = fake.tables["tickets"].rows.values()
    assert ticket["summary"].startswith("[FIRING:1] halosync on ")
    assert "CRITICAL error_rate provider=apollo: 23 %, above 5 %" in ticket["details"]
    assert ticket["tickettype_id"] == 1
    notes = [a for a in fake.tables["actions"].rows.values() if a["ticket_id"] == ticket["id"]]
    assert [n["outcome"] for n in notes] == ["Alert still firing", "Alert resolved"]
    assert "RESOLVED error_rate provider=apollo: resolved at 0 %" in notes[-1]["note"]
    assert fake.count("POST", "/auth/token") == 1  # one token for the three deliveries


async def test_refused_credentials_fail_the_delivery_with_halopsas_reason(
        tmp_path: Path, halo: tuple[FakeHalo, str], monkeypatch: pytest.MonkeyPatch) -> None:
    fake, url = halo
    monkeypatch.setenv("HALO_SECRET", "wrong")
    receiver = tickets_receiver(tmp_path, halo_toml(url))
    try:
        with pytest.raises(ProviderError, match="invalid_client"):
            await receiver.send([FIRING])
    finally:
        await receiver.aclose()  # type: ignore[attr-defined]
    assert fake.tables["tickets"].rows == {}


async def test_a_firing_rule_becomes_a_ticket_through_the_running_component(
        tmp_path: Path, halo: tuple[FakeHalo, str]) -> None:
    from halosync_halopsa import plugin as halopsa_plugin

    fake, url = halo
    toml = halo_toml(url) + '[alerts.rules.queue_backlog]\nreceivers = ["tickets"]\nfor = 0\n'
    async with alerts_running(tmp_path, toml, halopsa_plugin, alerts={"interval": 1}) as run:
        run.engine.queue_figures["pending"] = 2500
        await until(lambda: fake.tables["tickets"].rows, what="a ticket in HaloPSA", within=60)
        await until(lambda: run.daemon.plugin_health["alerts.tickets"].last_success_at, lambda at: at is not None,
                    what="a success in alerts.tickets' health", within=60)
    [ticket] = fake.tables["tickets"].rows.values()
    assert "queue_backlog" in ticket["summary"]


async def test_a_receiver_that_cannot_be_built_is_reported_and_the_others_still_deliver(tmp_path: Path) -> None:
    from halosync_halopsa import plugin as halopsa_plugin
    from tests.alerts.conftest import ReceiversPlugin, Recorder

    recorder = Recorder()
    toml = ('[plugins.alerts.receivers.tickets]\ntype = "halopsa"\ntickettype_id = 1\n'  # no [plugins.halopsa]
            '[alerts.rules.queue_backlog]\nreceivers = ["tickets", "rec"]\nfor = 0\n')
    async with alerts_running(tmp_path, toml, halopsa_plugin, ReceiversPlugin(recorder), alerts={"interval": 1}) as run:
        health = run.daemon.plugin_health["alerts.tickets"]
        assert health.state == "failed" and "needs base_url, client_id and client_secret" in (health.last_error or "")
        run.engine.queue_figures["pending"] = 2500
        await until(lambda: recorder.alerts, what="an alert recorded", within=60)
    assert recorder.states() == [("queue_backlog", "firing", "critical")]


async def test_after_a_restart_a_still_firing_alert_adds_to_its_open_ticket(
        tmp_path: Path, halo: tuple[FakeHalo, str]) -> None:
    fake, url = halo
    before = tickets_receiver(tmp_path, halo_toml(url))
    try:
        await before.send([FIRING])
    finally:
        await before.aclose()  # type: ignore[attr-defined]
    after = tickets_receiver(tmp_path, halo_toml(url))  # the daemon restarted; the alert fires again
    try:
        await after.send([FIRING])
        await after.send([RESOLVED])
    finally:
        await after.aclose()  # type: ignore[attr-defined]
    [ticket] = fake.tables["tickets"].rows.values()
    notes = [a["outcome"] for a in fake.tables["actions"].rows.values() if a["ticket_id"] == ticket["id"]]
    assert notes == ["Alert still firing", "Alert resolved"]


async def test_a_ticket_whose_answer_was_lost_is_found_again_not_opened_twice(
        tmp_path: Path, halo: tuple[FakeHalo, str]) -> None:
    """HaloPSA has no idempotency keys: the receiver searches for its reference before opening a ticket."""
    from halosync_halopsa.alert_tickets import reference

    fake, url = halo
    fake.inject("lost", method="POST", route="/api/tickets")  # HaloPSA opens the ticket; the answer never comes
    toml = halo_toml(url) + "timeout = 0.5\n"  # the receiver's own request timeout
    receiver = tickets_receiver(tmp_path, toml)
    later = Alert("error_rate", "critical", "firing", "error_rate provider=apollo: 31 %, above 5 %", 31.0,
                  {"provider": "apollo"}, started_at=1_790_090_000.0)
    try:
        with pytest.raises(ProviderError):
            await receiver.send([FIRING])  # the dispatcher sees a failure and retries the notification
        await receiver.send([FIRING])
        await receiver.send([RESOLVED])
        await receiver.send([later])  # the same alert's next episode: a ticket of its own
    finally:
        await receiver.aclose()  # type: ignore[attr-defined]
    first, second = fake.tables["tickets"].rows.values()
    assert first["summary"].endswith(reference([FIRING])) and second["summary"].endswith(reference([later]))
    assert reference([FIRING]) != reference([later])
    notes = [a["outcome"] for a in fake.tables["actions"].rows.values() if a["ticket_id"] == first["id"]]
    assert notes == ["Alert resolved"]
    assert fake.count("POST", "/api/tickets") == 2  # the lost create, then the next episode's
