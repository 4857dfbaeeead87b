"""Incremental pulls against the fake Apollo over a real socket: completeness past the display limit, changes
between polls, timestamp ties at page boundaries, resuming after a crash, filters, full re-pulls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import trio

from halosync.errors import IncompletePull
from halosync.provider.asgi import serve
from halosync_apollo.fake import UNLIMITED, FakeApollo, GeneratorSpec
from halosync_apollo.fake.shape import apollo_time
from halosync_apollo.source import ApolloSource
from tests.apollo.conftest import KEY, pull_all

MakeSource = Callable[..., ApolloSource]


@pytest.mark.slow
@pytest.mark.timeout(300)  # ~15 s alone; far more on a loaded machine
async def test_a_pull_past_the_display_limit_yields_every_contact_exactly_once(
        fake: FakeApollo, make_source: MakeSource) -> None:
    # Lean contacts (the shape is covered elsewhere): three share each timestamp, ~19,000 a day over six days,
    # so windows end mid-day and ties straddle page boundaries.
    start = 1_735_689_600.0  # 2025-01-01T00:00:00Z
    fake.add_contacts({"id": f"{i:024x}", "first_name": "Lead", "last_name": str(i), "email": f"lead{i}@example.com",
                       "updated_at": apollo_time(start + i // 3 * 13.7)} for i in range(120_000))
    source = make_source()

    pulled = await pull_all(source)

    assert len(pulled.ids) == 120_000
    assert set(pulled.ids) == set(fake.book.by_id)
    # No request asked past Apollo's 50,000-record limit; every request starts just before the boundary's tie
    # group (so ties are proven whole whatever their order), which costs about a fifth more than plain pages.
    searches = fake.requests("contacts/search")
    assert all(r.status == 200 for r in searches)
    assert len(searches) < 1_200 * 1.2


async def test_contacts_changed_between_polls_are_pulled_again_and_only_they(
        fake: FakeApollo, make_source: MakeSource) -> None:
    generated = fake.generate(GeneratorSpec(count=1_500, seed=3, days=10))
    source = make_source()
    first = await pull_all(source)
    assert len(first.ids) == 1_500

    changed = [generated.contacts[i]["id"] for i in (5, 700, 1_499)]
    for contact_id in changed:
        fake.update_contact(contact_id, title="Chief Happiness Officer")
    fake.add_contacts([{"id": "new-contact-1", "first_name": "Ada", "last_name": "Lovelace"}])

    second = await pull_all(source, first.cursor)

    assert sorted(second.ids) == sorted([*changed, "new-contact-1"])
    assert {lead.person.title for lead in second.leads if lead.source_id in changed} == {"Chief Happiness Officer"}
    # A third poll with nothing changed yields nothing, and keeps the cursor where it was.
    third = await pull_all(source, second.cursor)
    assert third.ids == []


async def test_a_poll_resumes_at_the_cursors_page_instead_of_re_reading_its_day(
        fake: FakeApollo, make_source: MakeSource) -> None:
    fake.add_contacts(_contact(f"c-{i:04d}", updated_at=_at("2025-05-05", i)) for i in range(1_000))
    source = make_source()
    first = await pull_all(source)
    for i in (3, 500, 999):
        fake.update_contact(f"c-{i:04d}", title="Changed")
    before = len(fake.requests())

    second = await pull_all(source, first.cursor)

    assert sorted(second.ids) == ["c-0003", "c-0500", "c-0999"]
    assert len(fake.requests()) - before <= 2  # the cursor's page (and the next), not the day's ten pages


async def test_when_staged_contacts_of_the_cursors_day_moved_the_poll_still_misses_nothing(
        fake: FakeApollo, make_source: MakeSource) -> None:
    fake.add_contacts(_contact(f"c-{i:04d}", updated_at=_at("2025-05-05", i)) for i in range(500))
    source = make_source()
    first = await pull_all(source)
    moved = [f"c-{i:04d}" for i in range(0, 450, 3)]  # 150 of the day's contacts change: the day shrinks
    for contact_id in moved:
        fake.update_contact(contact_id, title="Changed")

    second = await pull_all(source, first.cursor)

    assert sorted(second.ids) == sorted(moved)


async def test_contacts_edited_during_a_pull_do_not_make_it_skip_others(
        fake: FakeApollo, make_source: MakeSource) -> None:
    fake.add_contacts(_contact(f"c-{i:04d}", updated_at=_at("2025-05-05", i)) for i in range(1_000))
    edited = [f"c-{i:04d}" for i in (10, 20, 30, 150, 299)]

    def edit_behind_the_pull(pages_read: int) -> None:
        if pages_read == 3:  # 300 read: these move to the end, and everything after them moves up five places
            for contact_id in edited:
                fake.update_contact(contact_id, title="Edited meanwhile")

    pulled = await pull_all(make_source(), between_pages=edit_behind_the_pull)

    assert set(pulled.ids) == {f"c-{i:04d}" for i in range(1_000)}
    latest = {lead.source_id: lead for lead in pulled.leads}  # staged last, as the engine keeps it
    assert {latest[i].person.title for i in edited} == {"Edited meanwhile"}
    assert len(pulled.ids) <= 1_005  # at most the edited ones twice


async def test_contacts_of_today_edited_during_a_pull_do_not_make_it_skip_others(
        nursery: trio.Nursery, make_source: MakeSource) -> None:
    noon = 1_780_056_000.0  # 2026-05-29T12:00:00Z
    fake = FakeApollo([KEY], clock=lambda: noon, default_limits=UNLIMITED)
    fake.add_contacts(_contact(f"t-{i:04d}", updated_at=_at("2026-05-29", 3_600 + i)) for i in range(600))
    url: str = await nursery.start(serve, fake)
    source = make_source(base_url=url, clock=lambda: noon)
    edited = [f"t-{i:04d}" for i in (1, 2, 3, 50, 199)]

    def edit_behind_the_pull(pages_read: int) -> None:
        if pages_read == 2:
            for contact_id in edited:
                fake.update_contact(contact_id, title="Edited meanwhile")

    pulled = await pull_all(source, between_pages=edit_behind_the_pull)

    assert set(pulled.ids) == {f"t-{i:04d}" for i in range(600)}
    assert sorted(pulled.ids[-5:]) == edited


async def test_the_first_poll_after_midnight_misses_nothing_when_earlier_contacts_moved(
        nursery: trio.Nursery, make_source: MakeSource) -> None:
    now = [1_780_052_400.0]  # 2026-05-29T11:00:00Z
    fake = FakeApollo([KEY], clock=lambda: now[0], default_limits=UNLIMITED)
    fake.add_contacts(_contact(f"a-{i:04d}", updated_at=_at("2026-05-28", i)) for i in range(500))
    url: str = await nursery.start(serve, fake)
    source = make_source(base_url=url, clock=lambda: now[0])
    first = await pull_all(source)
    # Later that day more contacts change; after midnight three of the staged ones change again.
    fake.add_contacts(_contact(f"b-{i:04d}", updated_at=_at("2026-05-29", 40_000 + i)) for i in range(20))
    now[0] += 86_400
    for contact_id in ("a-0001", "a-0002", "a-0003"):
        fake.update_contact(contact_id, title="Changed after midnight")

    second = await pull_all(source, first.cursor)

    assert sorted(second.ids) == ["a-0001", "a-0002", "a-0003"] + [f"b-{i:04d}" for i in range(20)]


async def test_many_contacts_sharing_updated_at_across_page_boundaries_are_neither_lost_nor_repeated(
        fake: FakeApollo, make_source: MakeSource) -> None:
    same = "2025-03-01T10:00:00.000Z"
    fake.add_contacts(_contact(f"tie-{i:04d}", updated_at=same) for i in range(250))
    fake.add_contacts(_contact(f"before-{i}", updated_at="2025-03-01T09:00:00.000Z") for i in range(30))
    fake.add_contacts(_contact(f"after-{i}", updated_at="2025-03-01T11:00:00.000Z") for i in range(30))
    source = make_source()

    # Stop after the first page: its last lead sits in the middle of the 250 ties.
    partial = await pull_all(source, stop_after=1)
    assert partial.ids[-1].startswith("tie-")
    rest = await pull_all(source, partial.cursor)

    ids = partial.ids + rest.ids
    assert len(set(ids)) == 310
    # Oldest first by timestamp; the boundary group of the crash is read again (staging keeps identical ones).
    first_seen = list(dict.fromkeys(ids))
    groups = [0 if i.startswith("before") else 1 if i.startswith("tie") else 2 for i in first_seen]
    assert groups == sorted(groups)
    assert len(ids) - 310 <= 250


async def test_a_pull_resumes_after_a_crash_from_the_last_committed_page(
        fake: FakeApollo, make_source: MakeSource) -> None:
    generated = fake.generate(GeneratorSpec(count=1_000, seed=11, days=5, tie_share=0.3))
    source = make_source()
    everything = {c["id"] for c in generated.contacts}

    # The engine committed 4 pages, then the process died; a new process resumes from the committed cursor.
    committed = await pull_all(source, stop_after=4)
    resumed = await pull_all(make_source(), committed.cursor)

    assert len(committed.ids) >= 300
    assert set(committed.ids) | set(resumed.ids) == everything
    # Only the boundary's tie group is read again after the crash.
    assert len(set(committed.ids) & set(resumed.ids)) <= 10


async def test_a_window_that_reaches_the_display_limit_goes_on_from_its_boundary_day(make_source: MakeSource,
                                                                                      fake: FakeApollo) -> None:
    # The fake's display limit is lowered so that the windows stay small.
    fake.display_limit = 300
    fake.add_contacts(_contact(f"d1-{i:04d}", updated_at=_at("2025-04-01", i // 3)) for i in range(250))
    fake.add_contacts(_contact(f"d2-{i:04d}", updated_at=_at("2025-04-02", i // 4)) for i in range(200))
    source = make_source()

    pulled = await pull_all(source)

    assert set(pulled.ids) == set(fake.book.by_id)
    assert source.display_limit <= 300  # learned from Apollo's "over threshold" answer
    windows = {str((r.body.get("contact_updated_at_range") or {}).get("min")) for r in fake.requests()}
    assert "2025-04-02" in windows


async def test_a_day_beyond_reach_by_date_is_a_clear_error(make_source: MakeSource, fake: FakeApollo) -> None:
    fake.display_limit = 100
    fake.add_contacts(_contact(f"d1-{i:04d}", updated_at="2025-04-01T08:00:00.000Z") for i in range(250))
    source = make_source()

    with pytest.raises(IncompletePull, match="cannot be reached by date") as caught:
        await pull_all(source)
    assert caught.value.range_from == "2025-04-01T08:00:00.000Z"


async def test_full_re_pulls_everything_whatever_the_cursor(fake: FakeApollo, make_source: MakeSource) -> None:
    fake.generate(GeneratorSpec(count=300, seed=5))
    source = make_source()
    first = await pull_all(source)

    again = await pull_all(source, first.cursor, full=True)

    assert sorted(again.ids) == sorted(first.ids)


async def test_filters_from_the_config_reach_apollo(fake: FakeApollo, make_source: MakeSource) -> None:
    fake.add_contacts([
        _contact("a", label_ids=["L1"], contact_stage_id="S1", title="IT Director"),
        _contact("b", label_ids=["L2"], contact_stage_id="S1", title="IT Director"),
        _contact("c", label_ids=["L1"], contact_stage_id="S2", title="IT Director"),
        _contact("d", label_ids=["L1"], contact_stage_id="S1", title="Chef"),
    ])
    source = make_source(label_ids=("L1",), stage_ids=("S1",), keywords="director")

    pulled = await pull_all(source)

    assert pulled.ids == ["a"]
    body = fake.requests("contacts/search")[-1].body
    assert body["contact_label_ids"] == ["L1"] and body["contact_stage_ids"] == ["S1"]
    assert body["q_keywords"] == "director" and body["sort_by_field"] == "contact_updated_at"


async def test_records_without_email_or_name_are_leads_and_unusable_ones_are_rejected(
        fake: FakeApollo, make_source: MakeSource) -> None:
    fake.add_contacts([_contact("no-email", email=None), _contact("no-name", first_name=None, last_name=None)])
    fake.book.by_id["broken"] = {"id": "", "updated_at": "2025-01-01T00:00:00.000Z"}  # as a corrupt record
    source = make_source()

    pulled = await pull_all(source)

    assert sorted(pulled.ids) == ["no-email", "no-name"]
    assert [r.reason for r in pulled.rejected] == ["the Apollo contact has no id"]


def _contact(contact_id: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": contact_id, "first_name": "Grace", "last_name": "Hopper", "email": f"{contact_id}@example.com",
        "updated_at": "2025-02-01T00:00:00.000Z",
    }
    base.update(fields)
    return base


def _at(day: str, second: int) -> str:
    return f"{day}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000Z"
