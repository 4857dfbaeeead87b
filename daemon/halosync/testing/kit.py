"""The kit's handles on a fake: ``SourceKit`` and ``SinkKit`` make plugin objects pointed at a served fake, close them
afterwards, arm faults, and drive the objects the way the daemon does (page by page, retrying what it retries);
``FileSourceKit`` does the same for a file source over the folder its fake writes into."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from halosync.plugin import Lead, MirrorPage, ProviderError, Rejected, Sink, Source, SourcePage, WriteOp
from halosync.testing.fakes import FileSourceFake, SinkFake, SourceFake
from halosync.testing.faults import FaultyApp

RESTARTS = 3  # how often the kit resumes a pull or retries a write after a retryable error, as the daemon would
IN_FLIGHT = 2  # pages a crash leaves fetched but never committed: the daemon's pull fetches ahead of staging
# (halosync.engine.pull.PREFETCH), so a source may have read them, and must not count them as delivered
POLLS = 10  # pulls in a row that ``FileSourceKit.poll`` allows before it calls the source endless


@dataclass
class Pulled:
    """What a pull delivered, page by page."""

    pages: list[SourcePage] = field(default_factory=list)
    restarts: int = 0  # resumed from the last cursor after a retryable error

    @property
    def leads(self) -> list[Lead]:
        return [lead for page in self.pages for lead in page.leads]

    @property
    def rejected(self) -> list[Rejected]:
        return [r for page in self.pages for r in page.rejected]

    @property
    def ids(self) -> set[str]:
        return {lead.source_id for lead in self.leads}

    @property
    def cursors(self) -> list[str | None]:
        return [page.cursor for page in self.pages]

    @property
    def cursor(self) -> str | None:
        """Where the next pull starts: the last cursor a page carried (the daemon keeps the old one on None)."""
        return next((c for c in reversed(self.cursors) if c is not None), None)


@dataclass
class SourceKit:
    fake: SourceFake
    faults: FaultyApp
    base_url: str
    made: list[Source] = field(default_factory=list)

    def source(self, *, credentials_ok: bool = True) -> Source:
        source = self.fake.source(self.base_url, credentials_ok=credentials_ok)
        self.made.append(source)
        return source

    async def pull(self, cursor: str | None = None, *, stop_after: int | None = None,
                   between_pages: Callable[[int], None] | None = None, restart: bool = True) -> Pulled:
        """Drain a pull from ``cursor`` with a new source, as the daemon does: see ``drive``."""
        return await drive(self.source, cursor, stop_after=stop_after, between_pages=between_pages, restart=restart)


async def drive(new_source: Callable[[], Source], cursor: str | None = None, *, stop_after: int | None = None,
                between_pages: Callable[[int], None] | None = None, restart: bool = True) -> Pulled:
    """Drain a pull from ``cursor`` with a source from ``new_source()``, as the daemon does: every page's cursor is
    committed with its leads; ``stop_after`` pages is a crash; ``between_pages(n)`` runs after the n-th page. A
    retryable ``ProviderError`` resumes from the last committed cursor with a new source (``restart``)."""
    out = Pulled()
    committed = cursor
    while True:
        source = new_source()
        try:
            async with aclosing(cast("AsyncGenerator[SourcePage, None]", source.pull(committed))) as pages:
                async for page in pages:
                    out.pages.append(page)
                    committed = page.cursor if page.cursor is not None else committed
                    if between_pages is not None:
                        between_pages(len(out.pages))
                    if stop_after is not None and len(out.pages) >= stop_after:
                        return out
            return out
        except ProviderError as exc:
            if not (restart and exc.retryable and out.restarts < RESTARTS):
                raise
            out.restarts += 1


@dataclass
class FileSourceKit:
    """The kit's handle on a file source's fake: sources over its folder (or another one), all keeping their state
    in one ``state_dir``; ``scratch`` is a folder of the kit's own, for the folders a check breaks on purpose."""

    fake: FileSourceFake
    state_dir: Path
    scratch: Path
    made: list[Source] = field(default_factory=list)

    def source(self, folder: Path | None = None) -> Source:
        source = self.fake.source(self.fake.folder if folder is None else folder, self.state_dir)
        self.made.append(source)
        return source

    async def pull(self, cursor: str | None = None, *, stop_after: int | None = None,
                   between_pages: Callable[[int], None] | None = None, folder: Path | None = None) -> Pulled:
        """One pull from ``cursor`` with a new source (over ``folder``, by default the fake's), as the daemon
        does: see ``drive``."""
        return await drive(lambda: self.source(folder), cursor, stop_after=stop_after, between_pages=between_pages)

    async def poll(self, cursor: str | None = None) -> Pulled:
        """Pull after pull from the last committed cursor, as the daemon's schedule does, until one delivers nothing
        (no lead, no rejection): every file dropped so far is read, and settled as the source settles files (moved
        aside, its rows remembered). Raises AssertionError when the source never runs dry."""
        out, pulled = Pulled(), Pulled()
        committed = cursor
        for _ in range(POLLS):
            pulled = await self.pull(committed)
            out.pages += pulled.pages
            committed = pulled.cursor if pulled.cursor is not None else committed
            if not pulled.leads and not pulled.rejected:
                return out
        raise AssertionError(
            f"{POLLS} pulls in a row, each from the cursor the one before committed, each delivered leads again "
            f"(the last delivered {sorted(pulled.ids)[:5]}...): once a file is read, a pull from the last cursor must "
            "deliver nothing more from it. Let the cursor say which files (which version of each) are read to the end")


@dataclass
class SinkKit:
    fake: SinkFake
    faults: FaultyApp
    base_url: str
    made: list[Sink] = field(default_factory=list)
    _keys: int = 0

    def sink(self, *, credentials_ok: bool = True) -> Sink:
        sink = self.fake.sink(self.base_url, credentials_ok=credentials_ok)
        self.made.append(sink)
        return sink

    async def started(self) -> Sink:
        sink = self.sink()
        await sink.start()
        return sink

    def creates(self, count: int) -> list[WriteOp]:
        """``count`` create ops of the fake's kind, with fresh idempotency keys and distinct fields."""
        ops = []
        for _ in range(count):
            self._keys += 1
            ops.append(WriteOp(f"halosync-testing-{self._keys}", self.fake.kind, "create",
                               dict(self.fake.new_fields(self._keys))))
        return ops

    async def listing(self, sink: Sink, since: str | None = None) -> list[MirrorPage]:
        gen = cast("AsyncGenerator[MirrorPage, None]", sink.list_records(self.fake.kind, since=since))
        async with aclosing(gen) as pages:
            return [page async for page in pages]

    async def write_settled(self, sink: Sink, ops: Sequence[WriteOp], *, in_flight: bool = False) -> dict[str, str]:
        """Write ``ops`` until each has a sink id, as the outbox does: an op that may have been written already
        (``in_flight``, or after a retryable failure: the whole call raising, or a result marked retryable) is
        looked up with ``find`` first and written again only when not found. Returns key -> sink id; raises
        AssertionError naming an op the sink refuses."""
        settled: dict[str, str] = {}
        todo = list(ops)
        if in_flight:
            todo = await self._unfound(sink, todo, settled)
        for _ in range(RESTARTS + 1):
            if not todo:
                return settled
            try:
                results = await sink.write(todo)
            except ProviderError as exc:
                if not exc.retryable:
                    raise
            else:
                for op, result in zip(todo, results, strict=False):
                    if result.ok and result.sink_id is not None:
                        settled[op.key] = result.sink_id
                    elif not result.retryable:
                        raise AssertionError(f"the sink refused {op.key} ({dict(op.fields)}): {result.error}")
            todo = await self._unfound(sink, [op for op in todo if op.key not in settled], settled)
        if not todo:
            return settled
        raise AssertionError(f"{len(todo)} write(s) still unsettled after {RESTARTS + 1} attempts, as the daemon "
                             f"would retry them: {[op.key for op in todo]}")

    @staticmethod
    async def _unfound(sink: Sink, ops: list[WriteOp], settled: dict[str, str]) -> list[WriteOp]:
        if not ops:
            return []
        for op, record in zip(ops, await sink.find(ops), strict=False):
            if record is not None:
                settled[op.key] = record.sink_id
        return [op for op in ops if op.key not in settled]
