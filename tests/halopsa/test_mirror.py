"""Listing for the mirror: large pages, every record once, canonical field names, incremental by watermark."""

from __future__ import annotations

import pytest

from halosync.contracts import MirrorPage
from halosync_halopsa.fake import FakeHalo
from halosync_halopsa.sink import HaloSink
from tests.halopsa.conftest import halo_settings


async def pages(sink: HaloSink, kind: str, since: str | None = None) -> list[MirrorPage]:
    return [page async for page in sink.list_records(kind, since=since)]  # type: ignore[arg-type]


async def test_full_listing_pages_through_everything_with_canonical_fields(fake: FakeHalo, halo_url: str) -> None:
    for n in range(2_500):
        client = fake.add_client(f"Client {n}", website=f"https://www.client{n}.example")
        fake.add_user(client["id"], firstname="Ada", surname=f"L{n}", emailaddress=f"ada@client{n}.example",
                      phonenumber="+1 555 0100")
    fake.tables["client"].rows[7]["inactive"] = True  # still a client halosync must not duplicate
    sink = HaloSink(halo_settings(halo_url, page_size=1000))
    companies = await pages(sink, "company")
    assert [len(p.records) for p in companies] == [100] * 25  # HaloPSA's cap, whatever page_size says
    records = [r for p in companies for r in p.records]
    assert len({r.sink_id for r in records}) == 2_500
    assert records[0].fields == {"name": "Client 0", "website": "https://www.client0.example",
                                 "domain": "client0.example"}
    assert companies[-1].watermark is not None and companies[-1].watermark.startswith("2500@")
    people = [r for p in await pages(sink, "person") for r in p.records]
    assert len(people) == 2_500
    assert people[3].fields == {"first_name": "Ada", "last_name": "L3", "full_name": "Ada L3",
                                "email": "ada@client3.example", "phone": "+1 555 0100"}
    assert people[3].parent_id == "4"
    assert fake.count("GET", "/api/client") == 25 and fake.count("GET", "/api/users") == 25
    await sink.aclose()


async def test_pages_cut_short_by_the_instance_do_not_end_the_listing(fake: FakeHalo, sink: HaloSink) -> None:
    fake.settings.max_page_size = 40  # the instance caps page_size below what was asked
    for n in range(130):
        fake.add_client(f"Client {n}")
    listed = await pages(sink, "company")
    assert sum(len(p.records) for p in listed) == 130 and len(listed) == 4


async def test_incremental_listing_reads_only_what_is_new(fake: FakeHalo, sink: HaloSink) -> None:
    for n in range(50):
        fake.add_client(f"Client {n}")
    watermark = (await pages(sink, "company"))[-1].watermark
    assert watermark is not None
    for n in range(3):
        fake.add_client(f"New {n}")  # created by people in HaloPSA meanwhile
    before = fake.count("GET", "/api/client")
    newer = await pages(sink, "company", since=watermark)
    assert [r.fields["name"] for p in newer for r in p.records] == ["New 0", "New 1", "New 2"]
    assert newer[-1].watermark == f"53@{watermark.split('@')[1]}" and fake.count("GET", "/api/client") - before == 1
    assert [r for p in await pages(sink, "company", since=newer[-1].watermark) for r in p.records] == []


async def test_a_full_listing_comes_round_again_to_see_what_people_changed(fake: FakeHalo, sink: HaloSink) -> None:
    for n in range(5):
        fake.add_client(f"Client {n}")
    fake.tables["client"].rows[2]["name"] = "Renamed in HaloPSA"
    day_old = "5@0"  # the last full listing was long ago (mirror_full_refresh: a day)
    listed = [r.fields["name"] for p in await pages(sink, "company", since=day_old) for r in p.records]
    assert len(listed) == 5 and "Renamed in HaloPSA" in listed


async def test_a_listing_without_record_count_ends_at_a_short_page(fake: FakeHalo, sink: HaloSink) -> None:
    fake.settings.record_count = False
    fake.settings.max_page_size = 30  # shorter than the 100 asked for: the first pages are not the end
    for n in range(75):
        fake.add_client(f"Client {n}")
    listed = await pages(sink, "company")
    assert [len(p.records) for p in listed] == [30, 30, 15]
    assert fake.count("GET", "/api/client") == 3  # the third page, shorter than the others, ends it


async def test_a_listing_without_record_count_of_one_short_page_asks_once_more(fake: FakeHalo,
                                                                               sink: HaloSink) -> None:
    fake.settings.record_count = False
    for n in range(7):
        fake.add_client(f"Client {n}")
    assert [len(p.records) for p in await pages(sink, "company")] == [7]
    assert fake.count("GET", "/api/client") == 2  # 7 of 100 may be the instance's own cut: the empty page says


@pytest.mark.parametrize("offset", ["capped", "asked"])
async def test_pages_are_asked_at_100_rows_whatever_page_size_says(fake: FakeHalo, halo_url: str,
                                                                   offset: str) -> None:
    fake.settings.page_offset = offset  # type: ignore[assignment]
    for n in range(717):
        fake.add_client(f"Client {n}")
    fake.tables["client"].rows[9]["inactive"] = True
    sink = HaloSink(halo_settings(halo_url, page_size=1000))  # an old config asking for more than HaloPSA gives
    listed = await pages(sink, "company")
    assert [len(p.records) for p in listed] == [100] * 7 + [17]  # every row once, the inactive one included
    assert len({r.sink_id for p in listed for r in p.records}) == 717
    assert {r.params for r in fake.log if r.route == "/api/client"} == {
        ("pageinate", "page_size", "page_no", "includeinactive", "order")}
    assert fake.count("GET", "/api/client") == 8  # the record count (717) ends it: no empty page asked for
    await sink.aclose()
