"""``create_opportunity = true`` end to end: the real engine, Apollo source and HaloPSA sink against both fakes.

Every person halosync creates in HaloPSA gets exactly one Opportunity, linked to that user, its client and the
client's main site; a person matched to a user HaloPSA already had gets none; a re-run, an update, an answer lost
on the wire and a SIGKILL while the opportunity's POST is in flight all leave exactly one; ``trace`` shows it.
"""

from __future__ import annotations

import signal
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trio

from halosync.cli.commands.demo import DemoFakes, demo_plugins, load_config, write_config
from halosync.daemon.app import Daemon
from halosync.engine.component import EngineComponent
from halosync.engine.ledger import read_totals
from halosync.inspect.integrity import run_checks
from halosync.inspect.trace import trace
from halosync.store.gateway import Store
from halosync.store.models import LineageEvent, Outbox, StagedLead
from halosync_halopsa.settings import HaloSettings
from halosync_halopsa.sink import HaloSink
from tests.e2e.processes import daemon_env
from tests.e2e.rig import Rig
from tests.waiting import until

TICKET_TYPE = 2  # the fake's "Opportunity" ticket type
OPPORTUNITIES = "/api/opportunities"


@dataclass
class OpportunityRig(Rig):
    """The e2e rig with the HaloPSA sink set to create opportunities."""

    halopsa: dict[str, Any] = field(default_factory=lambda: {"create_opportunity": True,
                                                             "opportunity_tickettype_id": TICKET_TYPE})

    def config_path(self, **sync: Any) -> Path:
        return write_config(self.directory, self.fakes.apollo_url, self.fakes.halo_url, sync={**self.sync, **sync},
                            match=self.match or None, database_url=self.db_url, halopsa=self.halopsa,
                            log_level="info")

    def daemon(self, *, once: bool = True, **sync: Any) -> Daemon:
        plugins = demo_plugins()
        return Daemon(load_config(self.config_path(**sync), plugins), plugins, once=once,
                      components=[EngineComponent()])


@pytest.fixture
async def rig(tmp_path: Path, db_url: str, nursery: trio.Nursery) -> OpportunityRig:
    """Both fakes served in pytest-trio's nursery (cancelled when the test ends): 80 contacts, a fifth of them
    duplicates of another."""
    fakes = DemoFakes.create(80, seed=23, halo_rate=100_000, duplicate_share=0.2)
    await fakes.serve(nursery)
    return OpportunityRig(fakes, tmp_path, db_url)


def assert_one_opportunity_per_created_user(rig: OpportunityRig, created_users: set[int]) -> None:
    """Each user halosync created has exactly one opportunity, linked to it, its client and its site; no other
    user has any; and the store's links and totals say the same."""
    halo = rig.fakes.halo
    opportunities = halo.records("opportunities")
    per_user = Counter(o.get("user_id") for o in opportunities)
    assert per_user == dict.fromkeys(created_users, 1), {u: n for u, n in per_user.items() if n != 1}
    users = halo.tables["users"].rows
    linked = rig.links("opportunity")  # source id of the lead that planned it -> opportunity id
    assert sorted(int(s) for s in linked.values()) == sorted(o["id"] for o in opportunities)
    leads = rig.query(lambda: {s.source_id: s.payload for s in StagedLead.select()})
    lead_of = {int(opp_id): leads[source_id] for source_id, opp_id in linked.items()}
    for opp in opportunities:
        user, lead = users[opp["user_id"]], lead_of[opp["id"]]
        assert (opp["client_id"], opp["site_id"]) == (user["client_id"], user["site_id"]), opp
        assert opp["tickettype_id"] == TICKET_TYPE
        assert opp["oppcontactname"] == user["name"] and opp.get("oppemailaddress") == user.get("emailaddress")
        company = lead["company"]["name"]  # the opp* fields are the lead's
        assert opp["oppcompanyname"] == company and opp["summary"] == f"{user['name']} - {company}"
        assert opp.get("oppjobtitle") == lead["person"].get("title")
    totals = rig.query(read_totals)
    assert totals["opportunities_created"] == len(opportunities)
    assert totals["created"] == len(created_users)  # opportunities are not counted as leads


async def test_each_new_user_gets_one_opportunity_and_a_rerun_none(rig: OpportunityRig) -> None:
    assert await rig.run_once() == 0
    halo, apollo = rig.fakes.halo, rig.fakes.apollo
    users = {u["id"] for u in halo.records("users")}
    assert len(users) == len(set(apollo.truth.values()))  # the fake started empty: every user is a new lead
    assert_one_opportunity_per_created_user(rig, users)
    posts = halo.count("POST", OPPORTUNITIES)
    assert 0 < posts < len(users)  # batched, not one POST each

    contact_id = next(cid for cid, c in apollo.book.by_id.items() if c.get("email"))
    apollo.update_contact(contact_id, title="Chief Llama Officer")  # an update, not a new lead
    rig.match = {"conflict": {"default": "fill_empty", "person.title": "source_wins"}}
    assert await rig.run_once() == 0
    assert halo.tables["users"].rows[int(rig.links("person")[contact_id])]["title"] == "Chief Llama Officer"
    assert await rig.run_once() == 0
    assert halo.count("POST", OPPORTUNITIES) == posts
    assert_one_opportunity_per_created_user(rig, users)


async def test_a_person_matched_to_an_existing_user_gets_none(rig: OpportunityRig) -> None:
    halo, apollo = rig.fakes.halo, rig.fakes.apollo
    contact_id, contact = next((cid, c) for cid, c in apollo.book.by_id.items()
                               if c.get("email") and c.get("organization"))
    org = contact["organization"]
    client = halo.add_client(org["name"], website=org["primary_domain"], domain=org["primary_domain"])
    existing = halo.add_user(client["id"], firstname=contact["first_name"], surname=contact["last_name"],
                             emailaddress=contact["email"])
    assert await rig.run_once() == 0
    assert rig.links("person")[contact_id] == str(existing["id"])  # adopted, not created
    created = {u["id"] for u in halo.records("users")} - {existing["id"]}
    assert created and len(created) + 1 == len(set(apollo.truth.values()))
    assert_one_opportunity_per_created_user(rig, created)  # and none for the user that was there


async def test_an_opportunity_answer_lost_on_the_wire_is_found_not_sent_again(rig: OpportunityRig) -> None:
    rig.halopsa["timeout"] = 1.0  # the lost answer is given up on after a second
    rig.fakes.halo.inject("lost", method="POST", route=OPPORTUNITIES)
    assert await rig.run_once() == 0
    halo = rig.fakes.halo
    lost = [r for r in halo.log if r.route == OPPORTUNITIES and r.method == "POST" and not r.answered]
    assert len(lost) == 1 and lost[0].items > 0  # the POST that was carried out, its answer never sent
    assert_one_opportunity_per_created_user(rig, {u["id"] for u in halo.records("users")})


async def test_sigkill_while_the_opportunity_post_is_in_flight_leaves_exactly_one(rig: OpportunityRig) -> None:
    """A real `halosync run`, killed with SIGKILL while HaloPSA has carried out an opportunity POST whose answer has
    not arrived; the next run reconciles the row through the sink's find instead of posting it again."""
    halo = rig.fakes.halo
    halo.inject("lost", method="POST", route=OPPORTUNITIES)
    command = [sys.executable, "-m", "halosync.cli.main", "--config", str(rig.config_path()), "run"]
    with (rig.directory / "daemon.log").open("w") as log:
        daemon = await trio.lowlevel.open_process(command, env=daemon_env(), stdout=log, stderr=log)
        try:
            # the POST has been carried out, its answer held back (the fake's request log says so)
            await until(lambda: any(r.route == OPPORTUNITIES and not r.answered for r in halo.log),
                        what="an opportunity POST carried out and not yet answered", within=60, step=0.01)
        finally:
            daemon.send_signal(signal.SIGKILL)
            await daemon.wait()
    written = len(halo.records("opportunities"))
    assert written > 0
    in_flight = rig.query(lambda: Outbox.select().where(Outbox.kind == "opportunity",
                                                        Outbox.state == "in_flight").count())
    assert in_flight > 0, "the kill did not catch an opportunity write in flight"

    assert await rig.run_once() == 0
    assert_one_opportunity_per_created_user(rig, {u["id"] for u in halo.records("users")})
    found = rig.query(lambda: [e.detail for e in LineageEvent.select().where(LineageEvent.stage == "write")
                               if e.detail.get("kind") == "opportunity" and e.detail.get("outcome") == "found"])
    assert len(found) == written  # every opportunity the killed daemon had sent was found again, not re-sent


async def test_trace_shows_the_opportunity(rig: OpportunityRig) -> None:
    assert await rig.run_once() == 0
    apollo, halo = rig.fakes.apollo, rig.fakes.halo
    by_person: dict[str, list[str]] = {}
    for contact_id, person in apollo.truth.items():
        by_person.setdefault(person, []).append(contact_id)
    contacts = next(ids for ids in by_person.values() if len(ids) > 1)  # a person with duplicates
    user_id = int(rig.links("person")[contacts[0]])
    opportunity = next(o for o in halo.records("opportunities") if o["user_id"] == user_id)
    shown = {}
    for contact_id in contacts:
        leads = rig.query(lambda c=contact_id: trace(f"apollo:{c}"))["leads"]
        assert len(leads) == 1
        shown[contact_id] = leads[0]
    # every contact of the person shows the opportunity its person got, whichever lead planned it
    for lead in shown.values():
        assert [(o["sink"], o["sink_id"], o["state"]) for o in lead["opportunities"]] == [
            ("halopsa", str(opportunity["id"]), "done")]
    planner = shown[shown[contacts[0]]["opportunities"][0]["planned_by"].removeprefix("apollo:")]
    assert [w["state"] for w in planner["writes"] if w["kind"] == "opportunity"] == ["done"]
    assert [ln["sink_id"] for ln in planner["links"] if ln["kind"] == "opportunity"] == [str(opportunity["id"])]
    summaries = [e["summary"] for e in planner["events"]]
    assert any("action=create" in s and "kind=opportunity" in s for s in summaries), summaries
    assert any("outcome=ok" in s and "kind=opportunity" in s and f"sink_id={opportunity['id']}" in s
               for s in summaries), summaries


async def test_a_dry_run_counts_the_opportunities_and_writes_none(tmp_path: Path, db_url: str,
                                                                  nursery: trio.Nursery) -> None:
    from halosync_apollo.fake import GeneratorSpec

    fakes = DemoFakes.create(0, seed=23, halo_rate=100_000)  # empty: the scheduled first pull finds nothing
    await fakes.serve(nursery)
    daemon, finished = await OpportunityRig(fakes, tmp_path, db_url).serving(nursery)
    assert daemon.engine is not None
    with trio.fail_after(30):
        async for _ in daemon.engine.sync("apollo"):
            pass
        fakes.apollo.generate(GeneratorSpec(count=60, seed=5, duplicate_share=0.2))
        events = [event async for event in daemon.engine.sync("apollo", dry_run=True)]
    daemon.request_stop()
    await finished.wait()
    counts = events[-1]["sources"][0]["plan"]["counts"]
    assert counts["opportunities"] == len(set(fakes.apollo.truth.values()))  # one per new person, none twice
    assert fakes.halo.count("POST", OPPORTUNITIES) == 0


async def test_integrity_verifies_the_opportunity_links(rig: OpportunityRig) -> None:
    assert await rig.run_once() == 0
    halo = rig.fakes.halo
    sink = HaloSink(HaloSettings(base_url=rig.fakes.halo_url, client_id="halosync", client_secret="fake-secret",
                                 **rig.halopsa))
    store = Store(rig.db_url)
    try:
        for sinks in ({}, {"halopsa": sink}):  # against the mirror, then asking HaloPSA
            report = await run_checks(store, sinks)
            assert report["ok"], report
        doomed = halo.records("opportunities")[0]["id"]
        del halo.tables["opportunities"].rows[doomed]  # deleted in HaloPSA by someone
        links = next(c for c in (await run_checks(store, {"halopsa": sink}))["checks"]
                     if c["name"] == "links_point_to_existing_records")
        problems = [d for d in links["details"] if "note" not in d]  # notes say what integrity spent asking
        assert [(d["kind"], d["sink_id"]) for d in problems] == [("opportunity", str(doomed))]
    finally:
        await sink.aclose()
        store.close()
