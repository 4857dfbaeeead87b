"""The fake Apollo is as strict as the real API (documented in shared/providers/apollo.md): prefixes, auth bodies,
422s, the display limit, the contact shape, quota headers and 429s; plus its admin routes and standalone mode."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
import trio

from halosync_apollo.fake import FakeApollo, GeneratorSpec, Limits
from halosync_apollo.fake.shape import CONTACT_KEYS
from tests.apollo.conftest import KEY

AUTH = {"x-api-key": KEY}


@pytest.fixture
async def api(fake_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fake_url, timeout=10) as client:
        yield client


async def test_both_prefixes_serve_the_api(api: httpx.AsyncClient) -> None:
    for prefix in ("/api/v1", "/v1"):
        answer = await api.get(f"{prefix}/auth/health", headers=AUTH)
        assert answer.status_code == 200 and answer.json() == {"healthy": True, "is_logged_in": True}


async def test_auth_failures_answer_with_apollos_bodies(api: httpx.AsyncClient) -> None:
    missing = await api.get("/api/v1/auth/health")
    wrong = await api.post("/api/v1/contacts/search", headers={"x-api-key": "nope"}, json={})
    bearer = await api.get("/api/v1/auth/health", headers={"authorization": f"Bearer {KEY}"})

    for answer in (missing, wrong):
        assert answer.status_code == 401 and answer.headers["content-type"].startswith("text/plain")
        assert answer.text == ("Invalid API key. See https://docs.apollo.io/reference/authentication for how to "
                               "authenticate.")
    assert bearer.status_code == 401 and bearer.json() == {"error": "Invalid access credentials."}


@pytest.mark.parametrize(("body", "detail"), [
    ({"per_page": 101}, "per_page"),
    ({"per_page": 0}, "per_page"),
    ({"sort_ascending": True}, "sort_ascending"),
    ({"sort_by_field": "contact_score"}, "sort_by_field"),
    ({"contact_updated_at_range": {"min": "2024-13"}}, "contact_updated_at_range"),
    ({"updated_since": "2024-01-01"}, "unknown parameter"),
])
async def test_invalid_searches_are_422(api: httpx.AsyncClient, body: dict[str, object], detail: str) -> None:
    answer = await api.post("/api/v1/contacts/search", headers=AUTH, json=body)
    assert answer.status_code == 422
    assert answer.json()["error"] == "Invalid parameters" and detail in answer.json()["error_detail"]


async def test_past_the_display_limit_is_422_not_an_empty_page(api: httpx.AsyncClient) -> None:
    last = await api.post("/api/v1/contacts/search", headers=AUTH, json={"page": 500, "per_page": 100})
    beyond = await api.post("/api/v1/contacts/search", headers=AUTH, json={"page": 501, "per_page": 100})
    assert last.status_code == 200
    assert beyond.status_code == 422 and beyond.json() == {"error": "Page * per page number is over threshold."}


async def test_search_pages_sorts_filters_and_returns_the_documented_shape(
        api: httpx.AsyncClient, fake: FakeApollo) -> None:
    fake.generate(GeneratorSpec(count=250, seed=9, days=3, end=1_767_225_600.0))
    answer = await api.post("/v1/contacts/search", headers=AUTH, json={
        "sort_by_field": "contact_updated_at", "sort_ascending": True, "page": 2, "per_page": 100,
        "contact_updated_at_range": {"min": "2025-12-30"}})
    body = answer.json()

    expected_total = sum(1 for c in fake.book.by_id.values() if c["updated_at"][:10] >= "2025-12-30")
    assert body["pagination"] == {"page": 2, "per_page": 100, "total_entries": expected_total,
                                  "total_pages": -(-expected_total // 100)}
    stamps = [c["updated_at"] for c in body["contacts"]]
    assert stamps == sorted(stamps) and all(s >= "2025-12-30" for s in stamps)
    contact = body["contacts"][0]
    assert set(CONTACT_KEYS) <= set(contact)
    assert contact["updated_at"].endswith("Z") and len(contact["updated_at"]) == len("2025-12-30T10:00:00.000Z")
    assert {"id", "name", "website_url", "primary_domain"} <= set(contact["organization"])
    assert {"raw_number", "sanitized_number", "type", "position"} <= set(contact["phone_numbers"][0])


async def test_every_quota_header_in_both_daily_spellings_and_a_429_that_does_not_count(
        api: httpx.AsyncClient, fake: FakeApollo) -> None:
    fake.set_limits("auth/health", Limits(minute=2, hour=50, day=500))
    fake.retry_after = True
    first = await api.get("/api/v1/auth/health", headers=AUTH)
    await api.get("/api/v1/auth/health", headers=AUTH)
    refused = await api.get("/api/v1/auth/health", headers=AUTH)

    assert {k: first.headers[k] for k in (
        "x-rate-limit-minute", "x-minute-usage", "x-minute-requests-left", "x-rate-limit-hourly", "x-hourly-usage",
        "x-hourly-requests-left", "x-rate-limit-daily", "x-daily-usage", "x-daily-requests-left",
        "x-rate-limit-24-hour", "x-24-hour-usage", "x-24-hour-requests-left")} == {
        "x-rate-limit-minute": "2", "x-minute-usage": "1", "x-minute-requests-left": "1", "x-rate-limit-hourly": "50",
        "x-hourly-usage": "1", "x-hourly-requests-left": "49", "x-rate-limit-daily": "500", "x-daily-usage": "1",
        "x-daily-requests-left": "499", "x-rate-limit-24-hour": "500", "x-24-hour-usage": "1",
        "x-24-hour-requests-left": "499"}
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["message"].startswith(
        "The maximum number of api calls allowed for api/v1/auth/health is 2 times per minute.")
    assert refused.headers["x-daily-usage"] == "2"  # the refused request was not counted

    fake.quota.daily_spelling = "24-hour"
    fake.quota.reset()
    only_live = await api.get("/api/v1/auth/health", headers=AUTH)
    assert "x-rate-limit-24-hour" in only_live.headers and "x-rate-limit-daily" not in only_live.headers


async def test_admin_routes_change_contacts_inject_faults_and_report(api: httpx.AsyncClient, fake: FakeApollo) -> None:
    saved = await api.post("/__admin/contacts", json={"contacts": [{"id": "c1", "first_name": "Ada"}]})
    changed = await api.patch("/__admin/contacts/c1", json={"title": "CTO"})
    await api.post("/__admin/faults", json={"count": 1, "status": 502})
    failed = await api.post("/api/v1/contacts/search", headers=AUTH, json={})
    ok = await api.post("/api/v1/contacts/search", headers=AUTH, json={})
    stats = (await api.get("/__admin/stats")).json()

    assert saved.json() == {"saved": 1}
    assert changed.json()["title"] == "CTO" and changed.json()["name"] == "Ada"
    assert changed.json()["updated_at"] >= changed.json()["created_at"]
    assert failed.status_code == 502 and "Please try again" in failed.json()["error"]
    assert [c["id"] for c in ok.json()["contacts"]] == ["c1"]
    assert stats["contacts"] == 1 and stats["requests"]["contacts/search"] == {"502": 1, "200": 1}
    assert (await api.patch("/__admin/contacts/missing", json={})).status_code == 404


async def test_the_fake_runs_standalone_and_prints_its_url() -> None:
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "halosync_apollo.fake", "--port", "0", "--contacts", "40", "--seed", "3",
         "--unthrottled"], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        printed = b""
        with trio.fail_after(30):
            while not printed.endswith(b"\n"):
                printed += await process.stdout.receive_some()
        url = printed.decode().strip()
        assert url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            answer = await client.post("/api/v1/contacts/search", headers={"x-api-key": "test-key"},
                                       json={"per_page": 100})
            truth = (await client.get("/__admin/truth")).json()
        assert answer.json()["pagination"]["total_entries"] == 40 and len(truth) == 40
    finally:
        process.terminate()
        await process.wait()
        if process.stdout is not None:
            await process.stdout.aclose()


async def test_people_match_wants_a_webhook_for_phones_and_unknown_results_are_404(api: httpx.AsyncClient) -> None:
    no_hook = await api.post("/api/v1/people/match", headers=AUTH, json={"email": "x@y.z", "reveal_phone_number": True})
    nobody = await api.post("/api/v1/people/match", headers=AUTH, json={"email": "x@y.z"})
    unknown = await api.get("/api/v1/webhook_result/nope", headers=AUTH)

    assert no_hook.status_code == 400 and "webhook_url" in no_hook.json()["error"]
    assert nobody.json() == {"person": None}
    assert unknown.status_code == 404 and unknown.json() == {"error": "Record not found."}
