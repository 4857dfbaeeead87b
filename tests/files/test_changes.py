"""A file dropped again, or edited, stages only what changed; a crash in the middle of a file resumes at the next
row (nothing lost, nothing staged twice); bad rows become dead letters naming file:row. Pages are committed into a
real store exactly as the daemon's pull commits them (each page with its cursor)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from halosync.engine.pull import closing
from halosync.store.gateway import Store
from halosync.store.models import DeadLetter, SourceCursor, StagedLead
from halosync_files.fake.generator import Hostile, expected_id, people, write_csv
from tests.files.helpers import collect, committed_cursor, leads_of, make_source, stage


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.create_schema()
    yield s
    s.close()


async def pull_and_stage(store: Store, inbox: Path, **table: object) -> int:
    """One pull of the folder, every page committed; returns the leads staged."""
    source = make_source(inbox, **table)
    staged = 0
    try:
        async for page in source.pull(await committed_cursor(store)):
            await stage(store, source, page)
            staged += len(page.leads)
    finally:
        await source.aclose()
    return staged


def staged(store: Store) -> dict[str, tuple[int, str]]:
    return dict(store.call(lambda: [(r.source_id, (r.revision, r.payload["person"]["title"])) for r in
                                    StagedLead.select()]))


async def test_a_redropped_identical_file_stages_nothing_and_an_edited_one_only_its_changes(
        store: Store, inbox: Path, tmp_path: Path) -> None:
    persons = list(people(50, seed=11))
    write_csv(inbox / "zoominfo.csv", "zoominfo", persons)
    keep = tmp_path / "copy.csv"
    shutil.copy(inbox / "zoominfo.csv", keep)
    assert await pull_and_stage(store, inbox) == 50
    assert await pull_and_stage(store, inbox) == 0  # settles: the file goes to processed/
    assert (inbox / "processed" / "zoominfo.csv").exists() and not (inbox / "zoominfo.csv").exists()

    shutil.copy(keep, inbox / "zoominfo.csv")  # the same export dropped again
    assert await pull_and_stage(store, inbox) == 0
    await pull_and_stage(store, inbox)
    assert sorted(p.name for p in (inbox / "processed").iterdir())[0].startswith("zoominfo.")  # kept both copies

    edited = [*persons[:45], *people(3, seed=12, start=1000)]  # five rows gone, three new
    edited[7] = type(edited[7])(**{**edited[7].__dict__, "title": "Chief Information Officer"})
    write_csv(inbox / "zoominfo.csv", "zoominfo", edited)
    assert await pull_and_stage(store, inbox) == 4  # the edited row and the three new ones
    rows = staged(store)
    assert len(rows) == 53
    assert rows[expected_id("zoominfo", edited[7])] == (2, "Chief Information Officer")
    assert all(rev == 1 for sid, (rev, _) in rows.items() if sid != expected_id("zoominfo", edited[7]))


async def test_a_lost_store_reads_every_file_again(store: Store, inbox: Path) -> None:
    write_csv(inbox / "lusha.csv", "lusha", people(20))
    assert await pull_and_stage(store, inbox) == 20
    await pull_and_stage(store, inbox)  # baseline promoted, file moved
    store.call(lambda: (StagedLead.delete().execute(), SourceCursor.delete().execute()))  # back to before the file
    write_csv(inbox / "lusha.csv", "lusha", people(20))
    assert await pull_and_stage(store, inbox) == 20  # not skipped by a baseline the store never saw


async def test_a_crash_in_the_middle_of_a_file_resumes_with_nothing_lost_or_doubled(store: Store, inbox: Path
                                                                                  ) -> None:
    persons = list(people(1000, seed=13))
    write_csv(inbox / "cognism.csv", "cognism", persons, Hostile(blank_lines=True))
    for crash_after in (3, 1, 4):  # pages committed before each "crash"
        source = make_source(inbox, page_rows=50)
        committed = 0
        async with closing(source.pull(await committed_cursor(store))) as pages:
            async for page in pages:
                await stage(store, source, page)
                committed += 1
                if committed == crash_after:
                    break  # the process dies here: the next page was fetched, never committed
        await source.aclose()
    await pull_and_stage(store, inbox, page_rows=50)
    rows = staged(store)
    assert set(rows) == {expected_id("cognism", p) for p in persons}
    assert {rev for rev, _ in rows.values()} == {1}  # no lead was staged twice
    assert await pull_and_stage(store, inbox, page_rows=50) == 0
    assert (inbox / "processed" / "cognism.csv").exists()


async def test_bad_rows_become_dead_letters_with_file_and_row(store: Store, inbox: Path) -> None:
    (inbox / "signups.csv").write_text(
        "Event sign-ups, December\n"  # row 1: a title line
        "First Name,Last Name,Email,Company,Job Title\n"  # row 2
        "Ada,Lovelace,ada@engines.example,Engines Ltd,CTO\n"  # 3
        "Bob,Builder,not-an-address,Builders,Foreman\n"  # 4: a bad e-mail
        ",,,,\n"  # 5: blank, not a dead letter
        "Cy,,,,\n"  # 6: a first name alone
        ",,,Acme,\n"  # 7: nothing that names a person
        "Dee,Dee,dee@ramones.example,,\n", encoding="utf-8")  # 8
    await pull_and_stage(store, inbox)
    dead = store.call(lambda: sorted((d.source_id, d.reason) for d in DeadLetter.select()))
    assert dead == [
        ("signups.csv:4", "signups.csv:4: 'not-an-address' is not an e-mail address"),
        ("signups.csv:6", "signups.csv:6: a name alone does not identify a person: the row needs an e-mail, a "
                          "LinkedIn URL or a company"),
        ("signups.csv:7", "signups.csv:7: no e-mail, LinkedIn URL or name to identify the person"),
    ]
    assert set(staged(store)) == {"email:ada@engines.example", "email:dee@ramones.example"}
    payload = store.call(lambda: DeadLetter.get(DeadLetter.source_id == "signups.csv:4").payload)
    assert payload["columns"]["Email"] == "not-an-address" and payload["row"] == 4


async def test_a_full_pull_reads_unchanged_rows_again(store: Store, inbox: Path) -> None:
    write_csv(inbox / "a.csv", "lusha", people(5))
    await pull_and_stage(store, inbox)
    await pull_and_stage(store, inbox)  # settled: moved to processed/, its rows the baseline
    write_csv(inbox / "a.csv", "lusha", people(5))  # dropped again, unchanged
    source = make_source(inbox)
    pages = await collect(source, await committed_cursor(store), full=True)
    await source.aclose()
    assert len(leads_of(pages)) == 5


async def test_cancelling_a_pull_closes_the_file(inbox: Path) -> None:
    write_csv(inbox / "big.csv", "lusha", people(2000))
    source = make_source(inbox, page_rows=10)
    with trio.move_on_after(0):
        await collect(source)
    await source.aclose()
