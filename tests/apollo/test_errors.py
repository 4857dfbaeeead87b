"""What a user sees when Apollo refuses or fails: one clear error with Apollo's words and what to do, retries
only where a retry can help, and never the API key."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import trio
from loguru import logger

from halosync.errors import AuthError, PermissionDenied, ProviderError, TransientProviderError
from halosync.provider.asgi import serve
from halosync_apollo.fake import FakeApollo, GeneratorSpec, KeyGrant
from halosync_apollo.settings import ApolloSettings
from halosync_apollo.source import ApolloSource
from tests.apollo.conftest import KEY, pull_all

MakeSource = Callable[..., ApolloSource]


async def test_a_wrong_key_is_an_auth_error_that_names_the_setting_and_not_the_key(
        make_source: MakeSource, fake: FakeApollo) -> None:
    source = make_source(api_key="wrong-key-abcdef")

    with pytest.raises(AuthError) as caught:
        await pull_all(source)

    message = str(caught.value)
    assert "HTTP 401" in message and "Invalid API key" in message and "plugins.apollo.api_key" in message
    assert "wrong-key-abcdef" not in message
    assert len(fake.requests()) == 1  # not retried


async def test_a_key_without_the_endpoint_in_its_scopes_is_permission_denied(
        nursery: trio.Nursery, make_source: MakeSource) -> None:
    fake = FakeApollo({KEY: KeyGrant(endpoints=frozenset({"auth/health"}))})
    source = make_source(base_url=await nursery.start(serve, fake))

    with pytest.raises(PermissionDenied, match="not authorized to access api/v1/contacts/search") as caught:
        await pull_all(source)
    assert "master API key" in str(caught.value) and caught.value.exit_code == 77


async def test_a_free_plan_is_permission_denied_with_the_plan_advice(
        nursery: trio.Nursery, make_source: MakeSource) -> None:
    fake = FakeApollo({KEY: KeyGrant(paid_plan=False)})
    source = make_source(base_url=await nursery.start(serve, fake))

    with pytest.raises(PermissionDenied, match=r"only available to Apollo users on paid plans\..*upgrade the plan"):
        await pull_all(source)


async def test_a_422_is_not_retried_and_says_what_to_check(make_source: MakeSource, fake: FakeApollo) -> None:
    fake.fail_next(1, 422, {"error": "Invalid parameters"})

    with pytest.raises(ProviderError, match="HTTP 422: Apollo refused the contacts/search request: Invalid parameters"):
        await pull_all(make_source())
    assert len(fake.requests()) == 1


async def test_5xx_answers_are_retried_and_the_pull_completes(
        autojump_clock: trio.testing.MockClock, make_source: MakeSource, fake: FakeApollo) -> None:
    fake.generate(GeneratorSpec(count=150, seed=4))
    fake.fail_next(2, 503)

    pulled = await pull_all(make_source())

    assert len(pulled.ids) == 150
    assert [r.status for r in fake.requests()] == [503, 503, 200, 200, 200]  # 2 pages, then today's (none)


async def test_persistent_5xx_ends_in_a_transient_error_after_the_bounded_retries(
        autojump_clock: trio.testing.MockClock, make_source: MakeSource, fake: FakeApollo) -> None:
    fake.fail_next(50, 500)

    with pytest.raises(TransientProviderError, match="HTTP 500: contacts/search: Apollo failed: An error occurred"):
        await pull_all(make_source(max_attempts=3))
    assert len(fake.requests()) == 3


async def test_a_hanging_request_times_out_and_is_retried(
        autojump_clock: trio.testing.MockClock, make_source: MakeSource, fake: FakeApollo) -> None:
    fake.generate(GeneratorSpec(count=30, seed=4))
    fake.fail_next(1, hang=True)
    source = make_source(timeout=5.0)
    started = trio.current_time()

    pulled = await pull_all(source)

    assert len(pulled.ids) == 30
    assert source.client.requests_sent == 3 and trio.current_time() - started >= 5.0  # hang, page, today's


async def test_an_unreachable_host_is_a_transient_error(
        autojump_clock: trio.testing.MockClock, make_source: MakeSource) -> None:
    with trio.socket.socket() as probe:  # a port nobody listens on
        await probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = make_source(base_url=f"http://127.0.0.1:{port}", max_attempts=2)

    with pytest.raises(TransientProviderError, match=r"cannot reach 127\.0\.0\.1"):
        await pull_all(source)


def test_plain_http_is_refused_except_for_loopback() -> None:
    with pytest.raises(ProviderError, match="must use https://"):
        ApolloSource(ApolloSettings(api_key=KEY, base_url="http://api.apollo.io"))


async def test_diagnose_checks_pass_with_a_good_key_and_fail_with_a_hint_otherwise(
        make_source: MakeSource, fake: FakeApollo) -> None:
    fake.generate(GeneratorSpec(count=12, seed=4))

    good = await make_source().checks()
    bad = await make_source(api_key="nope-nope-nope").checks()

    assert [(c.name, c.status) for c in good] == [("apollo.auth", "pass"), ("apollo.contacts", "pass")]
    assert "12 contacts" in good[1].message
    assert [(c.name, c.status) for c in bad] == [("apollo.auth", "fail")]
    assert "plugins.apollo.api_key" in bad[0].hint


async def test_the_api_key_never_reaches_a_log_line_even_when_apollo_echoes_it(
        autojump_clock: trio.testing.MockClock, make_source: MakeSource, fake: FakeApollo) -> None:
    fake.generate(GeneratorSpec(count=5, seed=4))
    fake.fail_next(2, 500, {"error": f"internal error for key {KEY}"})
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="DEBUG")
    try:
        pulled = await pull_all(make_source())
    finally:
        logger.remove(sink)

    assert len(pulled.ids) == 5
    assert any("internal error for key" in line for line in lines)
    assert not any(KEY in line for line in lines)
