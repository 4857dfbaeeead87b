"""The daemon side of bench_webhooks: the real daemon with only the HTTP listener, the built-in webhook plugin
registered by hand. Prints the listener's URL on stdout once it is bound, then serves until SIGTERM."""

from __future__ import annotations

import sys
from pathlib import Path

import trio

from halosync import log
from halosync.config import loader
from halosync.daemon.app import Daemon
from halosync.http.server import HTTPComponent
from halosync.plugin.manager import PluginManager
from halosync_builtin import webhook_source


async def main(path: Path) -> int:
    manager = PluginManager()
    manager.register(webhook_source, "webhook")
    config = loader.load(path, manager.config_specs())
    log.setup(config)
    http = HTTPComponent()
    daemon = Daemon(config, manager, components=[http])
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.serve)
        print(http.url, flush=True)
    return daemon.exit_code


if __name__ == "__main__":
    sys.exit(trio.run(main, Path(sys.argv[1])))
