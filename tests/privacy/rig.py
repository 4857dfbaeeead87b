"""A daemon over the in-memory source and sink with extra configuration sections (issue 16's tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from halosync.config import loader
from halosync.daemon.app import Daemon
from halosync.engine.component import EngineComponent
from halosync.plugin.manager import PluginManager
from halosync.store.gateway import Store
from tests.engine.memory import MemoryPlugin


def make_daemon(directory: Path, db_url: str, plugin: MemoryPlugin, extra: str = "") -> Daemon:
    path = directory / "halosync.toml"
    path.write_text("\n".join([
        "[daemon]", f'state_dir = "{directory}"', "[database]", f'url = "{db_url}"', "[http]", 'listen = ""',
        "[sync]", "retry_base = 0.01", "retry_cap = 0.05", "max_attempts = 3", "interval = 3600", extra,
    ]), encoding="utf-8")
    pm = PluginManager()
    pm.register(plugin, "memory")
    return Daemon(loader.load(path, pm.config_specs()), pm, once=True, components=[EngineComponent()])


async def run_once(directory: Path, db_url: str, plugin: MemoryPlugin, extra: str = "") -> int:
    with trio.fail_after(30):
        return await make_daemon(directory, db_url, plugin, extra).serve()


def rows(db_url: str, fn: Any) -> Any:
    store = Store(db_url)
    try:
        store.create_schema()
        return store.call(fn)
    finally:
        store.close()
