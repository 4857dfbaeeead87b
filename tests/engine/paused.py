"""Proof that a paused engine declined work, for tests that would otherwise sleep and assert that nothing happened."""

from __future__ import annotations

from halosync.daemon.api import EngineAPI
from halosync.engine.engine import Engine
from tests.waiting import until


async def declined_while_paused(api: EngineAPI, rows: int) -> None:
    """Every sink worker, woken after ``rows`` rows were planned, looked and left them: what an unpaused engine
    would have written on that turn (instead of sleeping and hoping that nothing happened)."""
    assert isinstance(api, Engine) and api.paused
    before = api.paused_turns()
    api.wake()
    await until(api.paused_turns, lambda n: n >= before + api.concurrency,
                what=f"each of {api.concurrency} worker(s) to look at {rows} planned row(s) and leave them (paused)")

