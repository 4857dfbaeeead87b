"""End to end: exports dropped into the watched folder reach the fake HaloPSA through a real daemon (engine, store,
planner, workers) over real sockets; the files end in processed/ and failed/, bad rows in the dead letters."""

from __future__ import annotations

from pathlib import Path

import trio

import halosync_builtin.matcher
import halosync_files.plugin
import halosync_halopsa.plugin
from halosync.cli.commands.demo import load_config
from halosync.daemon.app import Daemon
from halosync.engine.component import EngineComponent
from halosync.plugin.manager import PluginManager
from halosync.store.gateway import Store
from halosync.store.models import DeadLetter
from halosync_files.fake.generator import HOSTILE, people, write_csv, write_xlsx
from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake


def plugins() -> PluginManager:
    pm = PluginManager()
    for name, module in (("files", halosync_files.plugin), ("halopsa", halosync_halopsa.plugin),
                         ("match", halosync_builtin.matcher)):
        pm.register(module, name)
    pm.check()
    return pm


def write_config(directory: Path, inbox: Path, halo_url: str) -> Path:
    path = directory / "halosync.toml"
    path.write_text("\n".join([
        "[daemon]", f'state_dir = "{directory}"', f'control_socket = "{directory / "control.sock"}"',
        'log_level = "warning"', "", "[database]", f'url = "sqlite:///{directory / "halosync.db"}"', "",
        "[http]", 'listen = ""', "", "[sync]", "interval = 3600", "concurrency = 2", "",
        "[plugins.files]", f'folder = "{inbox}"', "settle_seconds = 0", "page_rows = 25", "",
        "[plugins.halopsa]", f'base_url = "{halo_url}"', 'client_id = "halosync"', 'client_secret = "fake-secret"',
        ""]), encoding="utf-8")
    return path


async def test_dropped_exports_reach_halopsa_through_the_daemon(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sales_nav = list(people(30, seed=31))
    event = list(people(20, seed=32, start=200))
    write_csv(inbox / "sales-navigator.csv", "sales_navigator", sales_nav, HOSTILE)
    write_xlsx(inbox / "event.xlsx", "event", event)
    (inbox / "notes.txt").write_text("call Bob back\n", encoding="utf-8")  # matches *.txt, is no export
    halo = FakeHalo(FakeSettings(rate_limit=10_000, rate_window=300.0, seed=3))
    pm = plugins()
    async with trio.open_nursery() as nursery:
        halo_url = await nursery.start(serve_fake, halo)
        path = write_config(tmp_path, inbox, halo_url)
        with trio.fail_after(60):  # `run --once` exits 1 for the run's dead letter (notes.txt)
            assert await Daemon(load_config(path, pm), pm, once=True, components=[EngineComponent()]).serve() == 1
        emails = {u.get("emailaddress") for u in halo.records("users")}
        assert {p.email for p in sales_nav + event} <= emails
        clients = {c["name"] for c in halo.records("client")}
        assert {p.company for p in sales_nav + event} <= clients
        users_before = len(halo.records("users"))

        with trio.fail_after(60):  # the next run moves the read files aside and writes nothing again
            assert await Daemon(load_config(path, pm), pm, once=True, components=[EngineComponent()]).serve() == 0
        assert len(halo.records("users")) == users_before
        nursery.cancel_scope.cancel()
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["event.xlsx", "sales-navigator.csv"]
    assert (inbox / "failed" / "notes.txt").exists()
    store = Store(f"sqlite:///{tmp_path / 'halosync.db'}")
    try:
        reasons = store.call(lambda: [d.reason for d in DeadLetter.select()])
    finally:
        store.close()
    assert len(reasons) == 1 and reasons[0].startswith("notes.txt: no header row")
