"""The pull's expected size, from Apollo's `total_entries`, carried on each page (`SourcePage.total`) for the
progress bar of `halosyncctl sync --follow`: a full pull knows it exactly from its first page, an incremental one
expects only what lies past its cursor, and the estimate never falls below what was already yielded."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

from halosync_apollo.fake import FakeApollo, GeneratorSpec
from tests.apollo.conftest import pull_all
from tests.apollo.test_pull import MakeSource


async def pages_of(source: Any, cursor: str | None = None, *, full: bool = False) -> list[tuple[int, int | None]]:
    """(records yielded so far, the page's total) per page."""
    out: list[tuple[int, int | None]] = []
    yielded = 0
    async with aclosing(source.pull(cursor, full=full)) as pages:
        async for page in pages:
            yielded += len(page.leads) + len(page.rejected)
            out.append((yielded, page.total))
    out.append((yielded, None if not out else out[-1][1]))
    return out


async def test_a_full_pull_knows_its_size_from_the_first_page(fake: FakeApollo, make_source: MakeSource) -> None:
    fake.generate(GeneratorSpec(count=1_500, seed=3, days=10))
    source = make_source()
    pages = await pages_of(source, full=True)
    assert len(pages) > 10  # many pages, each telling the same total
    assert {total for _, total in pages} == {1_500}
    assert pages[-1][0] == 1_500


async def test_an_incremental_pull_expects_only_what_is_past_its_cursor(fake: FakeApollo,
                                                                         make_source: MakeSource) -> None:
    generated = fake.generate(GeneratorSpec(count=1_500, seed=3, days=10))
    source = make_source()
    first = await pull_all(source)
    cursor = first.cursor
    for index in (5, 700, 1_499):
        fake.update_contact(generated.contacts[index]["id"], title="Edited")
    second = await pages_of(source, cursor)
    yielded, total = second[-1]
    assert yielded >= 3 and total is not None
    assert yielded <= total < 1_500 // 2, second  # past the cursor only, not the whole list
    assert all(total is None or total >= done for done, total in second)
