"""The sink conformance checks: subclass ``SinkConformance`` in a test module, next to a fixture
``halosync_sink_fake`` that returns your ``SinkFake``::

    from halosync.testing import SinkConformance

    class TestMySink(SinkConformance):
        pass

Each check proves one promise of the ``Sink`` contract that, broken, loses leads or writes a record twice; a
failure says what was seen and what to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import trio

from halosync.plugin import ProviderError, RateWindow, WriteOp
from halosync.testing.common import assert_checks_fail_clearly, assert_refused_for_good, retry_after_or_skip
from halosync.testing.fakes import SinkFake
from halosync.testing.kit import SinkKit

GUIDE = "docs/plugins.md, halosync_sinks"


def _differences(wanted: Mapping[str, Any], got: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (v, got.get(k)) for k, v in wanted.items() if got.get(k) != v}


@pytest.mark.trio
@pytest.mark.halosync_conformance
class SinkConformance:
    """The checks every ``Sink`` must pass; fixtures ``halosync_sink_fake`` (yours) and ``halosync_sink_kit``
    (the kit's) drive them."""

    async def test_creates_and_updates_in_batches(self, halosync_sink_kit: SinkKit) -> None:
        kit = halosync_sink_kit
        sink = await kit.started()
        assert sink.batch_size >= 1, f"batch_size is {sink.batch_size}: it is the most ops one write() takes"
        assert kit.fake.kind in sink.kinds, f"the sink's kinds {sink.kinds} lack the fake's kind {kit.fake.kind!r}"
        before = kit.fake.count()
        ops = kit.creates(max(2, min(sink.batch_size, 5)))
        results = await sink.write(ops)
        assert [r.key for r in results] == [op.key for op in ops], (
            f"write() answered keys {[r.key for r in results]} for ops {[op.key for op in ops]}: return one "
            f"WriteResult per op, in order, with the op's key ({GUIDE})")
        refused = [r for r in results if not r.ok]
        assert not refused, f"creates were refused: {refused!r}"
        assert kit.fake.count() == before + len(ops), (
            f"{len(ops)} creates made {kit.fake.count() - before} record(s) in the provider")
        ids = [str(r.sink_id) for r in results]
        fetched = await sink.fetch(kit.fake.kind, ids)
        assert set(fetched) == set(ids), f"fetch() of the records just created found only {sorted(fetched)}"
        for op, sink_id in zip(ops, ids, strict=True):
            shown = {k: v for k, v in op.fields.items() if k in fetched[sink_id].fields}
            assert shown, (f"fetch() shows none of the fields written ({dict(op.fields)}) for {sink_id}: "
                           "describe records with canonical field names (halosync.plugin.COMPANY_FIELDS)")
            assert not _differences(shown, fetched[sink_id].fields), (
                f"record {sink_id} was created with {dict(op.fields)} but fetch() shows {fetched[sink_id].fields}")
        updates = [WriteOp(f"{op.key}-update", op.kind, "update", dict(kit.fake.changed_fields(n)), sink_id=sink_id)
                   for n, (op, sink_id) in enumerate(zip(ops, ids, strict=True), start=1)]
        results = await sink.write(updates)
        assert all(r.ok for r in results), f"updates were refused: {[r for r in results if not r.ok]!r}"
        assert [r.sink_id for r in results] == ids, (
            f"updates answered sink ids {[r.sink_id for r in results]} for records {ids}: an update's result "
            "carries the id of the record it changed")
        assert kit.fake.count() == before + len(ops), "updates created records: an update must change the one "\
                                                      "named by WriteOp.sink_id"
        fetched = await sink.fetch(kit.fake.kind, ids)
        for op in updates:
            wrong = _differences(op.fields, fetched[str(op.sink_id)].fields)
            assert not wrong, f"after an update of {op.sink_id}, fetch() shows (wanted, got) {wrong}"

    async def test_a_lost_answer_then_find_makes_no_second_record(self, halosync_sink_kit: SinkKit) -> None:
        kit = halosync_sink_kit
        sink = await kit.started()
        before = kit.fake.count()
        ops = kit.creates(2)
        kit.faults.lose_answer(matches=kit.fake.is_write)
        settled: dict[str, str] = {}
        try:
            results = await sink.write(ops)
        except ProviderError as exc:
            assert exc.retryable, (
                f"a write whose answer was lost raised a non-retryable {type(exc).__name__} ({exc}): the outcome is "
                "unknown, not refused; raise a retryable ProviderError (TransientProviderError)")
        else:
            # A sink may settle an unknown outcome itself (looking the records up), or leave it to the daemon.
            wrong = [r for r in results if not r.ok and not r.retryable]
            assert not wrong, (
                f"a write whose answer was lost (the provider answered 504) reported {wrong!r} as refused: the "
                "outcome is unknown; raise a retryable ProviderError, return retryable results, or look the "
                "records up")
            settled = {r.key: str(r.sink_id) for r in results if r.ok}
        assert kit.faults.pending() == 0, "write() made no request the kit could lose the answer of (is_write?)"
        made = kit.fake.count() - before
        assert made == len(ops), (
            f"after a lost answer the provider holds {made} new record(s) for {len(ops)} ops: "
            + ("write() retried a create blindly; never retry a create whose outcome is unknown, the daemon asks "
               "find() first" if made > len(ops) else "the kit's lost answer should have let the write through"))
        found = await sink.find(ops)
        assert len(found) == len(ops), f"find() answered {len(found)} results for {len(ops)} ops: one per op"
        for op, record in zip(ops, found, strict=True):
            assert op.key not in settled or record is None or record.sink_id == settled[op.key], (
                f"write() reported {op.key} written as {settled[op.key]}, but find() points at {record}")
        lost = [op.key for op, record in zip(ops, found, strict=True) if record is None]
        assert not lost, (
            f"find() did not recognise the records written for {lost}: the daemon would write them again, making "
            "a second record each. Recognise a record by what the op wrote (a stored idempotency key, or its "
            f"identifying fields) ({GUIDE}, find)")
        again = await kit.write_settled(sink, ops, in_flight=True)  # the daemon's retry: find first
        assert kit.fake.count() - before == len(ops) and len(again) == len(ops)

    async def test_find_answers_none_for_ops_never_written(self, halosync_sink_kit: SinkKit) -> None:
        kit = halosync_sink_kit
        sink = await kit.started()
        kit.fake.add(3)
        found = await sink.find(kit.creates(2))
        assert found == [None, None], (
            f"find() matched ops that were never written to records {found!r}: the daemon would then skip "
            "writing those leads. Match only records written for the op")

    # Skips are decided in plain fixtures, before the trio test starts (see source_checks): the reason shows.
    @pytest.fixture
    def bad_fields(self, halosync_sink_fake: SinkFake) -> Mapping[str, Any]:
        fields = halosync_sink_fake.refused_fields()
        if fields is None:
            pytest.skip("the fake says the provider refuses no record on its own")
        return fields

    @pytest.fixture(params=[1.0, None], ids=["with-retry-after", "without-retry-after"])
    def retry_after(self, request: pytest.FixtureRequest, halosync_sink_fake: SinkFake) -> float | None:
        return retry_after_or_skip(request.param, halosync_sink_fake.sends_retry_after)

    async def test_refused_items_are_reported_per_item(self, halosync_sink_kit: SinkKit,
                                                       bad_fields: Mapping[str, Any]) -> None:
        kit = halosync_sink_kit
        sink = await kit.started()
        good = kit.creates(2)
        bad = WriteOp("halosync-testing-refused", kit.fake.kind, "create", dict(bad_fields))
        ops = [good[0], bad, good[1]]
        try:
            results = await sink.write(ops)
        except ProviderError as exc:
            raise AssertionError(
                f"one refused record made the whole write raise {type(exc).__name__}: {exc}. Report it as that "
                "op's WriteResult(error=...) and still write the others (split the batch when the provider refuses "
                f"it whole) ({GUIDE})") from exc
        assert [r.key for r in results] == [op.key for op in ops], "one WriteResult per op, in order"
        assert not results[1].ok and (results[1].error or "").strip(), (
            f"the record the provider refuses came back as {results[1]!r}: set WriteResult.error to the "
            "provider's own words")
        assert results[0].ok and results[2].ok, (
            f"the records beside a refused one were not written: {results[0]!r}, {results[2]!r}")

    async def test_list_records_pages_and_resumes_from_its_watermark(self, halosync_sink_kit: SinkKit) -> None:
        kit = halosync_sink_kit
        sink = await kit.started()
        kit.fake.add(kit.fake.page_size * 2 + 1)
        pages = await kit.listing(sink)
        listed = [r.sink_id for p in pages for r in p.records]
        assert len(set(listed)) == kit.fake.count(), (
            f"list_records() listed {len(set(listed))} distinct records of {kit.fake.count()}: page through all "
            f"of them ({GUIDE}, list_records)")
        assert len(listed) == len(set(listed)), "list_records() listed some records twice"
        assert len(pages) >= 3, (
            f"list_records() yielded {len(pages)} page(s) for {len(listed)} records at {kit.fake.page_size} a "
            "page: yield a MirrorPage per provider page, so memory stays bounded")
        watermark = pages[-1].watermark
        assert watermark is not None, (
            "the last page of a full listing carries no watermark: every refresh would read the whole CRM. Set "
            "MirrorPage.watermark to where an incremental listing resumes")
        settled = await kit.write_settled(sink, kit.creates(2))
        newer = [r.sink_id for p in await kit.listing(sink, since=watermark) for r in p.records]
        missing = set(settled.values()) - set(newer)
        assert not missing, f"list_records(since=watermark) missed records created after it: {sorted(missing)}"
        assert len(newer) < len(listed), (
            f"list_records(since=watermark) re-listed {len(newer)} records: skip what the watermark covers")

    async def test_a_rate_limited_write_is_waited_out(self, halosync_sink_kit: SinkKit,
                                                      retry_after: float | None) -> None:
        kit = halosync_sink_kit
        sink = await kit.started()
        before = kit.fake.count()
        ops = kit.creates(1)
        kit.faults.throttle(retry_after=retry_after, matches=kit.fake.is_write)
        started = trio.current_time()
        with trio.move_on_after(120) as scope:
            settled = await kit.write_settled(sink, ops)
        assert not scope.cancelled_caught, "a write that met one 429 was not done within 120 s"
        assert kit.faults.pending() == 0, "write() made no request the kit could answer 429 (is_write?)"
        assert len(settled) == 1 and kit.fake.count() == before + 1, (
            f"a write that met a 429 made {kit.fake.count() - before} records: a 429 means not carried out; "
            "retry it once")
        if retry_after is not None:
            assert trio.current_time() - started >= retry_after * 0.9, (
                f"after a 429 with Retry-After: {retry_after:g} the write was retried sooner: wait at least that")
        asked = len(kit.faults.requests)
        windows = sink.rate_limits()
        assert len(kit.faults.requests) == asked, "rate_limits() made a request: report what answers said"
        assert all(isinstance(w, RateWindow) for w in windows), f"rate_limits() returned {windows!r}"

    async def test_checks_fail_clearly_on_bad_credentials(self, halosync_sink_kit: SinkKit) -> None:
        kit = halosync_sink_kit
        await assert_checks_fail_clearly((await kit.started()).checks, kit.sink(credentials_ok=False).checks)
        await assert_refused_for_good(kit.sink(credentials_ok=False).start, "start()")
