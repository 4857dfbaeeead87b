"""The fake HaloPSA behaves as the real API is documented to (shared/providers/halopsa.md)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from halosync_halopsa.fake import FakeHalo


async def token(http: httpx.AsyncClient, url: str, secret: str = "fake-secret", **query: str) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": "halosync", "client_secret": secret, "scope": "all"}
    return await http.post(f"{url}/auth/token", data=form, params=query)


@pytest.fixture
async def api(halo_url: str) -> Any:
    async with httpx.AsyncClient(base_url=halo_url) as http:
        answer = (await token(http, halo_url)).json()
        http.headers["Authorization"] = f"Bearer {answer['access_token']}"
        yield http


async def test_discovery_and_client_credentials(halo_url: str, fake: FakeHalo) -> None:
    async with httpx.AsyncClient() as http:
        info = (await http.get(f"{halo_url}/api/authinfo")).json()
        assert info["auth_url"] == f"{halo_url}/auth"
        good = await token(http, halo_url)
        assert good.status_code == 200
        assert good.json()["token_type"] == "Bearer" and good.json()["expires_in"] == 3600
        bad = await token(http, halo_url, secret="wrong")
        assert (bad.status_code, bad.json()) == (401, {"error": "invalid_client"})
        assert (await http.get(f"{halo_url}/api/Client")).status_code == 401  # no Bearer token

        fake.settings.tenant = "acme"
        assert (await token(http, halo_url)).status_code == 400
        assert (await token(http, halo_url, tenant="acme")).status_code == 200


async def test_paths_are_case_insensitive_and_lists_answer_envelopes(api: httpx.AsyncClient, fake: FakeHalo) -> None:
    for n in range(5):
        fake.add_client(f"Client {n}")
    page = (await api.get("/API/client", params={"pageinate": "true", "page_size": 2, "page_no": 3})).json()
    assert page["page_no"] == 3 and page["page_size"] == 2 and page["record_count"] == 5
    assert [c["name"] for c in page["clients"]] == ["Client 4"]
    found = (await api.get("/api/Client", params={"search": "client 3"})).json()
    assert [c["name"] for c in found["clients"]] == ["Client 3"]
    assert isinstance((await api.get("/api/TicketType")).json(), list)  # lookups are plain arrays


async def test_post_creates_and_updates_and_creating_a_client_makes_its_main_site(api: httpx.AsyncClient,
                                                                                   fake: FakeHalo) -> None:
    created = await api.post("/api/Client", json=[{"name": "Acme"}])
    assert created.status_code == 201
    client = created.json()
    assert client["main_site_id"] in {s["id"] for s in fake.records("site")}
    user = (await api.post("/api/Users", json=[{"name": "Ada", "site_id": client["main_site_id"]}])).json()
    assert user["client_id"] == client["id"]
    updated = (await api.post("/api/Users", json=[{"id": user["id"], "title": "CTO"}])).json()
    assert (updated["name"], updated["title"]) == ("Ada", "CTO")  # a partial update keeps the rest


async def test_one_invalid_object_refuses_the_whole_request_with_index_keyed_errors(api: httpx.AsyncClient,
                                                                                    fake: FakeHalo) -> None:
    site = fake.add_client("Acme")["main_site_id"]
    body = [{"name": "A", "site_id": site}, {"name": "B", "site_id": site, "emailaddress": "not-an-email"},
            {"name": "C"}]
    answer = await api.post("/api/Users", json=body)
    assert answer.status_code == 400
    assert answer.json() == {"[1].emailaddress": "The emailaddress field is not a valid e-mail address.",
                             "[2].site_id": "The site_id field is required."}
    assert fake.records("users") == []
    assert (await api.post("/api/Users", json={"name": "not an array"})).status_code == 400


async def test_multi_item_post_answers_every_object_or_only_the_first(api: httpx.AsyncClient, fake: FakeHalo) -> None:
    both = (await api.post("/api/Client", json=[{"name": "A"}, {"name": "B"}])).json()
    assert [c["name"] for c in both] == ["A", "B"]
    fake.settings.post_answer = "first"
    first = (await api.post("/api/Client", json=[{"name": "C"}, {"name": "D"}])).json()
    assert first["name"] == "C" and len(fake.records("client")) == 4


async def test_custom_fields_are_replaced_whole_on_update(api: httpx.AsyncClient, fake: FakeHalo) -> None:
    apollo, tier = fake.add_field("CFApolloId", usage=2)["id"], fake.add_field("CFTier", usage=2)["id"]
    client = (await api.post("/api/Client", json=[{"name": "A", "customfields": [
        {"id": apollo, "value": "org-1"}, {"id": tier, "value": "gold"}]}])).json()
    await api.post("/api/Client", json=[{"id": client["id"], "customfields": [{"id": apollo, "value": "org-2"}]}])
    stored = (await api.get(f"/api/Client/{client['id']}")).json()
    assert stored["customfields"] == [{"id": apollo, "name": "CFApolloId", "value": "org-2"}]


async def test_rate_limit_answers_429_without_retry_after(api: httpx.AsyncClient, fake: FakeHalo) -> None:
    fake.settings.rate_limit = 3  # the token request counted already
    statuses = [(await api.get("/api/Client")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = await api.get("/api/Client")
    assert refused.text == "Rate Limit Reached - 3 Requests per rolling 5 minute window"
    assert "retry-after" not in refused.headers and not any(h.startswith("x-rate") for h in refused.headers)


async def test_delete_and_request_log(api: httpx.AsyncClient, fake: FakeHalo) -> None:
    client = fake.add_client("Gone")
    assert (await api.delete(f"/api/Client/{client['id']}")).status_code == 200
    assert (await api.get(f"/api/Client/{client['id']}")).status_code == 404
    assert fake.count("DELETE", "/api/client/{id}") == 1 and fake.count("GET", "/api/client/{id}", 404) == 1
