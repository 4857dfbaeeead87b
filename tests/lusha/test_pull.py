"""Polling Lusha lists: paging to the end, diffing against the last poll (added / changed / removed / unchanged),
shuffled and overlapping pages, resuming after a crash mid-poll, and the cursor's bound."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from halosync.plugin import ProviderError
from halosync_lusha.cursor import Cursor
from halosync_lusha.fake import FakeLusha
from halosync_lusha.source import LushaSource
from tests.lusha.conftest import LIST, pull_all

Make = Callable[..., LushaSource]


async def test_a_list_is_paged_to_its_end_and_every_member_becomes_one_lead(fake: FakeLusha, make_source: Make) -> None:
    members = fake.create_list(LIST, 250)
    source = make_source()

    pulled = await pull_all(source)

    assert sorted(pulled.ids) == sorted(members)
    assert len(pulled.ids) == 250  # none twice
    pages = [(int(r.query["page"]), int(r.query["size"])) for r in fake.requests_to(LIST)]
    assert pages == [(0, 100), (1, 100), (2, 100)]
    lead = next(lead for lead in pulled.leads if lead.source_id == members[0])
    contact = fake.contacts[members[0]]
    assert lead.source == "lusha"
    assert lead.person.email == contact["emailAddresses"][0]["email"]
    assert lead.person.title == contact["jobTitle"]
    assert lead.company is not None and lead.company.domain == contact["company"]["domain"]
    assert source.last_poll["added"] == 250


async def test_the_next_poll_stages_only_what_changed_and_notices_who_left(fake: FakeLusha, make_source: Make) -> None:
    members = fake.create_list(LIST, 120)
    source = make_source()
    first = await pull_all(source)

    quiet = await pull_all(source, first.cursor)
    assert quiet.ids == []
    assert source.last_poll["unchanged"] == 120

    fake.edit(members[0], jobTitle="Chief Everything Officer")
    fake.edit(members[1], firstName="Renamed")
    fake.edit(members[2], addedAt="2026-12-01T00:00:00Z")  # Lusha's bookkeeping only: not a change for halosync
    for gone in members[10:14]:
        fake.remove_member(LIST, gone)
    added = fake.add_members(LIST, 3)

    second = await pull_all(source, quiet.cursor)

    assert sorted(second.ids) == sorted([members[0], members[1], *added])
    assert {k: source.last_poll[k] for k in ("added", "changed", "removed", "unchanged")} == {
        "added": 3, "changed": 2, "removed": 4, "unchanged": 114}
    titles = {lead.source_id: lead.person.title for lead in second.leads}
    assert titles[members[0]] == "Chief Everything Officer"
    state = Cursor.decode(second.cursor)
    assert set(state.members[LIST]) == set(fake.lists[LIST])

    # A member who left and comes back, unchanged, is staged again: the daemon decides what it means.
    fake.add_existing(LIST, members[10])
    third = await pull_all(source, second.cursor)
    assert third.ids == [members[10]]




@pytest.fixture
def shuffling(fake: FakeLusha) -> FakeLusha:
    fake.order = "request"
    return fake


async def test_a_list_reshuffled_on_every_request_is_read_again_until_every_member_is_seen(
        shuffling: FakeLusha, make_source: Make) -> None:
    members = shuffling.create_list(LIST, 300)
    source = make_source(page_size=50)

    pulled = await pull_all(source)

    counts = Counter(pulled.ids)
    assert max(counts.values()) == 1  # a member on two overlapping pages is staged once
    # With 6 random pages of 50, a pass misses about a third of the list; the passes of one poll find most, and
    # whoever is still unseen is neither lost (a later poll finds them) nor taken for removed.
    seen = set(pulled.ids)
    assert len(seen) >= 250 and seen <= set(members)
    assert source.last_poll["passes"] >= 2
    assert source.last_poll["removed"] == 0
    cursor = pulled.cursor
    for _ in range(5):
        if seen == set(members):
            break
        again = await pull_all(source, cursor)
        assert not set(again.ids) & seen  # what an earlier poll staged is not staged twice
        assert source.last_poll["removed"] == 0
        seen |= set(again.ids)
        cursor = again.cursor
    assert seen == set(members)


async def test_a_crash_mid_poll_resumes_at_the_next_page_without_losing_or_repeating_a_member(
        fake: FakeLusha, make_source: Make) -> None:
    members = fake.create_list(LIST, 250)
    source = make_source()
    crashed = await pull_all(source, stop_after=1)  # the daemon died after committing the first page
    assert len(crashed.ids) == 100

    resumed = await pull_all(make_source(), crashed.cursor)  # a new process, from the committed cursor

    assert sorted(crashed.ids + resumed.ids) == sorted(members)
    assert not set(crashed.ids) & set(resumed.ids)
    assert [int(r.query["page"]) for r in fake.requests_to(LIST)] == [0, 1, 2]
    state = Cursor.decode(resumed.cursor)
    assert state.run is None and len(state.members[LIST]) == 250


async def test_a_crash_of_a_poll_with_removals_does_not_take_unseen_members_for_removed(
        fake: FakeLusha, make_source: Make) -> None:
    members = fake.create_list(LIST, 250)
    source = make_source()
    first = await pull_all(source)
    fake.remove_member(LIST, members[5])
    crashed = await pull_all(source, first.cursor, stop_after=1)

    resumed = await pull_all(make_source(), crashed.cursor)
    assert crashed.ids + resumed.ids == []
    assert set(Cursor.decode(resumed.cursor).members[LIST]) == set(members) - {members[5]}


async def test_two_lists_are_read_in_turn_and_a_member_of_both_is_one_lead(fake: FakeLusha, make_source: Make) -> None:
    one = fake.create_list(LIST, 30)
    fake.create_list("L2", 0)
    fake.add_existing("L2", one[0])
    extra = fake.add_members("L2", 5)
    source = make_source(list_ids=(LIST, "L2"))

    pulled = await pull_all(source)
    assert sorted(set(pulled.ids)) == sorted([*one, *extra])
    again = await pull_all(source, pulled.cursor)
    assert again.ids == []  # the shared member hashes alike in both lists: no flip-flop


async def test_a_member_without_id_or_identity_is_rejected_with_a_reason(fake: FakeLusha, make_source: Make) -> None:
    members = fake.create_list(LIST, 3)
    fake.contacts[members[0]] = {"id": members[0], "company": {"name": "Nobody Inc"}}
    source = make_source()

    pulled = await pull_all(source)

    assert sorted(pulled.ids) == sorted(members[1:])
    assert [r.source_id for r in pulled.rejected] == [members[0]]
    assert "no e-mail, LinkedIn URL or name" in pulled.rejected[0].reason
    again = await pull_all(source, pulled.cursor)
    assert again.rejected == []  # not a new dead letter at every poll


async def test_a_cursor_over_max_entities_stops_the_pull_with_what_to_do(fake: FakeLusha, make_source: Make) -> None:
    fake.create_list(LIST, 150)
    with pytest.raises(ProviderError, match="max_entities"):
        await pull_all(make_source(max_entities=100))


async def test_a_foreign_cursor_is_refused_with_the_fix(make_source: Make) -> None:
    with pytest.raises(ProviderError, match="--source lusha --full"):
        await pull_all(make_source(), '{"v":2,"at":"2026"}')


async def test_full_stages_every_member_again(fake: FakeLusha, make_source: Make) -> None:
    fake.create_list(LIST, 20)
    source = make_source()
    first = await pull_all(source)
    assert len((await pull_all(source, first.cursor, full=True)).ids) == 20
