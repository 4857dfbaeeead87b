"""HaloPSA sink: 10,000 new leads across 2,000 companies written to the fake HaloPSA over real sockets.

As the engine writes them: company ops first, then person ops (parent = the client's id), in batches of 100.
Reports the HaloPSA requests per lead (target <= 0.05) and what the run costs against the real limit of 300
requests per rolling 5 minutes, for both answers a multi-item POST may give (every object, or the first only).
Also what a full mirror refresh of the result costs.
"""

from __future__ import annotations

import time

import trio

from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake
from halosync_halopsa.settings import HaloSettings
from halosync_halopsa.sink import HaloSink
from tests.halopsa.leads import batches, company_ops, person_ops, sample_leads

TITLE = "halopsa"
Row = tuple[str, float | int | str, str, str]
LIMIT, WINDOW = 300, 300.0


async def _sync(companies: int, people: int, answer: str) -> dict[str, float]:
    fake = FakeHalo(FakeSettings(rate_limit=LIMIT, rate_window=WINDOW, post_answer=answer))  # type: ignore[arg-type]
    leads = sample_leads(companies, people)
    async with trio.open_nursery() as nursery:
        url = await nursery.start(serve_fake, fake)
        sink = HaloSink(HaloSettings(base_url=url, client_id="halosync", client_secret="fake-secret",
                                     requests_per_window=LIMIT, window_seconds=WINDOW))
        started = time.perf_counter()
        ids: dict[str, str] = {}
        for batch in batches(company_ops(leads), 100):
            for op, result in zip(batch, await sink.write(batch), strict=True):
                assert result.sink_id, result
                ids[op.key[2:]] = result.sink_id
        written = 0
        for batch in batches(person_ops(leads, ids), 100):
            written += sum(1 for r in await sink.write(batch) if r.ok)
        elapsed = time.perf_counter() - started
        write_requests = len(fake.log)
        throttled = fake.count(status=429)
        before = len(fake.log)
        mirrored = 0
        for kind in ("company", "person"):
            async for page in sink.list_records(kind):
                mirrored += len(page.records)
        mirror_requests = len(fake.log) - before
        await sink.aclose()
        nursery.cancel_scope.cancel()
    emails = [u["emailaddress"] for u in fake.records("users")]
    return {"leads": len(leads), "written": written, "requests": write_requests, "throttled": throttled,
            "elapsed": elapsed, "duplicates": len(emails) - len(set(emails)), "mirrored": mirrored,
            "mirror_requests": mirror_requests}


def run(quick: bool) -> list[Row]:
    companies, people = (400, 5) if quick else (2_000, 5)
    rows: list[Row] = []
    for answer in ("array", "first"):
        r = trio.run(_sync, companies, people, answer)
        per_lead = r["requests"] / r["leads"]
        # At the limit's steady pace (one request per second), and whether the run fits in one window.
        steady = r["requests"] * WINDOW / LIMIT
        rows += [
            (f"POST answers {answer}: leads written", int(r["written"]), f"of {int(r['leads']):,}",
             "all, no duplicates" if not r["duplicates"] else f"{int(r['duplicates'])} DUPLICATES"),
            (f"POST answers {answer}: HaloPSA requests", int(r["requests"]), "requests",
             f"{int(r['throttled'])} answered 429"),
            (f"POST answers {answer}: requests per lead", round(per_lead, 4), "req/lead", "<= 0.05"),
            (f"POST answers {answer}: time at 300 req / 5 min", round(steady / 60, 1), "min at 1 req/s",
             "fits in one 5-minute window" if r["requests"] <= LIMIT else f"{r['requests'] / LIMIT:.1f} windows"),
            (f"POST answers {answer}: measured wall time", round(r["elapsed"], 2), "s",
             "fake at 300 req / 5 min, no latency"),
            (f"POST answers {answer}: mirror refresh", int(r["mirror_requests"]), "requests",
             f"{int(r['mirrored']):,} records, pages of 1,000"),
        ]
    return rows
