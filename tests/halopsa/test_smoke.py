from __future__ import annotations

from halosync_halopsa.fake import FakeHalo
from halosync_halopsa.sink import HaloSink
from tests.halopsa.leads import company_ops, person_ops, sample_leads


async def test_smoke(sink: HaloSink, fake: FakeHalo) -> None:
    leads = sample_leads(3, 2)
    results = await sink.write(company_ops(leads))
    assert all(r.ok for r in results), results
    ids = {op.lead.company.source_id: r.sink_id for op, r in zip(company_ops(leads), results)}
    results = await sink.write(person_ops(leads, ids))
    assert all(r.ok for r in results), results
    print(fake.stats())
