"""Random faults on every kind of request, driven the way the engine drives a sink (write; on any doubt, find
before writing again): every lead ends written exactly once."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from halosync.contracts import WriteOp
from halosync.errors import ProviderError
from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake
from halosync_halopsa.sink import HaloSink
from tests.halopsa.conftest import halo_settings
from tests.halopsa.leads import company_ops, person_ops, sample_leads


async def drive(sink: HaloSink, ops: list[WriteOp], rounds: int = 30) -> dict[str, str]:
    """Write until every op has its sink id; after a failed round, reconcile with ``find`` first."""
    done: dict[str, str] = {}
    doubtful: list[WriteOp] = []
    for _ in range(rounds):
        todo = [op for op in ops if op.key not in done]
        if not todo:
            return done
        try:
            if doubtful:
                for op, record in zip(doubtful, await sink.find(doubtful), strict=True):
                    if record is not None:
                        done[op.key] = record.sink_id
                todo = [op for op in todo if op.key not in done]
            results = await sink.write(todo)
            done.update({r.key: str(r.sink_id) for r in results if r.ok})
            assert not [r for r in results if not r.ok and not r.retryable], results
            doubtful = [op for op, r in zip(todo, results, strict=True) if not r.ok]
        except ProviderError:
            doubtful = todo
        await trio.sleep(60)  # the engine's retry delay
    pytest.fail(f"{len(ops) - len(done)} ops still not written after {rounds} rounds")


@pytest.mark.parametrize("answer", ["array", "first"])
async def test_random_5xx_and_hangs_end_with_every_lead_written_once(
    answer: str, virtual_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    settings = FakeSettings(error_rate=0.1, hang_rate=0.05, lost_rate=0.15, post_answer=answer,  # type: ignore[arg-type]
                            seed=7)
    fake = FakeHalo(settings)
    sink = HaloSink(halo_settings(await nursery.start(serve_fake, fake), batch_size=5))
    leads = sample_leads(30, 4)
    cops = company_ops(leads)
    company_ids = await drive(sink, cops)
    pops = person_ops(leads, {op.key[2:]: company_ids[op.key] for op in cops})
    people = await drive(sink, pops)
    await sink.aclose()

    assert fake.count(status=500) > 3 and fake.count(status=504) > 1  # the chaos happened
    assert sum(1 for r in fake.log if r.method == "POST" and r.status == 201 and not r.answered) >= 2
    clients, users = fake.records("client"), fake.records("users")
    assert len(clients) == 30 and len(users) == 120  # nothing twice
    by_id = {u["id"]: u for u in users}
    assert all(by_id[int(people[op.key])]["emailaddress"] == op.fields["email"] for op in pops)
