"""Encodings, delimiters and the hostile shapes real exports come in are read to the same leads; a file that
cannot be read goes to failed/ with its reason and one dead letter."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from halosync_files.fake.generator import HOSTILE, Hostile, expected_id, people, write_csv, write_xlsx
from tests.files.helpers import collect, leads_of, make_source, rejected_of


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
async def test_each_encoding_and_delimiter_reads_the_same_leads(encoding: str, delimiter: str, inbox: Path) -> None:
    persons = list(people(15, seed=3))  # names with é, ö, ë, and an apostrophe (O'Brien)
    write_csv(inbox / "lusha.csv", "lusha", persons, Hostile(encoding=encoding, delimiter=delimiter))
    source = make_source(inbox)
    pages = await collect(source)
    await source.aclose()
    got = {lead.source_id: (lead.person.first_name, lead.person.last_name) for lead in leads_of(pages)}
    assert got == {expected_id("lusha", p): (p.first, p.last) for p in persons}
    assert rejected_of(pages) == []


async def test_every_hostile_variation_at_once_loses_no_row(inbox: Path) -> None:
    """BOM, ';', a title line, blank lines, quoted newlines and delimiters, a duplicated e-mail header whose first
    copy is empty, cells past the last header, Excel serial dates."""
    persons = list(people(40, seed=5))
    write_csv(inbox / "signups.csv", "event", persons, HOSTILE)
    source = make_source(inbox, page_rows=10)
    pages = await collect(source)
    await source.aclose()
    leads = {lead.source_id: lead for lead in leads_of(pages)}
    assert rejected_of(pages) == []
    assert set(leads) == {expected_id("event", p) for p in persons}
    for p in persons:
        lead = leads[expected_id("event", p)]
        assert lead.person.email == p.email  # from the second "Email" column: the first is empty
        assert lead.person.title == f"{p.title}\nEMEA; remote"
        assert lead.created_at is not None
        assert abs((lead.created_at.replace(tzinfo=None) - p.signed_up).total_seconds()) < 1


async def test_an_xlsx_export_with_a_title_row_numbers_and_dates(inbox: Path) -> None:
    persons = list(people(8, seed=9))
    write_xlsx(inbox / "zoominfo.xlsx", "zoominfo", persons, replace(HOSTILE, excel_dates=True))
    source = make_source(inbox)
    pages = await collect(source)
    await source.aclose()
    leads = {lead.source_id: lead for lead in leads_of(pages)}
    assert set(leads) == {expected_id("zoominfo", p) for p in persons}  # numeric ids read as "100003", not "100003.0"
    # row 1 the title, row 2 the header, row 7 blank: the rows Excel shows them on
    assert sorted(lead.raw["row"] for lead in leads.values()) == [3, 4, 5, 6, 8, 9, 10, 11]


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("binary.csv", b"\x00\x01\x02\x00\x00garbage", "binary content"),
    ("no-header.csv", b"just,some,values\n1,2,3\n", "no header row for any mapping in the first 20 rows"),
    ("empty.csv", b"", "the file is empty"),
    ("broken.xlsx", b"PK\x03\x04 this is not really a zip", "not a readable XLSX workbook"),
])
async def test_an_unreadable_file_becomes_a_dead_letter_and_goes_to_failed(name: str, content: bytes, reason: str,
                                                                          inbox: Path) -> None:
    (inbox / name).write_bytes(content)
    source = make_source(inbox)
    pages = await collect(source)
    [rejected] = rejected_of(pages)
    assert rejected.source_id == name and rejected.reason.startswith(f"{name}: ") and reason in rejected.reason
    assert leads_of(pages) == []
    assert (inbox / name).exists()  # moved aside only once the store has the dead letter (the next pull)
    await collect(source, pages[-1].cursor)
    await source.aclose()
    assert not (inbox / name).exists()
    assert (inbox / "failed" / name).read_bytes() == content
    assert reason in (inbox / "failed" / f"{name}.reason.txt").read_text(encoding="utf-8")


async def test_files_still_being_written_and_lock_files_are_left_alone(inbox: Path) -> None:
    write_csv(inbox / "fresh.csv", "lusha", people(2))
    write_csv(inbox / "~$fresh.xlsx", "lusha", people(2))
    write_csv(inbox / "download.csv.crdownload", "lusha", people(2))
    write_csv(inbox / ".hidden.csv", "lusha", people(2))
    source = make_source(inbox, settle_seconds=3600)  # fresh.csv was written just now
    assert await collect(source) == []
    await source.aclose()
    source = make_source(inbox)
    pages = await collect(source)
    await source.aclose()
    assert {lead.raw["file"] for lead in leads_of(pages)} == {"fresh.csv"}
