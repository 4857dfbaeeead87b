"""Issue 16: HaloSink.forget against the fake HaloPSA: delete a user, fall back to deactivating and blanking it when
HaloPSA refuses, say when it is gone already, and anonymise an opportunity."""

from __future__ import annotations

import pytest

from halosync.errors import ProviderError
from halosync_halopsa.fake import FakeHalo
from halosync_halopsa.sink import HaloSink
from tests.halopsa.conftest import halo_settings


async def test_a_user_without_tickets_is_deleted_then_missing(sink: HaloSink, fake: FakeHalo) -> None:
    client = fake.add_client("Acme")
    user = fake.add_user(client["id"], firstname="Ada", surname="Lovelace", emailaddress="ada@acme.example")
    done = await sink.forget("person", str(user["id"]))
    assert done.outcome == "deleted" and user["id"] not in fake.tables["users"].rows
    assert (await sink.forget("person", str(user["id"]))).outcome == "missing"


async def test_a_refused_delete_deactivates_and_blanks_the_user(sink: HaloSink, fake: FakeHalo) -> None:
    client = fake.add_client("Acme")
    user = fake.add_user(client["id"], firstname="Ada", surname="Lovelace", emailaddress="ada@acme.example",
                         phonenumber="+441234567890", notes="met at a fair")
    opportunity = fake.tables["opportunities"].insert({"summary": "lead", "user_id": user["id"],
                                                       "oppcontactname": "Ada Lovelace",
                                                       "oppemailaddress": "ada@acme.example"})
    assert (await sink.forget("opportunity", str(opportunity["id"]))).outcome == "anonymised"
    kept_opportunity = fake.tables["opportunities"].rows[opportunity["id"]]
    assert kept_opportunity["oppcontactname"] == "" and kept_opportunity["oppemailaddress"] == ""
    done = await sink.forget("person", str(user["id"]))
    assert done.outcome == "deactivated" and "cannot be deleted" in done.detail
    kept = fake.tables["users"].rows[user["id"]]
    assert kept["inactive"] is True
    assert not any(kept.get(k) for k in ("firstname", "surname", "emailaddress", "phonenumber", "notes"))
    assert "Lovelace" not in repr(kept)


async def test_a_deactivated_user_loses_its_custom_fields_too(fake: FakeHalo, halo_url: str) -> None:
    """halosync writes identity custom fields (here the LinkedIn URL): a refused delete blanks them as well."""
    field = fake.add_field("CFLinkedIn", usage=3)
    sink = HaloSink(halo_settings(halo_url, custom_fields={"user": {"CFLinkedIn": "{linkedin_url}"}}))
    try:
        client = fake.add_client("Acme")
        user = fake.add_user(client["id"], firstname="Ada", surname="Lovelace",
                             customfields=[{"id": field["id"], "value": "https://linkedin.com/in/ada-lovelace"}])
        fake.tables["opportunities"].insert({"summary": "lead", "user_id": user["id"]})  # so the delete is refused
        done = await sink.forget("person", str(user["id"]))
        assert done.outcome == "deactivated" and "custom fields blanked" in done.detail
        kept = fake.tables["users"].rows[user["id"]]
        assert "ada-lovelace" not in repr(kept) and "Lovelace" not in repr(kept)
    finally:
        await sink.aclose()


async def test_a_company_is_not_a_person(sink: HaloSink) -> None:
    with pytest.raises(ProviderError, match="people and their opportunities"):
        await sink.forget("company", "1")
