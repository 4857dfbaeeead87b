"""OAuth2 client credentials against the fake: discovery, tenant, caching, refresh before expiry and on a 401."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from halosync.errors import AuthError
from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake
from halosync_halopsa.sink import HaloSink
from tests.halopsa.conftest import halo_settings
from tests.halopsa.leads import company_ops, sample_leads


async def test_one_token_serves_many_requests(sink: HaloSink, fake: FakeHalo) -> None:
    for op in company_ops(sample_leads(5, 1)):
        assert (await sink.write([op]))[0].ok
    assert fake.count("GET", "/api/authinfo") == 1 and fake.count("POST", "/auth/token") == 1


async def test_token_expiring_mid_run_is_replaced_before_it_runs_out(
    virtual_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    fake = FakeHalo(FakeSettings(token_lifetime=60))
    sink = HaloSink(halo_settings(await nursery.start(serve_fake, fake)))
    for op in company_ops(sample_leads(6, 1)):
        assert (await sink.write([op]))[0].ok
        await trio.sleep(30)  # three minutes of writing with one-minute tokens
    assert fake.count("POST", "/auth/token") >= 3
    assert fake.count(status=401) == 0  # refreshed ahead of expiry, never caught out
    await sink.aclose()


async def test_a_401_refreshes_the_token_once(sink: HaloSink, fake: FakeHalo) -> None:
    await sink.start()
    fake.expire_tokens()  # revoked early, as when an administrator rotates the application
    results = await sink.write(company_ops(sample_leads(2, 1)))
    assert all(r.ok for r in results)
    assert fake.count(status=401) == 1 and fake.count("POST", "/auth/token") == 2


async def test_hosted_instance_sends_its_tenant(fake: FakeHalo, halo_url: str) -> None:
    fake.settings.tenant = "acme"
    sink = HaloSink(halo_settings(halo_url, tenant="acme"))
    assert all(r.ok for r in await sink.write(company_ops(sample_leads(1, 1))))
    await sink.aclose()
    unnamed = HaloSink(halo_settings(halo_url, auth_url=f"{halo_url}/auth"))  # explicit auth_url, no tenant
    with pytest.raises(AuthError, match="tenant"):
        await unnamed.start()
    await unnamed.aclose()
    assert fake.count("GET", "/api/authinfo") == 1  # an explicit auth_url skips discovery


async def test_wrong_secret_says_what_to_check_and_never_shows_the_secret(halo_url: str) -> None:
    sink = HaloSink(halo_settings(halo_url, client_secret="s3cret-value-xyz"))
    with pytest.raises(AuthError) as caught:
        await sink.start()
    assert "invalid_client" in str(caught.value) and "client_secret" in str(caught.value)
    assert "s3cret-value-xyz" not in str(caught.value)
    await sink.aclose()


async def test_a_token_that_expires_while_a_request_waits_for_the_budget_is_replaced_first(
    virtual_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    fake = FakeHalo(FakeSettings(token_lifetime=60))
    # Three requests per 100 s: most requests wait longer than a token lives.
    sink = HaloSink(halo_settings(await nursery.start(serve_fake, fake), requests_per_window=3, window_seconds=100))
    for op in company_ops(sample_leads(4, 1)):
        assert (await sink.write([op]))[0].ok
    assert fake.count(status=401) == 0 and fake.count(status=429) == 0
    await sink.aclose()
