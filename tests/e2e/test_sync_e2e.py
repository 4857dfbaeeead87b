"""End to end: the real engine, the Apollo source and the HaloPSA sink, against both fakes over real sockets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from halosync.cli.commands.demo import DemoFakes
from halosync.store.models import DeadLetter, LineageEvent, Outbox, StagedLead
from tests.e2e.rig import Rig, company_domains


def api_writes(rig: Rig) -> int:
    """POSTs to HaloPSA's API (creates and updates; the token endpoint is not one)."""
    return sum(1 for r in rig.fakes.halo.log if r.method == "POST" and r.route.startswith("/api/"))


@pytest.fixture
async def rig(tmp_path: Path, db_url: str) -> AsyncIterator[Rig]:
    fakes = DemoFakes.create(300, seed=11, halo_rate=100_000, duplicate_share=0.15)
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        yield Rig(fakes, tmp_path, db_url)
        nursery.cancel_scope.cancel()


async def test_duplicates_become_one_record_and_hard_negatives_stay_apart(rig: Rig) -> None:
    assert await rig.run_once() == 0
    halo, apollo = rig.fakes.halo, rig.fakes.apollo
    people = rig.people_to_users()
    real_people = set(apollo.truth.values())
    # every real person is exactly one HaloPSA user, and no user is shared by two real people
    assert set(people) == real_people
    assert all(len(users) == 1 for users in people.values()), {p: u for p, u in people.items() if len(u) > 1}
    owners: dict[str, set[str]] = defaultdict(set)
    for person, users in people.items():
        owners[next(iter(users))].add(person)
    assert all(len(o) == 1 for o in owners.values()), {u: o for u, o in owners.items() if len(o) > 1}
    assert len(halo.records("users")) == len(real_people)
    # one client per company (by its domain), whatever suffix variant the contacts carried
    domains = company_domains(apollo.book.by_id)
    clients = rig.links("company")
    by_domain: dict[str, set[str]] = defaultdict(set)
    for cid, domain in domains.items():
        by_domain[domain].add(clients[cid])
    assert all(len(ids) == 1 for ids in by_domain.values())
    assert len(halo.records("client")) == len(by_domain)
    # users sit at their company's client
    user_by_id = {str(u["id"]): u for u in halo.records("users")}
    links = rig.links("person")
    for cid, domain in domains.items():
        assert str(user_by_id[links[cid]]["client_id"]) == next(iter(by_domain[domain]))


async def test_second_run_writes_nothing(rig: Rig) -> None:
    assert await rig.run_once() == 0
    halo = rig.fakes.halo
    posts = api_writes(rig)
    users = len(halo.records("users"))
    assert await rig.run_once() == 0
    assert api_writes(rig) == posts
    assert len(halo.records("users")) == users
    staged = rig.query(lambda: StagedLead.select().where(StagedLead.revision > 1).count())
    assert staged == 0


async def test_changed_contact_updates_only_changed_fields(rig: Rig) -> None:
    rig.match = {"conflict": {"default": "fill_empty", "person.title": "source_wins"}}
    assert await rig.run_once() == 0
    halo, apollo = rig.fakes.halo, rig.fakes.apollo
    contact_id = next(cid for cid, c in apollo.book.by_id.items() if c.get("email"))
    user_id = rig.links("person")[contact_id]
    before = dict(halo.tables["users"].rows[int(user_id)])
    apollo.update_contact(contact_id, title="Chief Llama Officer", city="Elsewhere")
    assert await rig.run_once() == 0
    after = halo.tables["users"].rows[int(user_id)]
    assert after["title"] == "Chief Llama Officer"
    assert {k: v for k, v in after.items() if k != "title"} == {k: v for k, v in before.items() if k != "title"}
    updates = rig.query(lambda: [(o.kind, o.payload["fields"]) for o in Outbox.select().where(
        Outbox.action == "update")])
    assert updates == [("person", {"title": "Chief Llama Officer"})]  # city is not a HaloPSA user field we hold


async def test_fill_empty_never_overwrites(rig: Rig) -> None:
    assert await rig.run_once() == 0
    halo, apollo = rig.fakes.halo, rig.fakes.apollo
    contact_id = next(cid for cid, c in apollo.book.by_id.items() if c.get("title"))
    posts = api_writes(rig)
    apollo.update_contact(contact_id, title="Something Else")
    assert await rig.run_once() == 0
    assert api_writes(rig) == posts
    assert halo.tables["users"].rows[int(rig.links("person")[contact_id])]["title"] != "Something Else"


async def test_dry_run_plans_and_writes_nothing(tmp_path: Path, db_url: str) -> None:
    from halosync_apollo.fake import GeneratorSpec

    fakes = DemoFakes.create(0, seed=11, halo_rate=100_000)
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        rig = Rig(fakes, tmp_path, db_url)
        daemon, finished = await rig.serving(nursery)
        assert daemon.engine is not None
        with trio.fail_after(30):
            async for _ in daemon.engine.sync("apollo"):  # waits for the scheduled first pull (it finds nothing)
                pass
            fakes.apollo.generate(GeneratorSpec(count=200, seed=5, duplicate_share=0.15))
            events = [event async for event in daemon.engine.sync("apollo", dry_run=True)]
        daemon.request_stop()
        await finished.wait()
        nursery.cancel_scope.cancel()
    done = events[-1]
    assert done["type"] == "done" and done["dry_run"] is True
    plan = done["sources"][0]["plan"]
    real_people = len(set(fakes.apollo.truth.values()))
    companies = len(set(company_domains(fakes.apollo.book.by_id).values()))
    assert plan["counts"]["creates"] == real_people + companies
    assert plan["counts"]["merges"] > 0
    person_creates = [c for c in plan["creates"] if c["kind"] == "person"]
    assert person_creates and all(c["fields"] for c in person_creates)
    assert any(e["type"] == "progress" for e in events)
    assert api_writes(rig) == 0
    counts = rig.query(lambda: (StagedLead.select().count(), Outbox.select().count(), LineageEvent.select().count()))
    assert counts == (0, 0, 0)


async def test_malformed_leads_become_dead_letters_and_the_rest_flows(rig: Rig) -> None:
    apollo = rig.fakes.apollo
    apollo.add_contacts([
        {"id": "nobody0000000000000000001", "title": "CEO"},  # nothing identifies a person
        {"id": "bademail00000000000000001", "first_name": "Bad", "last_name": "Email", "email": "bad@@example",
         "organization_name": "Nowhere Ltd", "account": {"domain": "nowhere.example"}},
    ])
    assert await rig.run_once() == 1  # some leads failed for good
    dead = rig.query(lambda: {d.source_id: d.stage for d in DeadLetter.select()})
    assert dead.get("nobody0000000000000000001") == "match"
    assert "bademail00000000000000001" in dead
    assert len(rig.fakes.halo.records("users")) == len(set(apollo.truth.values()))
