"""Shared by the file-source tests: a source over a temporary folder, pulls collected, pages staged in a store."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from halosync.contracts import Rejected, SourcePage
from halosync.engine.ledger import Ledger
from halosync.engine.pull import read_cursor
from halosync.engine.staging import stage_page
from halosync.model import Lead
from halosync.store.gateway import Store
from halosync_files.settings import FilesSettings
from halosync_files.source import FilesSource


def make_source(folder: Path, **table: Any) -> FilesSource:
    settings = FilesSettings.from_table({"folder": str(folder), "settle_seconds": 0, **table})
    return FilesSource(settings, folder.parent / "state" / "files.sqlite3")


async def collect(source: FilesSource, cursor: str | None = None, *, full: bool = False) -> list[SourcePage]:
    return [page async for page in source.pull(cursor, full=full)]


def leads_of(pages: Iterable[SourcePage]) -> list[Lead]:
    return [lead for page in pages for lead in page.leads]


def rejected_of(pages: Iterable[SourcePage]) -> list[Rejected]:
    return [r for page in pages for r in page.rejected]


def last_cursor(pages: list[SourcePage], before: str | None = None) -> str | None:
    return pages[-1].cursor if pages else before


async def stage(store: Store, source: FilesSource, page: SourcePage) -> None:
    """One page and its cursor in one transaction, as the daemon's pull commits it."""

    def unit() -> None:
        ledger = Ledger()
        stage_page(source.name, page.leads, page.rejected, page.cursor, ledger)
        ledger.flush()

    await store.transaction(unit)


async def committed_cursor(store: Store, name: str = "files") -> str | None:
    return (await store.run(read_cursor, name))[0]
