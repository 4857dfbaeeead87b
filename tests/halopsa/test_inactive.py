"""Deactivated HaloPSA users and clients take part in matching: a lead for a person whose HaloPSA user was
deactivated links to that user (left inactive), instead of creating the contact again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from halosync.cli.commands.demo import DemoFakes
from halosync_halopsa.fake import FakeHalo
from tests.e2e.rig import Rig
from tests.halopsa.test_fake import token


@pytest.fixture
async def rig(tmp_path: Path, db_url: str, nursery: trio.Nursery) -> Rig:
    fakes = DemoFakes.create(20, seed=5, halo_rate=100_000, duplicate_share=0.0)
    await fakes.serve(nursery)  # served until the test ends
    return Rig(fakes, tmp_path, db_url)


def deactivated_contact(halo: FakeHalo, contact: dict[str, Any]) -> tuple[int, int]:
    """The contact's company and the contact themselves, as people once entered them in HaloPSA and then
    deactivated (the company left, the contact moved on): the client and user ids."""
    org = contact["organization"]
    client = halo.add_client(org["name"], website=f"https://{org['primary_domain']}", inactive=True)
    user = halo.add_user(client["id"], firstname=contact["first_name"], surname=contact["last_name"],
                         emailaddress=contact["email"], inactive=True)
    return client["id"], user["id"]


async def test_a_lead_for_a_deactivated_user_links_to_it_and_creates_nothing(rig: Rig) -> None:
    halo, apollo = rig.fakes.halo, rig.fakes.apollo
    contact_id, contact = next((cid, c) for cid, c in sorted(apollo.book.by_id.items())
                               if c.get("email") and c.get("organization"))
    client_id, user_id = deactivated_contact(halo, contact)

    assert await rig.run_once() == 0

    assert rig.links("person")[contact_id] == str(user_id)
    assert rig.links("company")[contact_id] == str(client_id)
    same_email = [u for u in halo.records("users") if u.get("emailaddress") == contact["email"]]
    assert [u["id"] for u in same_email] == [user_id], "the deactivated contact was created again"
    assert halo.tables["users"].rows[user_id]["inactive"] is True  # linked, not reactivated
    assert halo.tables["client"].rows[client_id]["inactive"] is True
    listings = [r for r in halo.log if r.method == "GET" and r.route in ("/api/users", "/api/client")]
    assert listings and all("includeinactive" in r.params for r in listings)


async def test_the_fake_hides_inactive_records_unless_asked(fake: FakeHalo, halo_url: str) -> None:
    client = fake.add_client("Gone Ltd", inactive=True)
    fake.add_user(client["id"], name="Ada Gone", inactive=True)
    async with httpx.AsyncClient(base_url=halo_url) as http:
        http.headers["Authorization"] = f"Bearer {(await token(http, halo_url)).json()['access_token']}"
        for route, key in (("/api/Client", "clients"), ("/api/Users", "users")):
            hidden = (await http.get(route, params={"pageinate": "true"})).json()
            shown = (await http.get(route, params={"pageinate": "true", "includeinactive": "true"})).json()
            assert (hidden[key], hidden["record_count"]) == ([], 0)
            assert len(shown[key]) == 1 and shown["record_count"] == 1
