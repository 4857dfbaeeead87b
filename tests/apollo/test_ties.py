"""Completeness whatever order Apollo gives tied contacts: a property test over random data, tie orders, page
sizes, tie-group sizes and edits/deletes between requests; the day-filter probe and its fallback; resuming from
any committed page; version 1 cursors."""

from __future__ import annotations

import random
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import cast

import httpx
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import halosync
from halosync.contracts import SourcePage
from halosync.model import Lead
from halosync_apollo.fake import PLANS, UNLIMITED, FakeApollo, LoggedRequest
from halosync_apollo.settings import ApolloSettings
from halosync_apollo.source import ApolloSource
from tests.apollo.conftest import KEY

STAMPS = [f"2025-0{1 + d}-1{h}T08:00:0{s}.000Z" for d in range(3) for h in range(2) for s in range(2)]


@dataclass
class Run:
    leads: list[Lead] = field(default_factory=list)
    cursors: list[str | None] = field(default_factory=list)
    searches: int = 0


def _source(fake: FakeApollo, per_page: int) -> ApolloSource:
    settings = ApolloSettings(api_key=KEY, base_url="http://127.0.0.1", per_page=per_page, timeout=10.0)
    return ApolloSource(settings, transport=httpx.ASGITransport(app=fake), backoff_base=0.01)


async def _drain(source: ApolloSource, cursor: str | None = None, stop_after: int | None = None) -> Run:
    run = Run()
    async with aclosing(cast("AsyncGenerator[SourcePage, None]", source.pull(cursor))) as pages:
        async for page in pages:
            run.leads.extend(page.leads)
            run.cursors.append(page.cursor)
            if stop_after is not None and len(run.cursors) >= stop_after:
                break
    run.searches = source.client.requests_sent
    return run


def _fake(stamps: list[int], shuffled: bool, honour_range: bool, seed: int) -> FakeApollo:
    fake = FakeApollo([KEY], default_limits=UNLIMITED, tie_order="shuffled" if shuffled else "id", seed=seed)
    fake.book.honour_range = honour_range
    fake.add_contacts({"id": f"c{i:04d}", "first_name": "Ada", "last_name": f"L{i}", "title": "v0",
                       "updated_at": STAMPS[s]} for i, s in enumerate(stamps))
    return fake


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(0, 140),
    spread=st.integers(1, len(STAMPS)),  # few distinct timestamps: tie groups larger than a page
    per_page=st.integers(10, 30),
    shuffled=st.booleans(),
    honour_range=st.booleans(),
    seed=st.integers(0, 2**16),
    changes=st.lists(st.tuples(st.integers(1, 40), st.booleans(), st.integers(0, 10_000)), max_size=6),
)
def test_every_contact_that_exists_for_the_whole_pull_is_staged(
        count: int, spread: int, per_page: int, shuffled: bool, honour_range: bool, seed: int,
        changes: list[tuple[int, bool, int]]) -> None:
    rng = random.Random(seed)
    fake = _fake([rng.randrange(spread) for _ in range(count)], shuffled, honour_range, seed)
    everyone = set(fake.book.by_id)
    deleted: set[str] = set()
    titles: dict[str, set[str]] = {i: {"v0"} for i in everyone}
    searches = [0]

    def change_between_requests(request: LoggedRequest) -> None:
        searches[0] += 1
        for at, delete, pick in changes:
            alive = sorted(fake.book.by_id)
            if at != searches[0] or not alive:
                continue
            victim = alive[pick % len(alive)]
            if delete:
                fake.remove_contact(victim)
                deleted.add(victim)
            else:
                title = f"v{searches[0]}"
                fake.update_contact(victim, title=title)
                titles[victim].add(title)

    fake.after_request = change_between_requests
    run = trio.run(_drain, _source(fake, per_page))

    staged = {lead.source_id for lead in run.leads}
    assert everyone - deleted <= staged  # nothing that existed for the whole pull is lost
    assert staged <= everyone
    for lead in run.leads:  # each in a state it really had
        assert lead.person.title in titles[lead.source_id]


@settings(max_examples=25, deadline=None)
@given(stamps=st.lists(st.integers(0, 3), min_size=1, max_size=120), per_page=st.integers(10, 25),
       stop_after=st.integers(1, 12), seed=st.integers(0, 2**16))
def test_a_pull_resumed_from_any_committed_page_loses_nothing(stamps: list[int], per_page: int, stop_after: int,
                                                              seed: int) -> None:
    fake = _fake(stamps, True, True, seed)

    async def crash_and_resume() -> tuple[Run, Run]:
        first = await _drain(_source(fake, per_page), stop_after=stop_after)
        rest = await _drain(_source(fake, per_page), first.cursors[-1] if first.cursors else None)
        return first, rest

    first, rest = trio.run(crash_and_resume)
    assert {lead.source_id for lead in first.leads + rest.leads} == set(fake.book.by_id)


def test_a_large_tie_group_in_shuffled_order_is_read_whole_and_proven() -> None:
    fake = _fake([0] * 1_000 + [1] * 50, True, True, 7)
    run = trio.run(_drain, _source(fake, 100))
    assert {lead.source_id for lead in run.leads} == set(fake.book.by_id)
    assert len(run.leads) == 1_050  # each once: ids seen are never emitted again within a pull


def test_the_day_filter_is_probed_once_and_used_when_honoured() -> None:
    fake = _fake([0, 1, 2, 3] * 30, True, True, 1)
    source = _source(fake, 50)

    async def two_pulls() -> int:
        first = await _drain(source)
        await _drain(source, first.cursors[-1])
        return first.searches

    first_searches = trio.run(two_pulls)
    bodies = [r.body for r in fake.requests("contacts/search")]
    probes = [b for b in bodies if b["per_page"] == 1]
    assert len(probes) == 1 and source.range_honoured is True
    assert bodies[first_searches:] and all(b["contact_updated_at_range"] == {"min": STAMPS[3][:10]}
                                           for b in bodies[first_searches:])


def test_an_ignored_day_filter_falls_back_to_the_sorted_scan_and_misses_nothing() -> None:
    fake = _fake([0, 1, 2, 3, 4, 5] * 40, True, False, 2)
    source = _source(fake, 25)
    cursor = '{"v":2,"at":"2025-01-11T08:00:00.000Z","rank":3,"list":"day"}'

    run = trio.run(_drain, source, cursor)

    assert source.range_honoured is False
    later = {i for i, c in fake.book.by_id.items() if c["updated_at"] >= "2025-01-11T08:00:00.000Z"}
    assert {lead.source_id for lead in run.leads} == later
    assert all("contact_updated_at_range" not in r.body for r in fake.requests("contacts/search")[1:])


def test_beyond_the_display_limit_without_the_day_filter_the_pull_fails_loudly() -> None:
    fake = _fake([i % len(STAMPS) for i in range(400)], True, False, 3)
    fake.display_limit = 200
    source = _source(fake, 50)

    try:
        trio.run(_drain, source)
    except Exception as exc:
        caught: BaseException = exc
    else:
        raise AssertionError("the pull passed silently beyond Apollo's display limit")
    assert type(caught).__name__ == "IncompletePull" and "ignores contact_updated_at_range" in str(caught)


def test_a_version_1_cursor_re_reads_its_timestamp_and_loses_nothing() -> None:
    fake = _fake([0] * 30 + [1] * 30 + [2] * 30, True, True, 4)
    v1 = '{"v":1,"updated_at":"2025-01-10T08:00:01.000Z","id":"c0045","skip":12}'

    run = trio.run(_drain, _source(fake, 20), v1)

    tied_and_later = {i for i, c in fake.book.by_id.items() if c["updated_at"] >= STAMPS[1]}
    assert {lead.source_id for lead in run.leads} == tied_and_later


def test_a_poll_with_nothing_changed_costs_one_search_and_yields_nothing() -> None:
    fake = _fake([0, 1, 2, 3, 4] * 60, True, True, 5)
    source = _source(fake, 100)

    async def two_pulls() -> tuple[Run, int]:
        first = await _drain(source)
        before = source.client.requests_sent
        again = await _drain(source, first.cursors[-1])
        return again, source.client.requests_sent - before

    again, requests = trio.run(two_pulls)
    assert again.leads == [] and requests == 1


def test_plan_presets_fixed_windows_retry_after_and_the_user_agent() -> None:
    now = [1_000.5]
    fake = FakeApollo([KEY], clock=lambda: now[0])
    fake.set_limits("contacts/search", PLANS["free"])

    async def requests() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake), base_url="http://127.0.0.1") as api:
            answers = []
            for _ in range(51):
                answers.append(await api.post("/api/v1/contacts/search", json={}, headers={"x-api-key": KEY}))
                now[0] += 0.5
            answers.append(await api.post("/api/v1/contacts/search", json={}, headers={"x-api-key": "bad"}))
            return answers

    answers = trio.run(requests)
    assert [a.status_code for a in answers[:50]] == [200] * 50
    refused = answers[50]
    # The minute window opened at the first request (t=1000.5), not on the clock's minute.
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) == 35
    assert answers[0].headers["x-rate-limit-minute"] == "50" and answers[0].headers["x-rate-limit-daily"] == "600"
    assert not any(h.startswith("x-rate-limit") for h in answers[51].headers)  # none on 401
    unlimited = FakeApollo([KEY], default_limits=UNLIMITED).quota.headers("contacts/search")
    assert unlimited["x-rate-limit-minute"] == ""


def test_every_request_to_apollo_names_halosync_and_its_version() -> None:
    fake = _fake([0, 1], True, True, 0)
    trio.run(_drain, _source(fake, 10))
    assert {r.user_agent for r in fake.requests()} == {f"halosync/{halosync.__version__}"}
