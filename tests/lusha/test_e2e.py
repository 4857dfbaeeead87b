"""End to end: the real daemon (engine, HTTP listener and webhook inbox) loads halosync_lusha beside HaloPSA, syncs
a Lusha list into the fake HaloPSA over real sockets (on SQLite and PostgreSQL). A signed contact opt-out puts the
person on the suppression list with its reason and cancels the write already queued for them; a later poll that
brings them back writes nothing (trace says rule ``suppressed``), while other members' edits still arrive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

import halosync_builtin.matcher
import halosync_halopsa.plugin
import halosync_lusha.plugin
from halosync.config import loader
from halosync.daemon.app import Daemon
from halosync.engine import suppression
from halosync.engine.component import EngineComponent
from halosync.http.server import HTTPComponent
from halosync.inspect.trace import trace
from halosync.plugin import serve
from halosync.plugin.manager import PluginManager
from halosync.store.models import Outbox, StagedLead
from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake
from halosync_lusha.fake import FakeLusha, opt_out_event, send_webhook
from tests.e2e.rig import served
from tests.lusha.conftest import KEY, LIST
from tests.waiting import until

SECRET = "lusha-account-webhook-secret"


def write_config(directory: Path, lusha_url: str, halo_url: str, db_url: str) -> Path:
    path = directory / "halosync.toml"
    path.write_text(f"""
[daemon]
state_dir = "{directory}"
control_socket = "{directory / 'control.sock'}"
log_level = "warning"

[database]
url = "{db_url}"

[http]
listen = "127.0.0.1:0"

[sync]
interval = 1
retry_base = 0.05
retry_cap = 0.5

[match]
conflict = {{default = "fill_empty", "person.title" = "source_wins"}}  # an edited title reaches HaloPSA

[plugins.lusha]
base_url = "{lusha_url}"
api_key = "{KEY}"
list_ids = ["{LIST}"]
plan = "premium"
webhook_secret = "{SECRET}"

[plugins.halopsa]
base_url = "{halo_url}"
client_id = "halosync"
client_secret = "fake-secret"
""", encoding="utf-8")
    return path


def email(contact: dict[str, Any]) -> str:
    return str(contact["emailAddresses"][0]["email"])


async def test_a_lusha_list_reaches_halopsa_and_an_opted_out_person_is_never_written_again(
        tmp_path: Path, db_url: str, nursery: trio.Nursery) -> None:
    lusha = FakeLusha(seed=5)
    lusha.add_key(KEY, "premium")
    members = lusha.create_list(LIST, 40)
    halo = FakeHalo(FakeSettings(rate_limit=1_000, rate_window=300.0, seed=5))
    lusha_url: str = await nursery.start(serve, lusha)
    halo_url: str = await nursery.start(serve_fake, halo)
    manager = PluginManager()
    for name, module in (("lusha", halosync_lusha.plugin), ("halopsa", halosync_halopsa.plugin),
                         ("match", halosync_builtin.matcher)):
        manager.register(module, name)
    http = HTTPComponent()
    config = loader.load(write_config(tmp_path, lusha_url, halo_url, db_url), manager.config_specs(), environ={})
    daemon = Daemon(config, manager, components=[EngineComponent(), http])
    finished = await served(nursery, daemon)
    try:
        def users() -> dict[str, dict[str, Any]]:
            return {str(u.get("emailaddress")): u for u in halo.records("users")}

        await until(users, lambda u: len(u) == 40, what="every list member as a HaloPSA user", within=30)
        opted, other = lusha.contacts[members[0]], lusha.contacts[members[1]]
        title_before = users()[email(opted)]["title"]

        def state_of(contact_id: str) -> str | None:
            row = StagedLead.get_or_none((StagedLead.source == "lusha") & (StagedLead.source_id == contact_id))
            return None if row is None else str(row.state)

        def queued() -> dict[int, str]:
            person = StagedLead.get((StagedLead.source == "lusha") & (StagedLead.source_id == members[0])).person_id
            updates = (Outbox.entity_id == person) & (Outbox.kind == "person") & (Outbox.action == "update")
            return {o.id: o.state for o in Outbox.select().where(updates)}

        # Paused, the engine polls only when told (`halosyncctl sync`) and sends nothing: the edit waits in the outbox.
        daemon.engine.pause()
        lusha.edit(members[0], jobTitle="Edited before opting out")
        async for _ in daemon.engine.sync("lusha"):
            pass
        waiting = await until(lambda: daemon.store.run(queued), lambda q: "pending" in q.values(),
                              what="the person's update queued", within=20)
        assert http.url is not None
        answer = await send_webhook(http.url + "/webhooks/lusha", SECRET, opt_out_event(members[0], email(opted)))
        assert answer.status_code == 202

        listing = await until(lambda: daemon.store.run(suppression.listing), lambda r: r["total"] == 2,
                              what="the opt-out on the suppression list", within=20)
        reason = "opted out through Lusha (contact opt-out webhook)"
        assert sorted((e["kind"], e["value"], e["origin"], e["reason"]) for e in listing["entries"]) == [
            ("email", email(opted).lower(), "lusha", reason), ("source_id", f"lusha:{members[0]}", "lusha", reason)]
        assert set((await daemon.store.run(queued)).values()) == {"cancelled"} and set(waiting) == set(
            await daemon.store.run(queued))
        daemon.engine.resume()
        lusha.edit(members[0], jobTitle="Edited after opting out")
        lusha.edit(members[1], jobTitle="Promoted")
        added = lusha.add_members(LIST, 1)

        await until(users, lambda u: u.get(email(other), {}).get("title") == "Promoted" and len(u) == 41,
                    what="the other member's edit and the new member in HaloPSA", within=30)
        assert users()[email(opted)]["title"] == title_before  # the opted-out person was not written again
        await until(lambda: daemon.store.run(lambda: state_of(members[0])), lambda s: s == "suppressed",
                    what="the opted-out member's edit suppressed", within=20)
        events = (await daemon.store.run(lambda: trace(f"lusha:{members[0]}")))["leads"][0]["events"]
        assert events[-1]["stage"] == "suppressed" and events[-1]["detail"]["rule"] == "suppressed"
        assert await daemon.store.run(lambda: state_of(added[0])) != "suppressed"
        assert [w.window for w in daemon.sources["lusha"].rate_limits()] == ["minute", "hour", "day"]
    finally:
        daemon.request_stop()
        with trio.fail_after(20):
            await finished.wait()  # sources and sinks closed, their connections with them
