"""Batched writes: every op leaves with its HaloPSA id or HaloPSA's reason, whatever the POST answers."""

from __future__ import annotations

import dataclasses

import pytest
import trio
import trio.testing

from halosync.contracts import WriteOp
from halosync.errors import PluginError
from halosync.metrics import REGISTRY
from halosync.model import Person
from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake
from halosync_halopsa.sink import HaloSink
from tests.halopsa.conftest import halo_settings
from tests.halopsa.leads import company_ops, person_ops, sample_leads
from tests.waiting import until


async def write_leads(sink: HaloSink, companies: int, people: int) -> tuple[list[WriteOp], dict[str, str]]:
    """Companies first, then their people (as the engine does); answers the person ops and their sink ids."""
    leads = sample_leads(companies, people)
    cops = company_ops(leads)
    company_results = await sink.write(cops)
    assert all(r.ok for r in company_results), company_results
    ids = {op.key[2:]: str(r.sink_id) for op, r in zip(cops, company_results, strict=True)}
    pops = person_ops(leads, ids)
    results = await sink.write(pops)
    assert all(r.ok for r in results), results
    return pops, {op.key: str(r.sink_id) for op, r in zip(pops, results, strict=True)}


def assert_linked(fake: FakeHalo, ops: list[WriteOp], ids: dict[str, str]) -> None:
    users = {u["id"]: u for u in fake.records("users")}
    assert len(users) == len(ops)  # nothing created twice
    for op in ops:
        user = users[int(ids[op.key])]
        assert user["emailaddress"] == op.fields["email"]
        assert str(user["client_id"]) == op.parent_id
        assert user["site_id"] == fake.tables["client"].rows[int(str(op.parent_id))]["main_site_id"]


@pytest.mark.parametrize("answer", ["array", "first"])
async def test_both_post_answers_end_with_the_right_id_for_every_op(
    answer: str, fake: FakeHalo, sink: HaloSink
) -> None:
    fake.settings.post_answer = answer  # type: ignore[assignment]
    # A contact a person created earlier shares an e-mail with one of the new leads: it must not be taken for it.
    older = fake.add_client("Older Ltd")
    fake.add_user(older["id"], name="Ada0 Lovelace", emailaddress="ada0@acme00000.example")
    ops, ids = await write_leads(sink, 30, 4)
    by_id = {u["id"]: u for u in fake.records("users")}
    assert len(by_id) == 121
    for op in ops:
        user = by_id[int(ids[op.key])]
        assert user["emailaddress"] == op.fields["email"] and str(user["client_id"]) == op.parent_id
    reads = fake.count("GET", "/api/users") + fake.count("GET", "/api/client")
    posts = fake.count("POST", "/api/users") + fake.count("POST", "/api/client")
    assert posts == 3  # 30 clients in one batch, 120 users in two
    assert reads == (0 if answer == "array" else posts)  # one read-back per batch when only the first is answered


async def test_a_malformed_record_fails_with_halopsas_message_while_the_rest_lands(fake: FakeHalo,
                                                                                  sink: HaloSink) -> None:
    leads = sample_leads(1, 5)
    ids = {op.key[2:]: str(r.sink_id) for op, r in zip(company_ops(leads), await sink.write(company_ops(leads)),
                                                         strict=True)}
    ops = person_ops(leads, ids)
    bad = ops[2]
    assert bad.lead is not None
    person = Person(first_name="Ada2", email="ada2@@acme")
    ops[2] = dataclasses.replace(bad, fields={**bad.fields, "email": "ada2@@acme"},
                                 lead=dataclasses.replace(bad.lead, person=person))
    results = await sink.write(ops)
    assert [r.ok for r in results] == [True, True, False, True, True]
    assert results[2].error == "HaloPSA refused it: emailaddress: The emailaddress field is not a valid e-mail address."
    assert not results[2].retryable
    assert len(fake.records("users")) == 4 and fake.count("POST", "/api/users") == 2


@pytest.mark.parametrize("fault", ["500", "hang", "lost"])
async def test_5xx_and_timeouts_are_retried_without_creating_anything_twice(
    fault: str, virtual_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    fake = FakeHalo(FakeSettings(post_answer="first"))
    sink = HaloSink(halo_settings(await nursery.start(serve_fake, fake)))
    fake.inject(fault, method="POST", route="/api/users")  # type: ignore[arg-type]
    fake.inject("503", method="GET")  # the read-backs meet trouble too
    ops, ids = await write_leads(sink, 3, 5)
    assert_linked(fake, ops, ids)
    assert not fake.faults  # every injected fault was met
    # A lost answer is found by reading back, not by sending again; a refused or unanswered POST is sent again.
    assert fake.count("POST", "/api/users") == (1 if fault == "lost" else 2)
    await sink.aclose()


async def test_an_update_is_retried_through_5xx(fake: FakeHalo, sink: HaloSink) -> None:
    ops, ids = await write_leads(sink, 1, 1)
    fake.inject("500", method="POST", route="/api/users", times=2)
    update = WriteOp("u:1", "person", "update", {"title": "CEO"}, sink_id=ids[ops[0].key], parent_id=ops[0].parent_id,
                     lead=ops[0].lead)
    assert (await sink.write([update]))[0].sink_id == ids[ops[0].key]
    assert fake.records("users")[0]["title"] == "CEO"


async def test_after_a_crash_find_returns_what_was_written_cheaply(fake: FakeHalo, sink: HaloSink,
                                                                   halo_url: str) -> None:
    leads = sample_leads(40, 1)
    ops = company_ops(leads)
    await sink.write(ops[:25])  # the daemon died before it recorded these results
    fake.add_client("Someone else's client")
    restarted = HaloSink(halo_settings(halo_url))
    before = len(fake.log)
    found = await restarted.find(ops)
    assert [f is not None for f in found] == [True] * 25 + [False] * 15
    assert all(f.fields["name"] == op.fields["name"] for f, op in zip(found[:25], ops, strict=False) if f)
    # One page of the newest clients explains the batch; the 15 never written take one listing of all clients.
    assert len(fake.log) - before <= 2 + 1 + 1
    await restarted.aclose()


async def test_custom_fields_resolved_at_start_and_sent_whole_on_update(fake: FakeHalo, halo_url: str) -> None:
    apollo = fake.add_field("CFApolloId", usage=3)["id"]
    tier = fake.add_field("CFTier", usage=3)["id"]  # set by people in HaloPSA, not by halosync
    sink = HaloSink(halo_settings(halo_url, custom_fields={"user": {"CFApolloId": "{source_id}"}}))
    ops, ids = await write_leads(sink, 1, 1)
    user = fake.tables["users"].rows[int(ids[ops[0].key])]
    assert user["customfields"] == [{"id": apollo, "name": "CFApolloId", "value": "person-0"}]
    user["customfields"].append({"id": tier, "name": "CFTier", "value": "gold"})

    update = WriteOp("u:1", "person", "update", {"title": "CEO"}, sink_id=ids[ops[0].key], parent_id=ops[0].parent_id,
                     lead=ops[0].lead)
    assert (await sink.write([update]))[0].ok
    values = {v["name"]: v["value"] for v in fake.tables["users"].rows[int(ids[ops[0].key])]["customfields"]}
    assert values == {"CFApolloId": "person-0", "CFTier": "gold"}  # the whole array, theirs kept
    await sink.aclose()


async def test_a_person_without_company_needs_a_default_site(sink: HaloSink, fake: FakeHalo) -> None:
    lead = sample_leads(1, 1)[0]
    op = WriteOp("p:x", "person", "create", lead.person.values(), lead=lead)
    result = (await sink.write([op]))[0]
    assert result.error is not None and "default_site_id" in result.error
    assert fake.count("POST", "/api/users") == 0


async def test_opportunities_link_to_client_and_user(fake: FakeHalo, halo_url: str) -> None:
    sink = HaloSink(halo_settings(halo_url, create_opportunity=True, opportunity_tickettype_id=2))
    ops, ids = await write_leads(sink, 1, 2)
    opps = [WriteOp(f"o:{op.key}", "opportunity", "create", {}, parent_id=op.parent_id, person_id=ids[op.key],
                    lead=op.lead) for op in ops]
    results = await sink.write(opps)
    assert all(r.ok for r in results)
    stored = fake.records("opportunities")
    assert [(o["user_id"], o["oppemailaddress"]) for o in stored] == [
        (int(ids[op.key]), op.fields["email"]) for op in ops]
    assert stored[0]["summary"] == "Ada0 Lovelace - Acme 00000 Ltd" and stored[0]["tickettype_id"] == 2
    await sink.aclose()


async def test_a_person_without_company_or_email_lands_on_the_default_site(fake: FakeHalo, halo_url: str) -> None:
    fake.settings.post_answer = "first"
    general = fake.add_client("General")
    sink = HaloSink(halo_settings(halo_url, default_site_id=general["main_site_id"]))
    lead = sample_leads(1, 1)[0]
    people = [Person(first_name="Grace", last_name="Hopper"), Person(first_name="Alan", last_name="Turing")]
    ops = [WriteOp(f"p:{n}", "person", "create", p.values(), lead=dataclasses.replace(lead, person=p, company=None))
           for n, p in enumerate(people)]
    results = await sink.write(ops)
    users = {u["id"]: u for u in fake.records("users")}
    assert [users[int(str(r.sink_id))]["name"] for r in results] == ["Grace Hopper", "Alan Turing"]
    assert {u["client_id"] for u in users.values()} == {general["id"]} and len(users) == 2
    await sink.aclose()


async def test_fetch_answers_the_records_that_exist(fake: FakeHalo, sink: HaloSink) -> None:
    kept, gone = fake.add_client("Kept"), fake.add_client("Gone")
    del fake.tables["client"].rows[gone["id"]]
    found = await sink.fetch("company", [str(kept["id"]), str(gone["id"]), "not-an-id"])
    assert list(found) == [str(kept["id"])] and found[str(kept["id"])].fields["name"] == "Kept"


def test_plain_http_is_refused_for_anything_but_loopback() -> None:
    with pytest.raises(PluginError, match="must use https://"):
        HaloSink(halo_settings("http://acme.halopsa.com"))
    with pytest.raises(PluginError, match="auth_url"):
        HaloSink(halo_settings("https://acme.halopsa.com", auth_url="http://auth.example.com"))


async def test_an_update_that_changes_nothing_halopsa_holds_sends_nothing(fake: FakeHalo, sink: HaloSink) -> None:
    ops, ids = await write_leads(sink, 1, 1)
    posts = fake.count("POST")
    update = WriteOp("u:1", "person", "update", {"email_status": "verified"}, sink_id=ids[ops[0].key],
                     parent_id=ops[0].parent_id, lead=ops[0].lead)
    assert (await sink.write([update]))[0].sink_id == ids[ops[0].key]
    assert fake.count("POST") == posts


async def test_a_refusal_that_names_no_object_is_narrowed_down_to_the_culprit(fake: FakeHalo,
                                                                               sink: HaloSink) -> None:
    fake.settings.business_rule_refuses = "Acme 00005"
    ops = company_ops(sample_leads(8, 1))
    results = await sink.write(ops)
    assert [r.ok for r in results] == [True] * 5 + [False] + [True] * 2
    assert results[5].error == ("HaloPSA refused it: CODE:APP03/2 A record named like 'Acme 00005' cannot be "
                                "saved (business rule).")
    assert sorted(c["name"] for c in fake.records("client")) == [op.fields["name"] for op in ops if op != ops[5]]
    assert fake.count("POST", "/api/client") <= 1 + 2 * 3  # halving: a few requests, not one per object


async def test_every_request_is_counted_in_the_provider_metrics(sink: HaloSink) -> None:
    def sent(endpoint: str) -> float:
        value = REGISTRY.get_sample_value("halosync_provider_requests_total",
                                          {"provider": "halopsa", "endpoint": endpoint, "status_class": "2xx"})
        return value or 0.0

    before = sent("/api/Client"), sent("/api/Users")
    await write_leads(sink, 2, 2)
    assert (sent("/api/Client") - before[0], sent("/api/Users") - before[1]) == (1.0, 1.0)


async def test_concurrent_workers_with_first_object_answers_get_their_own_ids(fake: FakeHalo, sink: HaloSink) -> None:
    fake.settings.post_answer = "first"
    fake.settings.latency = 0.01  # so that the two workers' requests interleave
    leads = sample_leads(40, 5)
    cops = company_ops(leads)
    ids = {op.key[2:]: str(r.sink_id) for op, r in zip(cops, await sink.write(cops), strict=True)}
    pops = person_ops(leads, ids)
    results: dict[str, str] = {}

    async def worker(ops: list[WriteOp]) -> None:
        for start in range(0, len(ops), 50):
            batch = ops[start:start + 50]
            results.update({op.key: str(r.sink_id) for op, r in zip(batch, await sink.write(batch), strict=True)})

    async with trio.open_nursery() as nursery:
        nursery.start_soon(worker, pops[::2])
        nursery.start_soon(worker, pops[1::2])
    assert_linked(fake, pops, results)


async def test_constants_in_the_mapping_make_new_clients_prospects(fake: FakeHalo, halo_url: str) -> None:
    sink = HaloSink(halo_settings(halo_url, fields={"client": {"is_account": False, "customertype": 2,
                                                               "website": ""}}))
    ops = company_ops(sample_leads(1, 1))
    (result,) = await sink.write(ops)
    client = fake.tables["client"].rows[int(str(result.sink_id))]
    assert (client["is_account"], client["customertype"], "website" in client) == (False, 2, False)
    client["customertype"] = 1  # promoted to a customer in HaloPSA later
    update = WriteOp("u:1", "company", "update", {"name": "Acme Renamed"}, sink_id=result.sink_id, lead=ops[0].lead)
    assert (await sink.write([update]))[0].ok
    assert (client["name"], client["customertype"]) == ("Acme Renamed", 1)  # constants are for new records only
    await sink.aclose()


async def test_after_a_crash_people_are_found_per_company_not_one_search_each(fake: FakeHalo, sink: HaloSink,
                                                                              halo_url: str) -> None:
    leads = sample_leads(20, 5)
    cops = company_ops(leads)
    ids = {op.key[2:]: str(r.sink_id) for op, r in zip(cops, await sink.write(cops), strict=True)}
    pops = person_ops(leads, ids)
    await sink.write(pops[:30])  # written just before the crash; the other 70 never left
    for n in range(150):  # meanwhile people add contacts, pushing ours off the newest page
        fake.add_user(int(ids["org-0"]), name=f"Walk-in {n}", emailaddress=f"walkin{n}@acme00000.example")
    restarted = HaloSink(halo_settings(halo_url))
    before = len(fake.log)
    found = await restarted.find(pops)
    assert [f is not None for f in found] == [True] * 30 + [False] * 70
    assert all(f.fields["email"] == op.fields["email"] for f, op in zip(found, pops, strict=False) if f)
    # token, newest page, one listing per company (org-0's 155 users take two: HaloPSA pages hold 100 rows)
    assert len(fake.log) - before <= 2 + 1 + 20 + 1
    await restarted.aclose()


async def test_after_a_crash_find_does_not_hand_one_person_another_s_shared_mailbox(
    fake: FakeHalo, sink: HaloSink, halo_url: str
) -> None:
    # Two people at one client share info@: only the second one's create reached HaloPSA before the crash.
    lead = sample_leads(1, 1)[0]
    company = (await sink.write(company_ops([lead])))[0]
    people = [Person(first_name="Ron", last_name="Ader", email="info@acme.example"),
              Person(first_name="Rita", last_name="Cole", email="info@acme.example")]
    ops = [WriteOp(f"p:{n}", "person", "create", p.values(), parent_id=company.sink_id,
                   lead=dataclasses.replace(lead, person=p)) for n, p in enumerate(people)]
    written = (await sink.write(ops[1:]))[0]
    restarted = HaloSink(halo_settings(halo_url))
    found = await restarted.find(ops)
    assert found[0] is None  # Ron was never written: retrying his create must not reuse Rita's user
    assert found[1] is not None and found[1].sink_id == written.sink_id
    await restarted.aclose()


async def test_a_slow_answer_after_the_work_leaves_a_write_in_flight_that_the_stats_show(
    fake: FakeHalo, sink: HaloSink
) -> None:
    """The fault kill tests aim at: HaloPSA applied the POST and holds its answer back for a while."""
    fake.settings.slow_seconds = 0.5
    fake.inject("slow", method="POST", route="/api/client")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sink.write, company_ops(sample_leads(1, 1)))
        await until(lambda: fake.stats()["writes_in_flight"], lambda n: n == 1,  # the fake answers in 0.5 s
                    what="one write in flight at the fake", within=5, step=0.01)
        assert len(fake.records("client")) == 1  # done before the answer left
    assert fake.stats()["writes_in_flight"] == 0 and fake.stats()["writes_held"] == 1
    assert len(fake.records("client")) == 1


async def test_a_sink_id_stored_as_a_float_is_the_same_halopsa_record(fake: FakeHalo, sink: HaloSink) -> None:
    """Ids come back from JSON columns as 95.0; HaloPSA refuses those, so the sink asks for 95 and files the answer
    under the id it was given."""
    kept = fake.add_client("Kept")
    found = await sink.fetch("company", [f"{kept['id']}.0"])
    assert list(found) == [f"{kept['id']}.0"] and found[f"{kept['id']}.0"].fields["name"] == "Kept"
    assert fake.count("GET", status=400) == 0
