"""``halosync import FILE [--source NAME] [--full] [--json]``: stage one CSV/XLSX export into the store, offline.

The file goes through the same source plugin as a file dropped into its watched folder (a source offering
``pull_file``, ``halosync.contracts.FileSource``; the built-in one is ``files``): the same presets, detection,
change detection and dead letters, each page committed with the source's cursor, so an import that is
interrupted resumes where it stopped when run again. The file is left where it is. The daemon plans and writes
the staged leads when it next runs.

Refuses while a daemon runs on this state directory (the daemon's own pulls move the same cursor): drop the file
into the watched folder instead, or stop the daemon.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import trio

from halosync import log
from halosync.cli.common import guarded, load_all, print_json
from halosync.contracts import FileSource
from halosync.daemon import lock
from halosync.engine.ledger import Ledger
from halosync.engine.pull import closing, read_cursor
from halosync.engine.staging import StageResult, stage_page
from halosync.errors import HalosyncError
from halosync.exitcodes import EX_CONFIG, EX_OK, EX_PROBLEMS
from halosync.plugin.host import PluginHost
from halosync.store.gateway import Store


class ImportRefused(HalosyncError):
    pass


class NoFileSource(ImportRefused):
    exit_code = EX_CONFIG


def register(sub: Any) -> None:
    p = sub.add_parser("import", help="stage one CSV or XLSX lead export into the store (the daemon stopped)",
                       description="Stage FILE through a file source (default: files) as if it were dropped into "
                       "its watched folder: same column presets, change detection and dead letters. Resumes "
                       "where an interrupted import stopped. The daemon syncs the staged leads when it next runs.")
    p.add_argument("file", metavar="FILE", type=Path)
    p.add_argument("--source", default="files", metavar="NAME", help="the file source to stage under (files)")
    p.add_argument("--full", action="store_true",
                   help="stage every row, also those unchanged since the file was last read")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=guarded(handle))


def handle(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        raise ImportRefused(f"{path}: no such file")
    config, plugins = load_all(args)
    log.setup(config, level="warning")
    sources = plugins.sources(PluginHost(config))
    chosen = next((s for s in sources if s.name == args.source), None)
    if chosen is None:
        enabled = ", ".join(s.name for s in sources) or "none"
        raise NoFileSource(f"no source {args.source!r} is enabled (enabled: {enabled}); add [plugins.files] with "
                          "folder = \"...\" to halosync.toml")
    if not isinstance(chosen, FileSource):
        raise NoFileSource(f"source {args.source!r} does not read files; name a file source with --source")
    started = time.perf_counter()
    with lock.held_exclusively(config.state_dir):
        store = Store(config.database_url, timeout=config.get("database.timeout"),
                      pool_size=config.get("database.pool_size"))
        try:
            store.create_schema()
            totals, pages = trio.run(_import, store, chosen, path, args.full)
        finally:
            store.close()
    seconds = time.perf_counter() - started
    if args.json:
        print_json({"ok": True, "file": str(path), "source": chosen.name, "pages": pages, "staged": totals.staged,
                    "unchanged": totals.unchanged, "rejected": totals.rejected, "seconds": round(seconds, 3)})
    else:
        print(f"{path}: staged {totals.staged} lead(s) under {chosen.name} in {seconds:.1f} s "
              f"({totals.unchanged} unchanged, {totals.rejected} rejected)")
        if totals.rejected:
            print("the rejected rows are dead letters with file:row and reason: `halosyncctl dlq list`")
        if totals.staged:
            print("the daemon matches and writes them to the sinks when it next runs")
    return EX_OK if not totals.rejected else EX_PROBLEMS


async def _import(store: Store, source: FileSource, path: Path, full: bool) -> tuple[StageResult, int]:
    totals, pages = StageResult(), 0
    try:
        cursor, _ = await store.run(read_cursor, source.name)
        async with closing(source.pull_file(path, cursor, full=full)) as fetched:
            async for page in fetched:
                ledger = Ledger()

                def unit(leads: Any = page.leads, rejected: Any = page.rejected, at: Any = page.cursor,
                         ledger: Ledger = ledger) -> StageResult:
                    result = stage_page(source.name, leads, rejected, at, ledger, via="import")
                    ledger.flush()
                    return result

                totals.add(await store.transaction(unit))
                pages += 1
    finally:
        with trio.CancelScope(shield=True):
            await source.aclose()
    return totals, pages
