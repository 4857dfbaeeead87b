"""The source conformance checks: subclass ``SourceConformance`` in a test module, next to a fixture
``halosync_source_fake`` that returns your ``SourceFake``::

    from halosync.testing import SourceConformance

    class TestMySource(SourceConformance):
        pass

Each check proves one promise of the ``Source`` contract that, broken, loses or repeats leads; a failure says
what was seen and what to change.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import cast

import pytest
import trio

from halosync.plugin import SourcePage
from halosync.testing.common import (
    GUIDE,
    assert_checks_fail_clearly,
    assert_nothing_lost,
    assert_pulls_to_the_end,
    assert_refused_for_good,
    assert_rejected_with_a_reason,
    carries,
    pull_past_malformed,
    retry_after_or_skip,
)
from halosync.testing.fakes import SourceFake
from halosync.testing.kit import SourceKit


@pytest.mark.trio
@pytest.mark.halosync_conformance
class SourceConformance:
    """The checks every ``Source`` must pass; fixtures ``halosync_source_fake`` (yours) and
    ``halosync_source_kit`` (the kit's) drive them."""

    async def test_pull_pages_to_the_end(self, halosync_source_kit: SourceKit) -> None:
        kit = halosync_source_kit
        await assert_pulls_to_the_end(kit.fake.add, kit.pull, kit.fake.page_size, per_page="provider page",
                                      lost="pull() must keep requesting pages until the provider has no more, "
                                      "yielding each as a SourcePage")

    async def test_a_restart_from_any_page_loses_nothing(self, halosync_source_kit: SourceKit) -> None:
        kit = halosync_source_kit
        ids = set(kit.fake.add(kit.fake.page_size * 3 + 1))
        first = await kit.pull()
        for n, cursor in enumerate(first.cursors, start=1):
            seen = {lead.source_id for page in first.pages[:n] for lead in page.leads}
            resumed = await kit.pull(cursor)  # the daemon crashed right after committing page n
            assert_nothing_lost(ids, seen | resumed.ids, f"a restart from the cursor of page {n}",
                                "A page's cursor must cover that page's leads and the pages before it, never a lead "
                                "not yet yielded (encode the position after the page's last record)")

    async def test_ties_across_a_page_boundary_are_not_lost(self, halosync_source_kit: SourceKit) -> None:
        kit = halosync_source_kit
        kit.fake.add(kit.fake.page_size)
        tied = set(kit.fake.add(kit.fake.page_size * 2 + 1, same_time=True))
        first = await kit.pull()
        assert_nothing_lost(tied, first.ids, "records sharing one change time",
                            "Records with the same change time must not be skipped at a page boundary: break ties "
                            "with a second key (the record id), or resume at the time itself and skip what was seen")
        for n, cursor in enumerate(first.cursors, start=1):
            seen = {lead.source_id for page in first.pages[:n] for lead in page.leads}
            resumed = await kit.pull(cursor)
            assert_nothing_lost(tied, seen | resumed.ids, f"a restart from page {n} amid tied change times",
                                "A cursor taken in the middle of records sharing one change time must still lead to "
                                "the rest of them: put the last record's id in the cursor beside its change time, and "
                                "resume after (time, id), or at the time itself skipping the ids already seen")

    async def test_edits_during_a_pull_arrive_by_the_next_pull(self, halosync_source_kit: SourceKit) -> None:
        kit = halosync_source_kit
        ordered = kit.fake.add(kit.fake.page_size * 3)
        ids = set(ordered)
        marks: dict[str, str] = {}

        def edit_some(page: int) -> None:
            if page == 1:  # one record already delivered, one not yet
                for source_id in (ordered[0], ordered[-1]):
                    marks[source_id] = kit.fake.edit(source_id)

        first = await kit.pull(between_pages=edit_some)
        second = await kit.pull(first.cursor)
        assert_nothing_lost(ids, first.ids | second.ids, "a pull during which records were edited",
                            "An edit while a pull is under way must not push records out of its reach")
        after_edit = first.leads[len(first.pages[0].leads):] + second.leads
        for source_id, mark in marks.items():
            assert any(lead.source_id == source_id and carries(lead, mark) for lead in after_edit), (
                f"record {source_id} was edited during a pull (it now carries {mark!r}), but neither the rest of "
                f"that pull nor the next one delivered the edit. The cursor must stand before every change not yet "
                f"delivered: resume from the change time of the last delivered record, not from the time of the "
                f"request ({GUIDE})")

    # Skips are decided in plain fixtures, before the trio test starts: a skip raised inside one loses its reason
    # in pytest-trio's report ("Skipped"), and an author deserves to read why a check did not run.
    @pytest.fixture
    def quota_reported(self, halosync_source_fake: SourceFake) -> None:
        if not halosync_source_fake.reports_quota:
            pytest.skip("the fake says the provider reports no quota headers")

    @pytest.fixture(params=[1.0, None], ids=["with-retry-after", "without-retry-after"])
    def retry_after(self, request: pytest.FixtureRequest, halosync_source_fake: SourceFake) -> float | None:
        return retry_after_or_skip(request.param, halosync_source_fake.sends_retry_after)

    @pytest.mark.usefixtures("quota_reported")
    async def test_quota_headers_show_in_rate_limits(self, halosync_source_kit: SourceKit) -> None:
        kit = halosync_source_kit
        kit.fake.add(kit.fake.page_size)
        await kit.pull()
        pulled_with = kit.made[-1]
        before = len(kit.faults.requests)
        windows = pulled_with.rate_limits()
        assert len(kit.faults.requests) == before, (
            f"rate_limits() made a request: it must only report what earlier answers said ({GUIDE})")
        assert any(w.limit is not None or w.remaining is not None for w in windows), (
            f"after a pull rate_limits() reports {windows!r}: read the provider's quota headers from every answer "
            "into RateWindow(limit, used, remaining, reset_at) so `halosyncctl` and the metrics show them "
            "(halosync.plugin.HeaderQuota does it for most header schemes)")

    async def test_a_429_is_waited_out_and_loses_nothing(self, halosync_source_kit: SourceKit,
                                                         retry_after: float | None) -> None:
        kit = halosync_source_kit
        ids = set(kit.fake.add(kit.fake.page_size * 2 + 1))
        throttled_at: list[float] = []

        def throttle(page: int) -> None:
            if page == 1:
                kit.faults.throttle(retry_after=retry_after)
                throttled_at.append(trio.current_time())

        with trio.move_on_after(120) as scope:
            pulled = await kit.pull(between_pages=throttle)
        assert not scope.cancelled_caught, (
            "after one 429 the pull did not finish within 120 s: wait (Retry-After, or backoff when it is absent) "
            "and retry, or raise RateLimited so the daemon retries")
        assert kit.faults.pending() == 0, "the pull ended before making the request the kit answered 429"
        assert_nothing_lost(ids, pulled.ids, f"a pull that met a 429 ({'with' if retry_after else 'without'} "
                            "Retry-After)", "After a 429, retry the same request; never move past the page")
        if retry_after is not None:
            waited = trio.current_time() - throttled_at[0]
            assert waited >= retry_after * 0.9, (
                f"after a 429 with Retry-After: {retry_after:g} the pull retried and finished {waited:.2f} s "
                "later: wait at least Retry-After before the next request (halosync.plugin.parse_retry_after)")

    async def test_malformed_records_become_rejected_with_a_reason(self, halosync_source_kit: SourceKit) -> None:
        kit = halosync_source_kit
        ids = set(kit.fake.add(3))
        bad = kit.fake.add_malformed()
        pulled = await pull_past_malformed(kit.pull)
        assert_rejected_with_a_reason(pulled, ids)
        if bad is not None:
            assert bad not in pulled.ids, f"record {bad} is malformed yet became a lead"
            assert any(r.source_id == bad for r in pulled.rejected), (
                f"the malformed record {bad} was rejected without its source_id: set Rejected.source_id")

    async def test_checks_fail_clearly_on_bad_credentials(self, halosync_source_kit: SourceKit) -> None:
        kit = halosync_source_kit
        await assert_checks_fail_clearly(kit.source().checks, kit.source(credentials_ok=False).checks)

        async def first_page() -> object:
            pages = cast("AsyncGenerator[SourcePage, None]", kit.source(credentials_ok=False).pull(None))
            async with aclosing(pages):
                return await anext(pages, None)

        await assert_refused_for_good(first_page, "a pull")


__all__ = ["SourceConformance"]
