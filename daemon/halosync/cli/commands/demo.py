"""``halosync demo``: a complete local run with no credentials and no configuration file.

It starts the fake Apollo (a few hundred generated contacts, some of them duplicates of one another, some hard
negatives) and the fake HaloPSA in this process, writes a configuration pointing at them into a temporary
directory with a throw-away SQLite store, runs the real daemon for one cycle (``run --once``) with live progress,
and prints a summary. With ``--keep-running`` the daemon stays up after the summary, with its HTTP listener on
(``/health``, ``/metrics``, ``/webhooks/...``) and its control socket, until Ctrl-C; it prints the exact
``halosyncctl`` command (the one installed beside this ``halosync``) and the URLs to try.

The helpers (``DemoFakes``, ``write_config``, ``demo_plugins``) are also what the end-to-end tests and the
benchmarks use to wire the real plugins to the fakes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
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
    p.add_argument("--keep-running", "--stay", "--serve", action="store_true", dest="stay",
                   help="after the first cycle and its summary, keep the daemon up with its HTTP listener on "
                        "(/health, /metrics, webhooks) and its control socket, until Ctrl-C")
    p.add_argument("--listen", metavar="HOST:PORT", default="",
                   help="with --keep-running: the HTTP listener's address (default 127.0.0.1:8787, or a free port "
                        "when that one is taken)")
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
                 halopsa: Mapping[str, Any] | None = None, listen: str = "") -> Path:
    """A configuration file for a daemon wired to the fakes; returns its path."""
    sync_table = {"interval": 3600, "concurrency": 2, "retry_base": 0.5, "retry_cap": 5.0, **(sync or {})}
    lines = [
        "[daemon]", f'state_dir = "{directory}"', f'control_socket = "{directory / "control.sock"}"',
        f'log_level = "{log_level}"', "", "[database]", f'url = "{database_url or f"sqlite:///{directory}/halosync.db"}"',
        "", "[http]", f'listen = "{listen}"', "", "[sync]", *(f"{k} = {_toml(v)}" for k, v in sync_table.items()), "",
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


def ctl_command() -> str:
    """How to run ``halosyncctl`` from here: the one installed beside this interpreter (a venv's bin, which need not
    be on PATH after ``make demo``), else the one on PATH, else the module."""
    beside = Path(sys.executable).with_name("halosyncctl")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    on_path = shutil.which("halosyncctl")
    return on_path or f"{sys.executable} -m halosync.cli.ctl"


def free_listen_address(preferred: str = "127.0.0.1:8787") -> str:
    """``preferred`` when its port is free, else a free port on the same host."""
    host, _, port = preferred.rpartition(":")
    for candidate in (int(port), 0):
        with socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET) as probe:
            try:
                probe.bind((host.strip("[]"), candidate))
            except OSError:
                continue
            return f"{host}:{probe.getsockname()[1]}"
    return preferred


async def _demo(directory: Path, args: argparse.Namespace, console: Console) -> int:
    fakes = DemoFakes.create(args.leads, args.seed)
    people = len(set(fakes.apollo.truth.values()))
    listen = (args.listen or free_listen_address()) if args.stay else ""
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        plugins = demo_plugins()
        config = load_config(write_config(directory, fakes.apollo_url, fakes.halo_url, listen=listen), plugins)
        log.setup(config)
        daemon = Daemon(config, plugins, once=not args.stay)
        socket_path = config.get("daemon.control_socket")
        # soft_wrap: a path or URL stays on one line, to copy (the terminal wraps it, rich does not break it)
        console.print(f"[bold]halosync demo[/]: fake Apollo at {fakes.apollo_url} with {args.leads} contacts "
                      f"({people} real people), fake HaloPSA at {fakes.halo_url}", soft_wrap=True)
        console.print(f"state store: {config.database_url}", soft_wrap=True)
        console.print(f"control socket: {socket_path}" + ("" if args.stay else
                      "  (the demo ends after one cycle; --keep-running keeps it up to try halosyncctl)"),
                      soft_wrap=True)
        done = trio.Event()
        exit_code = 0

        async def run_daemon() -> None:
            nonlocal exit_code
            try:
                exit_code = await daemon.serve()
            finally:
                done.set()

        nursery.start_soon(run_daemon)
        first_cycle = trio.Event()
        if args.stay:
            nursery.start_soon(_watch_first_cycle, daemon, done, first_cycle)
        await _progress(daemon, args.leads, done if not args.stay else first_cycle, console)
        if args.stay and not done.is_set():
            console.print(await _summary(daemon, fakes, people, close=False))
            _print_try(console, ctl_command(), str(socket_path), listen)
            await done.wait()  # Ctrl-C (SIGINT) stops the daemon, which drains and returns
        summary = await _summary(daemon, fakes, people)
        nursery.cancel_scope.cancel()
    console.print(summary)
    return exit_code


def _print_try(console: Console, ctl: str, socket_path: str, listen: str) -> None:
    base = f"http://{listen}"
    console.print("[bold]the demo keeps running[/] (Ctrl-C ends it). Try, in another terminal:")
    for line in (f"{ctl} --socket {socket_path} status", f"{ctl} --socket {socket_path} queue",
                 f"{ctl} --socket {socket_path} trace <an email from the status or the fake's data>",
                 f"curl -s {base}/health", f"curl -s {base}/metrics | grep ^halosync_",
                 f"curl -s -X POST {base}/webhooks/test -d '{{}}'   # explains a webhook signature check"):
        console.print(f"  {line}", highlight=False, soft_wrap=True)


async def _watch_first_cycle(daemon: Daemon, done: trio.Event, first_cycle: trio.Event) -> None:
    """Set ``first_cycle`` once every source has pulled once and the queue is drained (the --keep-running demo's
    summary point)."""
    from halosync.engine.figures import queue_figures

    while not done.is_set():
        if daemon.engine.installed:
            sources = await daemon.engine.sources_status()
            queue = await daemon.store.run(queue_figures)
            pulled = bool(sources) and all(s.get("last_success_at") and not s.get("running")
                                           for s in sources.values())
            if pulled and queue["pending"] + queue["in_flight"] + queue["staged_pending"] == 0:
                break
        with trio.move_on_after(0.25):
            await done.wait()
    first_cycle.set()


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


async def _summary(daemon: Daemon, fakes: DemoFakes, people: int, *, close: bool = True) -> Table:
    from halosync.engine.ledger import read_totals
    from halosync.store.models import DeadLetter, StagedLead

    store = daemon.store  # once the daemon has closed it, these reads reopen it for a moment
    totals = await store.run(read_totals)
    dead = await store.run(lambda: DeadLetter.select().count())
    review = await store.run(lambda: StagedLead.select().where(StagedLead.state == "review").count())
    if close:
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
