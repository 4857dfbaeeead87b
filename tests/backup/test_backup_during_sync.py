"""A backup taken while the real engine syncs (fake Apollo into fake HaloPSA, real sockets) restores to a store
that passes every check: SQLite's integrity check, the schema version, and the data integrity checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from halosync.cli.commands.demo import DemoFakes
from halosync.cli.main import main
from halosync.store.models import Link, Outbox, StagedLead
from tests.e2e.rig import Rig


@pytest.fixture
async def rig(tmp_path: Path, db_url: str) -> AsyncIterator[Rig]:
    fakes = DemoFakes.create(200, seed=5, halo_rate=100_000)
    fakes.halo.settings.latency = 0.03  # so the sync lasts long enough to be caught in the middle
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        yield Rig(fakes, tmp_path / "run", db_url)
        nursery.cancel_scope.cancel()


def counts() -> tuple[int, int, int]:
    """staged leads, finished writes, links (run through a store, in its database thread)"""
    return StagedLead.select().count(), Outbox.select().where(Outbox.state == "done").count(), Link.select().count()


async def test_backup_during_a_running_sync_restores_intact(rig: Rig, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD", raising=False)  # the CLI loads plugins as installed
    rig.directory.mkdir()
    daemon = rig.daemon(once=True)
    config = rig.directory / "halosync.toml"  # written by rig.daemon()
    backups = rig.directory.parent / "backups"
    backups.mkdir()
    done = trio.Event()
    taken: list[tuple[int, int, int]] = []

    async def sync(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        assert await daemon.serve(task_status=task_status) == 0
        done.set()

    async with trio.open_nursery() as nursery:
        await nursery.start(sync)  # returns once the daemon runs (its schema exists)
        while not done.is_set() and len(taken) < 12 and not any(c[1] > 0 for c in taken):
            # Through the daemon's own store: a second Store in this process would re-point the models.
            before = await daemon.store.run(counts)
            name = backups / f"b{len(taken)}{'.db' if rig.db_url.startswith('sqlite') else '.dump'}"
            assert await trio.to_thread.run_sync(main, ["--config", str(config), "backup", str(name)]) == 0
            taken.append(before)
            await trio.sleep(0.05)  # pacing real work against real sockets, not a timing assertion
    final = rig.query(counts)
    capsys.readouterr()
    # What a backup holds is what its restore brings back: restore them, latest first, until one was taken in the
    # middle (leads staged, not every write done; writes land in batches, so a backup may fall between them).
    restored: list[tuple[int, int, int]] = []
    for i in reversed(range(len(taken))):
        backup = str(next(backups.glob(f"b{i}.*")))
        code = await trio.to_thread.run_sync(main, ["--config", str(config), "restore", backup])
        out = capsys.readouterr().out
        assert code == 0, out
        assert not [line for line in out.splitlines() if line.startswith("fail")], out
        assert "pass  store.integrity.cursor_not_ahead_of_committed_work" in out
        restored.append(rig.query(counts))
        if restored[-1][0] > 0 and restored[-1][1:] != final[1:]:
            break
    assert restored[-1][0] > 0 and restored[-1][1:] != final[1:], \
        f"no backup caught the sync in the middle: restored {restored}, counted before each backup {taken}, " \
        f"final {final}"
