"""Apollo's fixed-window quotas: the source never exhausts a window, waits for resets, honours Retry-After, and
reports every window. Fake and source share trio's virtual clock (autojump), so minutes pass instantly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

import pytest
import trio

from halosync import metrics
from halosync.alerts.conditions import rate_limit_exhaustion
from halosync.alerts.readings import History, Snapshot
from halosync.config.alert_rules import load_rules
from halosync.contracts import RateWindow
from halosync.errors import RateLimited
from halosync.provider.asgi import serve
from halosync.provider.quota import HeaderQuota, parse_retry_after
from halosync_apollo.client import APOLLO_WINDOWS
from halosync_apollo.fake import UNLIMITED, FakeApollo, GeneratorSpec, Limits
from halosync_apollo.source import ApolloSource
from tests.apollo.conftest import EPOCH, KEY, pull_all


def virtual_epoch() -> float:
    return EPOCH + trio.current_time()


@pytest.fixture
def start(nursery: trio.Nursery, make_source: Callable[..., ApolloSource]) -> Callable[..., Awaitable[ApolloSource]]:
    """Serve ``fake`` and point a source at it, both on the virtual clock."""

    async def start(fake: FakeApollo, **settings: object) -> ApolloSource:
        url: str = await nursery.start(serve, fake)
        return make_source(base_url=url, clock=virtual_epoch, **settings)

    return start


Start = Callable[..., Awaitable[ApolloSource]]


async def test_a_minute_quota_of_20_is_never_exceeded_and_the_pull_still_finishes(
        autojump_clock: trio.testing.MockClock, start: Start) -> None:
    fake = FakeApollo([KEY], clock=virtual_epoch, default_limits=UNLIMITED,
                      limits={"contacts/search": Limits(minute=20, hour=None, day=None)})
    fake.generate(GeneratorSpec(count=4_500, seed=2))
    source = await start(fake)
    started = trio.current_time()

    pulled = await pull_all(source)

    assert len(set(pulled.ids)) == 4_500
    searches = fake.requests("contacts/search")
    assert [r.status for r in searches if r.status != 200] == []  # not one 429
    per_minute = Counter(int(r.at // 60) for r in searches)
    assert max(per_minute.values()) <= 20
    # 45 requests cannot fit in fewer than three minute windows: the pull waited for two resets.
    assert len(searches) >= 45 and len(per_minute) >= 3 and trio.current_time() - started > 60


async def test_a_first_pull_of_a_few_pages_forecasts_no_exhaustion_then_or_later(
        autojump_clock: trio.testing.MockClock, start: Start) -> None:
    """Issue 15's false alert, against the fake over a socket, on trio's virtual clock: a first start spends a few
    of Apollo's 600 an hour in a second; no window is forecast to run out, not then and not in the minutes after."""
    fake = FakeApollo([KEY], clock=virtual_epoch, limits={"contacts/search": Limits(minute=200, hour=600, day=6000)},
                      latency=0.3)  # the pace of a real API: a burst of requests over a second or so
    fake.generate(GeneratorSpec(count=250, seed=2))
    source = await start(fake)
    await pull_all(source)
    spent = {w.window: w.used for w in source.rate_limits()}
    assert 0 < (spent["hour"] or 0) < 10
    for _ in range(20):  # twenty minutes of an idle daemon, asked every minute as the alert rules ask
        now = virtual_epoch()
        windows = source.rate_limits()
        assert all(w.exhausted_at is None for w in windows), windows
        history = History(keep=3600)
        history.add(Snapshot(at=now, rate_windows=windows))
        assert rate_limit_exhaustion(EXHAUSTION, history) == []
        await trio.sleep(60)


async def test_retry_after_is_honoured_when_another_client_used_the_window(
        autojump_clock: trio.testing.MockClock, start: Start) -> None:
    fake = FakeApollo([KEY], clock=virtual_epoch, retry_after=True,
                      limits={"contacts/search": Limits(minute=10, hour=None, day=None)})
    fake.generate(GeneratorSpec(count=50, seed=2))
    for _ in range(10):  # someone else spent this minute's budget with the same key
        fake.quota.take("contacts/search")
    source = await start(fake)

    pulled = await pull_all(source)

    assert len(pulled.ids) == 50
    refused, accepted = fake.requests("contacts/search")[0], fake.requests("contacts/search")[1]
    assert refused.status == 429 and accepted.status == 200
    assert accepted.at - refused.at >= 1 and int(accepted.at // 60) == int(refused.at // 60) + 1


async def test_a_429_without_retry_after_or_headers_backs_off_and_retries(
        autojump_clock: trio.testing.MockClock, start: Start) -> None:
    fake = FakeApollo([KEY], clock=virtual_epoch, default_limits=UNLIMITED)
    fake.generate(GeneratorSpec(count=20, seed=2))
    fake.fail_next(2, 429, {"message": "The maximum number of api calls allowed for api/v1/contacts/search is 200 "
                                       "times per minute."}, endpoint="contacts/search")
    source = await start(fake)

    pulled = await pull_all(source)

    assert len(pulled.ids) == 20
    assert [r.status for r in fake.requests("contacts/search")] == [429, 429, 200, 200]  # then today's page


async def test_a_window_empty_for_longer_than_max_quota_wait_ends_the_pull_with_a_rate_limit_error(
        autojump_clock: trio.testing.MockClock, start: Start) -> None:
    fake = FakeApollo([KEY], clock=virtual_epoch, retry_after=True,
                      limits={"contacts/search": Limits(minute=None, hour=None, day=5)})
    fake.generate(GeneratorSpec(count=50, seed=2))
    for _ in range(5):
        fake.quota.take("contacts/search")
    source = await start(fake, max_quota_wait=600.0)

    with pytest.raises(RateLimited, match=r"retry|quota|maximum") as caught:
        await pull_all(source)
    assert caught.value.retry_after is not None and caught.value.retry_after > 600


@pytest.mark.parametrize("spelling", ["daily", "24-hour", "both"])
async def test_rate_limits_reports_every_window_in_either_daily_spelling(
        spelling: str, nursery: trio.Nursery, make_source: Callable[..., ApolloSource]) -> None:
    fake = FakeApollo([KEY], daily_spelling=spelling)  # type: ignore[arg-type]
    fake.generate(GeneratorSpec(count=250, seed=2))
    url: str = await nursery.start(serve, fake)
    source = make_source(base_url=url)
    ok_requests = {"provider": "apollo", "endpoint": "contacts/search", "status_class": "2xx"}
    before = metrics.REGISTRY.get_sample_value("halosync_provider_requests_total", ok_requests)

    await pull_all(source)

    windows = {w.window: w for w in source.rate_limits()}
    assert set(windows) == {"minute", "hour", "day"}
    assert (windows["minute"].limit, windows["hour"].limit, windows["day"].limit) == (200, 600, 6000)
    assert windows["day"].used == 4 and windows["day"].remaining == 5996  # 3 pages, then today's
    assert all(w.endpoint == "contacts/search" and w.provider == "apollo" for w in windows.values())
    assert windows["minute"].reset_at is not None and windows["minute"].reset_at % 60 == 0
    after = metrics.REGISTRY.get_sample_value("halosync_provider_requests_total", ok_requests)
    assert (after or 0) - (before or 0) == 4
    assert metrics.REGISTRY.get_sample_value("halosync_rate_limit_remaining",
                                             {"provider": "apollo", "window": "day"}) == 5996


def test_the_forecast_says_when_the_observed_pace_runs_a_window_out() -> None:
    quota = HeaderQuota("apollo", "contacts/search", APOLLO_WINDOWS)
    def minute(used: int) -> dict[str, str]:
        return {"x-rate-limit-minute": "20", "x-minute-usage": str(used), "x-minute-requests-left": str(20 - used),
                "x-24-hour-usage": ""}

    quota.observe(minute(5), now=6_000.0)
    quota.observe(minute(15), now=6_010.0)  # 1 request a second, 5 left

    (window,) = quota.windows(now=6_010.0)
    assert (window.limit, window.used, window.remaining, window.reset_at) == (20, 15, 5, 6_060.0)
    # 10 requests in the last minute (the span of a minute window): 5 left last 30 s more.
    assert window.exhausted_at == pytest.approx(6_040.0)
    assert quota.delay(now=6_010.0) == 0
    quota.observe(minute(19), now=6_012.0)  # one left: the margin keeps it for other users of the key
    assert quota.delay(now=6_012.0) == pytest.approx(48.0)
    assert quota.delay(now=6_060.0) == 0  # the next minute starts empty


def hourly(used: int) -> dict[str, str]:
    return {"x-rate-limit-hourly": "600", "x-hourly-usage": str(used), "x-hourly-requests-left": str(600 - used)}


HOUR_WINDOW_ONLY = [w for w in APOLLO_WINDOWS if w.window == "hour"]


def test_a_first_burst_of_a_few_requests_is_not_forecast_to_exhaust_an_hour() -> None:
    """The false alert of issue 15: 9 of 600 an hour spent in the first seconds after a start."""
    quota = HeaderQuota("apollo", "contacts/search", HOUR_WINDOW_ONLY)
    start = 7_200.0 + 30  # half a minute into the hour
    for i in range(1, 10):
        quota.observe(hourly(i), now=start + i)
    (window,) = quota.windows(now=start + 10)
    assert window.used == 9 and window.exhausted_at is None
    (window,) = quota.windows(now=start + 60)
    assert window.exhausted_at is None
    assert rate_limit_exhaustion(EXHAUSTION, history_of(quota, start + 60)) == []


def test_the_forecast_follows_a_real_pace_and_expires_when_requests_stop() -> None:
    quota = HeaderQuota("apollo", "contacts/search", HOUR_WINDOW_ONLY)
    start = 7_200.0
    # A request every 2 s for ten minutes: 300 spent, the rest lasts 10 minutes more.
    for used, second in enumerate(range(0, 600, 2), start=1):
        quota.observe(hourly(used), now=start + second)
    (window,) = quota.windows(now=start + 600)
    assert window.exhausted_at == pytest.approx(start + 600 + 300 * 600 / 300, abs=5)
    (labels, shortfall), = rate_limit_exhaustion(EXHAUSTION, history_of(quota, start + 600))
    assert dict(labels) == {"provider": "apollo", "window": "hour", "endpoint": "contacts/search"}
    assert shortfall == pytest.approx(3600 - 1200, abs=5)

    # Requests stop: the pace decays as the minutes pass, and the forecast is never in the past.
    seen = []
    for minute in range(11, 30):
        (window,) = quota.windows(now=start + minute * 60)
        seen.append(window.exhausted_at)
        assert window.exhausted_at is None or window.exhausted_at >= start + minute * 60
    assert seen[0] is not None and seen[-1] is None
    assert rate_limit_exhaustion(EXHAUSTION, history_of(quota, start + 29 * 60)) == []


def test_an_exhausted_window_runs_out_now_not_when_it_was_last_seen() -> None:
    quota = HeaderQuota("apollo", "contacts/search", HOUR_WINDOW_ONLY)
    quota.observe(hourly(600), now=7_210.0)
    (window,) = quota.windows(now=7_500.0)
    assert window.remaining == 0 and window.exhausted_at == 7_500.0
    (window,) = quota.windows(now=10_801.0)  # the next hour
    assert window.remaining == 600 and window.exhausted_at is None


def test_a_stale_forecast_from_a_plugin_never_fires() -> None:
    """A third-party plugin whose forecast is not recomputed: once its window has reset it is no forecast, and one
    in the past counts from now."""
    history = History(keep=3600)
    stale = RateWindow("other", "hour", 600, 600, 0, reset_at=7_200.0, exhausted_at=6_000.0)
    history.add(Snapshot(at=7_300.0, rate_windows=[stale]))
    assert rate_limit_exhaustion(EXHAUSTION, history) == []
    history.add(Snapshot(at=7_300.0, rate_windows=[RateWindow(
        "other", "hour", 600, 600, 0, reset_at=7_400.0, exhausted_at=6_000.0)]))
    [(_, shortfall)] = rate_limit_exhaustion(EXHAUSTION, history)
    assert shortfall == 100.0  # from now (7,300) to the reset, not from the forecast's 6,000


EXHAUSTION = next(r for r in load_rules({}) if r.name == "rate_limit_exhaustion")


def history_of(quota: HeaderQuota, now: float) -> History:
    history = History(keep=3600)
    history.add(Snapshot(at=now, rate_windows=quota.windows(now=now)))
    return history


def test_headers_that_are_empty_or_garbled_are_ignored() -> None:
    quota = HeaderQuota("apollo", "contacts/search", APOLLO_WINDOWS)
    quota.observe({"x-rate-limit-minute": "", "x-minute-usage": "n/a", "x-rate-limit-24-hour": "6,000",
                   "x-24-hour-usage": "12"}, now=100.0)
    windows = {w.window: w for w in quota.windows(now=100.0)}
    assert set(windows) == {"day"} and windows["day"].remaining == 5988
    assert parse_retry_after("15733", 0) == 15733 and parse_retry_after("", 0) is None
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 40.0) == 60.0




def test_a_window_of_one_request_is_still_used_and_the_margin_never_takes_all() -> None:
    quota = HeaderQuota("apollo", "people/bulk_match", APOLLO_WINDOWS, margin=0.02)
    quota.observe({"x-rate-limit-minute": "1", "x-minute-usage": "0", "x-minute-requests-left": "1"}, now=6_000.0)
    assert quota.delay(now=6_000.0) == 0
    quota.note_sent(now=6_000.0)
    assert quota.delay(now=6_001.0) == pytest.approx(59.0)
