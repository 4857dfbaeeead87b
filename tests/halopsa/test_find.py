"""After a crash, ``find`` recognises the user a create made by every key HaloPSA can hold for it.

Each test writes one person, lets the world move on (people push the user off the newest page, rename it, move
its address, deactivate it), then asks a restarted sink what the create became, as the daemon does before
retrying a write in doubt. HaloPSA cannot filter on custom fields and its ``search`` does not reach email2/3.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from halosync.contracts import SinkRecord, WriteOp
from halosync.model import Person
from halosync_halopsa.fake import FakeHalo
from halosync_halopsa.sink import HaloSink
from tests.halopsa.conftest import halo_settings
from tests.halopsa.leads import company_ops, sample_leads

LINKEDIN_ONLY = Person(first_name="Ada", last_name="Lovelace", title="CTO",
                       linkedin_url="https://www.linkedin.com/in/ada-lovelace-1815")
IDENTIFYING = {"user": {"CFApolloId": "{source_id}", "CFLinkedIn": "{linkedin_url}", "CFSource": "apollo"}}


async def written(fake: FakeHalo, halo_url: str, person: Person, **settings: Any) -> tuple[WriteOp, int, HaloSink]:
    """``person``'s create as it reached HaloPSA just before the daemon died (its answer lost), and the sink of
    the restarted daemon. People add 150 users at the client afterwards: the newest page no longer holds it."""
    for name in ("CFApolloId", "CFLinkedIn", "CFSource"):
        fake.add_field(name, usage=3)
    first = HaloSink(halo_settings(halo_url, **settings))
    lead = sample_leads(1, 1)[0]
    company = (await first.write(company_ops([lead])))[0]
    op = WriteOp("p:1", "person", "create", person.values(), parent_id=company.sink_id,
                 lead=dataclasses.replace(lead, person=person))
    [result] = await first.write([op])
    await first.aclose()
    for n in range(150):
        fake.add_user(int(str(company.sink_id)), name=f"Walk-in {n}", emailaddress=f"walkin{n}@acme00000.example")
    return op, int(str(result.sink_id)), HaloSink(halo_settings(halo_url, **settings))


async def find_one(sink: HaloSink, op: WriteOp) -> SinkRecord | None:
    try:
        [found] = await sink.find([op])
        return found
    finally:
        await sink.aclose()


async def test_a_linkedin_only_user_renamed_by_people_is_found_by_its_linkedin_custom_field(
        fake: FakeHalo, halo_url: str) -> None:
    op, user_id, sink = await written(fake, halo_url, LINKEDIN_ONLY, custom_fields=IDENTIFYING)
    fake.tables["users"].rows[user_id].update(firstname="Augusta Ada", name="Augusta Ada Lovelace")
    fake.tables["users"].rows[user_id]["customfields"][0]["value"] = ""  # and cleared the Apollo id
    found = await find_one(sink, op)
    assert found is not None and found.sink_id == str(user_id)


async def test_the_apollo_id_custom_field_finds_the_user_alone(fake: FakeHalo, halo_url: str) -> None:
    op, user_id, sink = await written(fake, halo_url, dataclasses.replace(LINKEDIN_ONLY, linkedin_url=None),
                                      custom_fields={"user": {"CFApolloId": "{source_id}"}})
    fake.tables["users"].rows[user_id].update(firstname="Augusta Ada", name="Augusta Ada Lovelace")
    found = await find_one(sink, op)
    assert found is not None and found.sink_id == str(user_id)


async def test_without_email_or_custom_fields_the_name_at_the_client_finds_it(fake: FakeHalo, halo_url: str) -> None:
    op, user_id, sink = await written(fake, halo_url, LINKEDIN_ONLY)
    elsewhere = fake.add_client("Another Ltd")
    fake.add_user(elsewhere["id"], firstname="Ada", surname="Lovelace")  # a namesake, newer, at another client
    found = await find_one(sink, op)
    assert found is not None and found.sink_id == str(user_id)


async def test_a_deactivated_user_is_still_found(fake: FakeHalo, halo_url: str) -> None:
    op, user_id, sink = await written(fake, halo_url, LINKEDIN_ONLY, custom_fields=IDENTIFYING)
    fake.tables["users"].rows[user_id]["inactive"] = True
    found = await find_one(sink, op)
    assert found is not None and found.sink_id == str(user_id)


async def test_an_address_moved_to_email3_in_other_case_is_found(fake: FakeHalo, halo_url: str) -> None:
    person = dataclasses.replace(LINKEDIN_ONLY, email="ada@acme00000.example", linkedin_url=None)
    op, user_id, sink = await written(fake, halo_url, person)
    fake.tables["users"].rows[user_id].update(emailaddress="ada.new@acme00000.example",
                                              email3="ADA@Acme00000.example")
    assert not [u for u in fake.records("users") if "ada@" in str(u.get("emailaddress"))]
    found = await find_one(sink, op)
    assert found is not None and found.sink_id == str(user_id)


async def test_a_namesake_with_another_linkedin_profile_is_not_taken(fake: FakeHalo, halo_url: str) -> None:
    other = dataclasses.replace(LINKEDIN_ONLY, linkedin_url="https://www.linkedin.com/in/ada-lovelace-1990")
    op, _, sink = await written(fake, halo_url, other, custom_fields=IDENTIFYING)
    never_written = dataclasses.replace(op, key="p:2", fields=LINKEDIN_ONLY.values(),
                                        lead=dataclasses.replace(op.lead, source_id="person-2", person=LINKEDIN_ONLY)
                                        if op.lead else None)
    assert await find_one(sink, never_written) is None  # the same name at the same client is another person


async def test_finding_a_batch_costs_one_listing_per_client(fake: FakeHalo, halo_url: str) -> None:
    op, _, sink = await written(fake, halo_url, LINKEDIN_ONLY, custom_fields=IDENTIFYING)
    before = len(fake.log)
    ops = [dataclasses.replace(op, key=f"p:{n}") for n in range(10)]
    found = await sink.find(ops)
    await sink.aclose()
    assert sum(f is not None for f in found) == 1  # one user for ten ops of one body: only one was made
    # discovery, token, FieldInfo, the newest page, then the client's 151 users in two pages of 100
    assert len(fake.log) - before <= 6
