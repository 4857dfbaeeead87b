"""The fake Lusha answers like Lusha (auth, paging bounds, error shapes, the nine rate headers, 429 without
Retry-After), and the source turns each refusal into an error that says what to fix, without the key."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import trio

from halosync.plugin import AuthError, PermissionDenied, ProviderError
from halosync_lusha.fake import FakeLusha
from halosync_lusha.plans import PLAN_LIMITS, PlanLimits
from halosync_lusha.settings import LushaSettings
from halosync_lusha.source import LushaSource
from tests.lusha.conftest import KEY, LIST, pull_all

NINE = {"x-rate-limit-minute", "x-rate-limit-hourly", "x-rate-limit-daily", "x-minute-usage", "x-hourly-usage",
        "x-daily-usage", "x-minute-requests-left", "x-hourly-requests-left", "x-daily-requests-left"}


async def test_the_fake_pages_counts_and_refuses_like_lusha(fake: FakeLusha, fake_url: str) -> None:
    fake.add_key("pro-key", "pro")
    fake.create_list(LIST, 7)
    path = f"/v3/contacts/tables/{LIST}/entities"
    async with httpx.AsyncClient(base_url=fake_url) as client:
        ok = await client.get(path, params={"page": 1, "size": 5}, headers={"api_key": "pro-key"})
        assert ok.status_code == 200
        assert (len(ok.json()["data"]), ok.json()["total"]) == (2, 7)
        assert set(ok.headers) >= NINE and ok.headers["x-minute-requests-left"] == "49"
        no_key = await client.get(path)
        assert no_key.status_code == 401 and no_key.json()["error"]["code"] == 401
        too_big = await client.get(path, params={"size": 101}, headers={"api_key": KEY})
        assert too_big.status_code == 400 and "between 1 and 100" in too_big.json()["error"]["message"]
        missing = await client.get("/v3/contacts/tables/nope/entities", headers={"api_key": KEY})
        assert missing.status_code == 404
        fake.add_key("tiny", PlanLimits(1, None, None))
        assert (await client.get(path, headers={"api_key": "tiny"})).status_code == 200
        refused = await client.get(path, headers={"api_key": "tiny"})
        assert refused.status_code == 429 and "retry-after" not in refused.headers
        assert refused.headers["x-minute-requests-left"] == "0"


async def test_a_wrong_key_is_an_auth_error_naming_the_setting_not_the_key(
        fake: FakeLusha, make_source: Callable[..., LushaSource]) -> None:
    fake.create_list(LIST, 3)
    with pytest.raises(AuthError) as info:
        await pull_all(make_source(api_key="wrong-key-5f3a9c"))
    assert "plugins.lusha.api_key" in str(info.value) and "wrong-key-5f3a9c" not in str(info.value)


async def test_an_unknown_list_names_list_ids(fake: FakeLusha, make_source: Callable[..., LushaSource]) -> None:
    with pytest.raises(ProviderError, match=r"plugins\.lusha\.list_ids"):
        await pull_all(make_source(list_ids=("no-such-list",)))


async def test_a_plan_without_api_access_is_permission_denied(fake: FakeLusha,
                                                              make_source: Callable[..., LushaSource]) -> None:
    fake.create_list(LIST, 3)
    fake.fail_next(403, {"error": {"code": 403, "message": "Your plan does not include API access"}})
    with pytest.raises(PermissionDenied, match="Premium and Scale"):
        await pull_all(make_source())


async def test_5xx_are_retried_and_the_poll_completes(fake: FakeLusha, make_source: Callable[..., LushaSource]) -> None:
    members = fake.create_list(LIST, 3)
    fake.fail_next(503, times=2)
    source = make_source()
    assert sorted((await pull_all(source)).ids) == sorted(members)
    assert source.client.pauses == [0.01, 0.02]


async def test_checks_pass_per_list_and_fail_with_a_hint(fake: FakeLusha,
                                                         make_source: Callable[..., LushaSource]) -> None:
    fake.create_list(LIST, 4)
    [ok, bad] = await make_source(list_ids=(LIST, "gone")).checks()
    assert (ok.status, ok.name) == ("pass", f"lusha.list.{LIST}") and "4 members" in ok.message
    assert bad.status == "fail" and "list_ids" in bad.hint


async def test_python_m_halosync_lusha_fake_serves_a_list_the_source_reads(tmp_path: Path) -> None:
    """The command line of the fake (the toolkit's fake_arguments and serve_until_interrupted): it prints the base
    URL, then serves the key and list it was given until it is stopped."""
    command = [sys.executable, "-m", "halosync_lusha.fake", "--members", "12", "--list", "Q7", "--api-key", KEY,
               "--plan", "premium"]
    process = await trio.lowlevel.open_process(command, stdout=subprocess.PIPE)
    assert process.stdout is not None
    try:
        line = b""
        with trio.fail_after(30):
            while b"\n" not in line:
                line += await process.stdout.receive_some()
        settings = LushaSettings(api_key=KEY, list_ids=("Q7",), base_url=line.decode().strip(), timeout=10.0)
        source = LushaSource(settings, tmp_path)
        try:
            pulled = await pull_all(source)
        finally:
            await source.aclose()
        assert len(pulled.leads) == 12 and source.rate_limits()[0].limit == PLAN_LIMITS["premium"].of("minute")
    finally:
        process.terminate()
        await process.wait()
        await process.stdout.aclose()
