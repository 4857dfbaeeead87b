"""What halosync puts on the wire to HaloPSA: who it says it is, the query parameters it uses (all real ones),
ids as integers, and every shape a multi-item POST may answer."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from halosync import __version__
from halosync_halopsa.fake import FakeHalo
from halosync_halopsa.payloads import Unwritable, halo_id
from halosync_halopsa.sink import HaloSink
from tests.halopsa.conftest import halo_settings
from tests.halopsa.leads import company_ops, person_ops, sample_leads
from tests.halopsa.test_fake import token

# Query parameters of the collections halosync reads, as shared/providers/halopsa.md lists them.
DOCUMENTED = {"pageinate", "page_size", "page_no", "count", "order", "orderdesc", "search", "advanced_search",
              "includeinactive", "includeactive", "idonly", "include_custom_fields", "client_id", "site_id",
              "excludeagents", "search_oppemailaddress", "search_oppcompanyname", "open_only", "search_name_only",
              "includedetails", "tenant"}


async def test_every_request_says_it_is_halosync_and_its_version(fake: FakeHalo, sink: HaloSink) -> None:
    leads = sample_leads(3, 2)
    cops = company_ops(leads)
    ids = {op.key[2:]: str(r.sink_id) for op, r in zip(cops, await sink.write(cops), strict=True)}
    await sink.write(person_ops(leads, ids))
    agents = {(r.route, r.user_agent) for r in fake.log}
    assert {"/api/authinfo", "/auth/token", "/api/client", "/api/users"} <= {route for route, _ in agents}
    assert {agent for _, agent in agents} == {f"halosync/{__version__}"}
    assert __version__ != "0.0.0+unknown"  # read from the installed distribution, not made up


async def test_every_query_parameter_sent_is_one_halopsa_has(fake: FakeHalo, sink: HaloSink, halo_url: str) -> None:
    leads = sample_leads(12, 3)
    cops = company_ops(leads)
    ids = {op.key[2:]: str(r.sink_id) for op, r in zip(cops, await sink.write(cops), strict=True)}
    pops = person_ops(leads, ids)
    await sink.write(pops[:20])
    restarted = HaloSink(halo_settings(halo_url))  # after a crash: find what was written, by every route
    await restarted.find(pops + cops)
    for kind in ("company", "person"):
        [page async for page in restarted.list_records(kind)]
    await restarted.fetch("person", [str(u["id"]) for u in fake.records("users")[:3]])
    sent = {name for r in fake.log for name in r.params}
    assert {"pageinate", "page_size", "page_no", "includeinactive"} <= sent
    assert sent <= DOCUMENTED, f"not HaloPSA parameters: {sorted(sent - DOCUMENTED)}"
    await restarted.aclose()


@pytest.mark.parametrize(("given", "expected"), [(95, 95), (95.0, 95), ("95", 95), ("95.0", 95), (" 7 ", 7)])
def test_ids_from_json_columns_become_integers(given: object, expected: int) -> None:
    assert halo_id(given, "sink_id") == expected and type(halo_id(given, "sink_id")) is int


@pytest.mark.parametrize("given", [95.5, "95.5", "abc", "", 0, -3, True, None, "1e3"])
def test_what_is_not_an_id_is_refused_before_sending(given: object) -> None:
    with pytest.raises(Unwritable, match="is not a HaloPSA id"):
        halo_id(given, "sink_id")


async def test_an_update_whose_id_came_back_as_a_float_is_sent_as_an_integer(fake: FakeHalo, sink: HaloSink) -> None:
    client = fake.add_client("Acme")
    as_stored = f"{float(client['id'])}"  # "1.0": how a JSON column or a float-typed mirror row gives it back
    op = dataclasses.replace(company_ops(sample_leads(1, 1))[0], action="update", sink_id=as_stored,
                             fields={"website": "https://acme.example"})
    [result] = await sink.write([op])
    assert result.ok, result
    assert fake.tables["client"].rows[client["id"]]["website"] == "https://acme.example"


async def test_the_fake_refuses_a_float_id_as_halopsa_does(fake: FakeHalo, halo_url: str) -> None:
    client = fake.add_client("Acme")
    async with httpx.AsyncClient(base_url=halo_url) as http:
        http.headers["Authorization"] = f"Bearer {(await token(http, halo_url)).json()['access_token']}"
        in_body = await http.post("/api/Client", json=[{"id": float(client["id"]), "notes": "x"}])
        assert in_body.status_code == 400 and "[0].id" in in_body.json()
        in_path = await http.get(f"/api/Client/{client['id']}.0")
        assert in_path.status_code == 400 and "is not valid" in in_path.json()["id"]
        in_query = await http.get("/api/Users", params={"client_id": f"{client['id']}.0"})
        assert in_query.status_code == 400
    assert "notes" not in fake.tables["client"].rows[client["id"]]


@pytest.mark.parametrize("answer", ["array", "first", "shuffled", "empty"])
async def test_a_multi_item_post_of_any_answer_shape_leaves_every_op_with_its_record(
    fake: FakeHalo, halo_url: str, answer: str
) -> None:
    fake.settings.post_answer = answer  # type: ignore[assignment]
    sink = HaloSink(halo_settings(halo_url))
    leads = sample_leads(6, 3)
    cops = company_ops(leads)
    companies = await sink.write(cops)
    ids = {op.key[2:]: str(r.sink_id) for op, r in zip(cops, companies, strict=True)}
    people = await sink.write(person_ops(leads, ids))
    clients = {str(c["id"]): c for c in fake.records("client")}
    users = {str(u["id"]): u for u in fake.records("users")}
    assert all(r.ok for r in companies + people)
    assert [clients[str(r.sink_id)]["name"] for r in companies] == [op.fields["name"] for op in cops]
    assert [users[str(r.sink_id)]["emailaddress"] for r in people] == [
        op.fields["email"] for op in person_ops(leads, ids)]
    assert len(clients) == 6 and len(users) == 18  # nothing written twice
    await sink.aclose()


async def test_one_item_per_post_is_there_to_fall_back_to(fake: FakeHalo, halo_url: str) -> None:
    fake.settings.post_answer = "empty"
    sink = HaloSink(halo_settings(halo_url, batch_size=1))
    results = await sink.write(company_ops(sample_leads(4, 1)))
    assert all(r.ok for r in results) and {r.items for r in fake.log if r.method == "POST" and r.status == 201} == {1}
    await sink.aclose()
