"""``halosync demo``: a complete local run with no credentials and no configuration file.

It starts the fake Apollo (a few hundred generated contacts, some of them duplicates of one another, some hard
negatives) and the fake HaloPSA in this process, writes a configuration pointing at them into a temporary
directory with a throw-away SQLite store, runs the real daemon for one cycle (``run --once``) with live progress,
and prints a summary. The control socket is up while it runs: ``halosyncctl --socket PATH status``.

The helpers (``DemoFakes``, ``write_config``, ``demo_plugins``) are also what the end-to-end tests and the
benchmarks use to wire the real plugins to the fakes.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio
from rich.console import Console
from rich.live import Live
from rich.table import Table

from halosync import log
from halosync.cli.common import guarded
from halosync.config import loader
from halosync.config.loader import Config
from halosync.daemon.app import Daemon
from halosync.plugin.manager import PluginManager

DEMO_KEY = "demo-key"


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="a complete local run against built-in fakes (no credentials needed)",
                       description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("--leads", type=int, default=300, help="sample contacts in the fake Apollo (default 300)")
    p.add_argument("--seed", type=int, default=7, help="seed of the sample data")
    p.add_argument("--stay", action="store_true", help="keep the daemon running after the first cycle (Ctrl-C ends)")
    p.set_defaults(handler=guarded(handle))


@dataclass
class DemoFakes:
    apollo: Any  # halosync_apollo.fake.FakeApollo
    halo: Any  # halosync_halopsa.fake.FakeHalo
    apollo_url: str = ""
    halo_url: str = ""

    @classmethod
    def create(cls, leads: int, seed: int, *, halo_rate: int = 300, duplicate_share: float = 0.12) -> DemoFakes:
        from halosync_apollo.fake import UNLIMITED, FakeApollo, GeneratorSpec
        from halosync_halopsa.fake import FakeHalo, FakeSettings

        apollo = FakeApollo([DEMO_KEY], default_limits=UNLIMITED)
        apollo.generate(GeneratorSpec(count=leads, seed=seed, duplicate_share=duplicate_share,
                                      hard_negative_share=0.03))
        return cls(apollo, FakeHalo(FakeSettings(rate_limit=halo_rate, rate_window=300.0, seed=seed)))

    async def serve(self, nursery: trio.Nursery) -> None:
        from halosync.provider.asgi import serve
        from halosync_halopsa.fake import serve_fake

        self.apollo_url = await nursery.start(serve, self.apollo)
        self.halo_url = await nursery.start(serve_fake, self.halo)


def write_config(directory: Path, apollo_url: str, halo_url: str, *, sync: Mapping[str, Any] | None = None,
                 match: Mapping[str, Any] | None = None, database_url: str = "", log_level: str = "warning",
                 halopsa: Mapping[str, Any] | None = None) -> Path:
    """A configuration file for a daemon wired to the fakes; returns its path."""
    sync_table = {"interval": 3600, "concurrency": 2, "retry_base": 0.5, "retry_cap": 5.0, **(sync or {})}
    lines = [
        "[daemon]", f'state_dir = "{directory}"', f'control_socket = "{directory / "control.sock"}"',
        f'log_level = "{log_level}"', "", "[database]", f'url = "{database_url or f"sqlite:///{directory}/halosync.db"}"',
        "", "[http]", 'listen = ""', "", "[sync]", *(f"{k} = {_toml(v)}" for k, v in sync_table.items()), "",
        "[plugins.apollo]", f'base_url = "{apollo_url}"', f'api_key = "{DEMO_KEY}"', "",
        "[plugins.halopsa]", f'base_url = "{halo_url}"', 'client_id = "halosync"', 'client_secret = "fake-secret"',
        *(f"{k} = {_toml(v)}" for k, v in (halopsa or {}).items()), "",
    ]
    if match:
        lines += ["[match]", *(f"{k} = {_toml(v)}" for k, v in match.items()), ""]
    path = directory / "halosync.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Mapping):
        return "{" + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def demo_plugins() -> PluginManager:
    """The built-in source, sink and matcher, registered by hand when entry points are not loaded."""
    import halosync_apollo.plugin
    import halosync_builtin.matcher
    import halosync_halopsa.plugin

    pm = PluginManager()
    pm.load_entry_points(allow=("apollo", "halopsa", "match"))
    loaded = set(pm.names())
    for name, module in (("apollo", halosync_apollo.plugin), ("halopsa", halosync_halopsa.plugin),
                         ("match", halosync_builtin.matcher)):
        if name not in loaded:
            pm.register(module, name)
    pm.check()
    return pm


def load_config(path: Path, plugins: PluginManager) -> Config:
    return loader.load(path, plugins.config_specs())


def handle(args: argparse.Namespace) -> int:
    console = Console()
    with tempfile.TemporaryDirectory(prefix="halosync-demo-") as tmp:
        return trio.run(_demo, Path(tmp), args, console)


async def _demo(directory: Path, args: argparse.Namespace, console: Console) -> int:
    fakes = DemoFakes.create(args.leads, args.seed)
    people = len(set(fakes.apollo.truth.values()))
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        plugins = demo_plugins()
        config = load_config(write_config(directory, fakes.apollo_url, fakes.halo_url), plugins)
        log.setup(config)
        daemon = Daemon(config, plugins, once=not args.stay)
        console.print(f"[bold]halosync demo[/]: fake Apollo at {fakes.apollo_url} with {args.leads} contacts "
                      f"({people} real people), fake HaloPSA at {fakes.halo_url}")
        console.print(f"state store: {config.database_url}")
        console.print(f"control socket: {config.get('daemon.control_socket')}  "
                      f"(try: halosyncctl --socket {config.get('daemon.control_socket')} status)")
        done = trio.Event()
        exit_code = 0

        async def run_daemon() -> None:
            nonlocal exit_code
            try:
                exit_code = await daemon.serve()
            finally:
                done.set()

        nursery.start_soon(run_daemon)
        await _progress(daemon, args.leads, done, console)
        summary = await _summary(daemon, fakes, people)
        nursery.cancel_scope.cancel()
    console.print(summary)
    return exit_code


async def _progress(daemon: Daemon, leads: int, done: trio.Event, console: Console) -> None:
    from halosync.engine.figures import queue_figures
    from halosync.engine.ledger import read_totals

    with Live(console=console, refresh_per_second=8, transient=True) as live:
        while not done.is_set():
            if daemon.engine.installed:  # the store is ready once the engine is up
                totals = await daemon.store.run(read_totals)
                queue = await daemon.store.run(queue_figures)
                live.update(f"[cyan]{daemon.state}[/]  staged {totals['seen']}/{leads}  "
                            f"created {totals['created']}  merged {totals['merged']}  "
                            f"queue {queue['pending']} pending, {queue['in_flight']} in flight  "
                            f"dead letters {queue['dead']}")
            with trio.move_on_after(0.125):
                await done.wait()


async def _summary(daemon: Daemon, fakes: DemoFakes, people: int) -> Table:
    from halosync.engine.ledger import read_totals
    from halosync.store.models import DeadLetter, StagedLead

    store = daemon.store  # the daemon has closed it; these reads reopen it for a moment
    totals = await store.run(read_totals)
    dead = await store.run(lambda: DeadLetter.select().count())
    review = await store.run(lambda: StagedLead.select().where(StagedLead.state == "review").count())
    store.close()
    table = Table(title="halosync demo: summary", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    users, clients = len(fakes.halo.records("users")), len(fakes.halo.records("client"))
    rows = [
        ("leads seen", totals["seen"]),
        ("HaloPSA users created", totals["created"]),
        ("HaloPSA clients created", totals["companies_created"]),
        ("updated", totals["updated"]),
        ("merged (duplicates joined to one record)", totals["merged"]),
        ("waiting for review (ambiguous)", review),
        ("dead letters", dead),
        ("Apollo API calls", len(fakes.apollo.requests())),
        ("HaloPSA API calls", len(fakes.halo.log)),
        ("HaloPSA users / real people in the sample", f"{users} / {people}"),
        ("HaloPSA clients", clients),
    ]
    for what, value in rows:
        table.add_row(what, str(value))
    return table
