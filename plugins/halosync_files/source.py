"""The file source: every CSV or XLSX export dropped into the watched folder becomes pages of leads.

A pull first settles what the committed cursor says is finished (row hashes promoted to the file's baseline, the
file moved to processed/ or failed/), then reads the ready files one by one, oldest first, ``page_rows`` rows per
page. Each page's cursor says how far into which version of which file the staged rows reach, so a crash resumes
at the next row: nothing lost, nothing staged twice. A file whose baseline (an earlier version of the same name)
holds a row unchanged skips that row; a file identical to its baseline is not parsed at all.

Rows that cannot be leads are ``Rejected`` with ``file:row`` and the reason (they become dead letters); a file that
cannot be read at all becomes one dead letter and goes to failed/ with a ``.reason.txt`` beside it.

The reading runs in a worker thread (file and SQLite I/O must not block the daemon's trio loop); only one page is
in memory at a time, so a file of a million rows is read in bounded memory.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from contextlib import aclosing
from pathlib import Path

import trio
from loguru import logger

from halosync.plugin import CheckResult, Lead, ProviderError, RateWindow, Rejected, SourcePage
from halosync_files import detect, folders, readers
from halosync_files.columns import Columns, NoHeader, find_header
from halosync_files.cursor import Cursor, Done
from halosync_files.settings import FilesSettings
from halosync_files.state import RowState, row_hash

_END = object()
FOLDER_HINT = "create it, or set [plugins.files] folder to the folder exports are dropped into"


class FilesSource:
    def __init__(self, settings: FilesSettings, state_path: Path, *, name: str = "files") -> None:
        self.name = name
        self.settings = settings
        self.state = RowState(state_path)

    # --- Source protocol -------------------------------------------------------------------------------

    async def pull(self, cursor: str | None, *, full: bool = False) -> AsyncIterator[SourcePage]:
        """The rows of every ready file in the folder not staged yet (with ``full``, every row of them)."""
        start = await trio.to_thread.run_sync(self._settle, Cursor.decode(cursor))
        paths = await trio.to_thread.run_sync(self._ready)
        async with aclosing(self._run(self._pages(start, paths, full=full))) as pages:
            async for page in pages:
                yield page

    async def pull_file(self, path: Path, cursor: str | None, *, full: bool = False) -> AsyncIterator[SourcePage]:
        """One file given by hand (``halosync import FILE``): read as if dropped, but left where it is."""
        start = await trio.to_thread.run_sync(self._settle, Cursor.decode(cursor))
        async with aclosing(self._run(self._pages(start, [path], full=full))) as pages:
            async for page in pages:
                yield page

    async def checks(self) -> list[CheckResult]:
        folder = self.settings.folder
        if not folder.is_dir():
            return [CheckResult("files folder", "fail", f"{folder} is not a directory",
                                FOLDER_HINT)]
        if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
            return [CheckResult("files folder", "fail", f"{folder} is not readable and writable by this user",
                                "the daemon moves read files to processed/ and failed/ inside it")]
        waiting = len(await trio.to_thread.run_sync(self._ready))
        return [CheckResult("files folder", "pass", f"{folder}: {waiting} file(s) ready to read")]

    def rate_limits(self) -> list[RateWindow]:
        return []  # local files have no quota

    async def aclose(self) -> None:
        self.state.close()

    # --- the work, in a worker thread ------------------------------------------------------------------

    async def _run(self, pages: Generator[SourcePage]) -> AsyncGenerator[SourcePage]:
        try:
            while (page := await trio.to_thread.run_sync(next, pages, _END)) is not _END:
                assert isinstance(page, SourcePage)
                yield page
        finally:
            pages.close()

    def _ready(self) -> list[Path]:
        s = self.settings
        try:
            return folders.ready(s.folder, s.patterns, settle=s.settle_seconds)
        except OSError as exc:  # missing, not a folder, not ours to read: the daemon shows the source degraded and
            # tries again with backoff (a share may be mounted again); reading nothing would hide it from the user
            raise ProviderError(self.name, f"cannot read the watched folder {s.folder} ({exc.strerror or exc}): "
                                f"{FOLDER_HINT}") from exc

    def _settle(self, cur: Cursor) -> Cursor:
        """Finish what the committed cursor says was read to the end; forget baselines the store does not have."""
        for identity in self.state.forget_after(cur.seq):
            logger.info("files: {} will be read in full again (the store's cursor is older than its last read)",
                        identity)
        for d in cur.done:
            if d.status == "processed":
                self.state.promote(d.identity, d.version, cur.seq)
            path = self.settings.folder / d.identity
            if path.is_file() and detect.scan(path).digest == d.version:  # not a newer file of the same name
                moved = folders.move_aside(path, folders.PROCESSED if d.status == "processed" else folders.FAILED,
                                           reason=d.reason)
                logger.info("files: {} moved to {}", d.identity, moved)
        return cur

    def _pages(self, cur: Cursor, paths: list[Path], *, full: bool) -> Generator[SourcePage]:
        if cur.done:  # commit that they are settled, so a later file of the same name is read, not moved
            cur = cur.settled()
            yield SourcePage([], cur.encode())
        for path in paths:
            try:
                found = detect.scan(path)
            except OSError as exc:
                logger.warning("files: cannot read {}: {}; trying again next pull", path, exc)
                continue
            identity, version = path.name, found.digest
            resume = cur.row if not full and (cur.file, cur.version) == (identity, version) else 0
            baseline = None if full else self.state.baseline(identity)
            if baseline == version:
                logger.info("files: {} is unchanged since it was read; nothing to stage", identity)
                cur = cur.finished(Done(identity, version, "processed"))
                yield SourcePage([], cur.encode())
                continue
            try:
                fmt = readers.sniff(path, found, encoding=self.settings.encoding, delimiter=self.settings.delimiter)
                with readers.open_rows(path, fmt, sheet=self.settings.sheet) as rows:
                    columns, _ = find_header(rows, self.settings.mappings, forced=self.settings.forced())
                    logger.info("files: reading {} ({}; mapping {}, header on row {}{})", identity, fmt.describe(),
                                columns.mapping.name, columns.header_row, f", resuming after row {resume}"
                                if resume else "")
                    for page, last in self._file_pages(columns, identity, version, baseline, rows, resume):
                        cur = cur.at(identity, version, last)
                        yield SourcePage(page[0], cur.encode(), page[1])
            except (readers.FileUnreadable, NoHeader, OSError) as exc:
                reason = f"{identity}: {exc}"
                if cur.file == identity and cur.row:
                    reason += f" (rows up to {cur.row} were staged)"
                logger.warning("files: {}; moving it to failed/", reason)
                cur = cur.finished(Done(identity, version, "failed", reason))
                yield SourcePage([], cur.encode(), [Rejected(identity, reason, {"file": identity})])
                continue
            cur = cur.finished(Done(identity, version, "processed"))
            yield SourcePage([], cur.encode())

    def _file_pages(self, columns: Columns, identity: str, version: str, baseline: str | None,
                    rows: Iterator[tuple[int, list[str]]], resume: int
                    ) -> Generator[tuple[tuple[list[Lead], list[Rejected]], int]]:
        salt = repr((columns.mapping.name, sorted(columns.where.items()))).encode()
        labels = self.settings.labels
        size = self.settings.page_rows
        batch: list[tuple[int, list[str]]] = []
        for number, cells in rows:
            if number <= resume:
                continue
            batch.append((number, cells))
            if len(batch) >= size:
                yield self._page(columns, identity, version, baseline, batch, salt, labels), batch[-1][0]
                batch = []
        if batch:
            yield self._page(columns, identity, version, baseline, batch, salt, labels), batch[-1][0]

    def _page(self, columns: Columns, identity: str, version: str, baseline: str | None,
              batch: list[tuple[int, list[str]]], salt: bytes, labels: tuple[str, ...]
              ) -> tuple[list[Lead], list[Rejected]]:
        hashes = [row_hash(salt, cells) for _, cells in batch]
        known = self.state.known(identity, baseline, hashes) if baseline else set()
        self.state.record(identity, version, hashes)
        leads: list[Lead] = []
        rejected: list[Rejected] = []
        for (number, cells), h in zip(batch, hashes, strict=True):
            if h in known:
                continue
            read = columns.read(self.name, identity, number, cells, labels)
            if isinstance(read, Lead):
                leads.append(read)
            elif read is not None:
                rejected.append(read)
        return leads, rejected
