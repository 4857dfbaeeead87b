"""A deliberately broken plugin for the conformance kit's own tests: the contrib examples with the mistakes a
first plugin makes, each of which loses or doubles leads. The kit must fail it, saying what to fix."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import trio
import trio.lowlevel
from halosync_example_sink import plugin as tinycrm
from halosync_example_sink.kit import TinyCRMKitFake
from halosync_example_source import plugin as leadboard
from halosync_example_source.kit import LeadBoardKitFake

from halosync.plugin import (
    AuthError,
    CheckResult,
    EntityKind,
    Lead,
    MirrorPage,
    ProviderError,
    Rejected,
    Sink,
    SinkRecord,
    Source,
    SourcePage,
    TransientProviderError,
    WriteOp,
    WriteResult,
)
from halosync_files.cursor import Cursor
from halosync_files.fake.kit import FilesKitFake
from halosync_files.settings import FilesSettings
from halosync_files.source import FilesSource
from halosync_files.state import RowState


class CarelessSource(leadboard.LeadBoardSource):
    """Resumes strictly after the last change *time* (losing leads changed at the same second as a page's last),
    raises on a malformed record, raises from checks(), and retries a 429 at once, ignoring Retry-After."""

    async def pull(self, cursor: str | None, *, full: bool = False) -> AsyncIterator[SourcePage]:
        async for page in super().pull(cursor, full=full):
            since = (page.cursor or "0|").partition("|")[0]
            yield SourcePage(page.leads, f"{since}|\uffff", page.rejected)  # "after every id at that time"

    async def _get(self, path: str, params: Any = None) -> dict[str, Any]:
        for _ in range(5):
            answer = await self.http.get(path, params=params)
            self.quota.observe(answer.headers)
            if answer.status_code == 401:
                raise AuthError(leadboard.NAME, "token refused")
            if answer.status_code != 429:  # no wait at all
                body: dict[str, Any] = answer.json()
                for record in body.get("leads", []):
                    if not isinstance(leadboard.to_lead(record), Lead):
                        raise ValueError(f"bad record {record}")
                return body
        raise TransientProviderError(leadboard.NAME, "429 five times")

    async def checks(self) -> list[CheckResult]:
        await self._get("/v1/me")  # lets AuthError escape instead of reporting it
        return [CheckResult("leadboard.auth", "pass", "ok")]


class CarelessSink(tinycrm.TinyCRMSink):
    """Retries a failed create blindly, matches any record in find(), raises when TinyCRM refuses one record of a
    batch, and lists without a watermark."""

    async def write(self, ops: Sequence[WriteOp]) -> list[WriteResult]:
        for _ in range(3):
            try:
                results = await super().write(ops)
            except TransientProviderError:
                await trio.lowlevel.checkpoint()
                continue
            if any(r.error for r in results):
                raise ProviderError(tinycrm.NAME, "TinyCRM refused the batch")
            return results
        raise TransientProviderError(tinycrm.NAME, "gave up")

    async def find(self, ops: Sequence[WriteOp]) -> list[SinkRecord | None]:
        answer = await self._call("GET", "/v1/companies", params={"after": 0, "limit": len(ops)})
        return [tinycrm.to_record(r) for r in answer["records"]] + [None] * (len(ops) - len(answer["records"]))

    async def list_records(self, kind: EntityKind, *, since: str | None = None) -> AsyncIterator[MirrorPage]:
        async for page in super().list_records(kind, since=since):
            yield MirrorPage(page.records)


class ForgetfulRowState(RowState):
    """Keeps the row hashes of every file it reads, and never consults them."""

    def baseline(self, identity: str) -> str | None:
        return None


class CarelessFilesSource(FilesSource):
    """The file source with a first version's mistakes: its cursor says which file a pull is in but not how far
    (a restart reads the file from its top again), a file dropped again is read in full, a rejected row's reason
    does not say where the row is, and checks() lists the folder without looking first, so a missing one raises."""

    def __init__(self, settings: FilesSettings, state_path: Path) -> None:
        super().__init__(settings, state_path)
        self.state.close()
        self.state = ForgetfulRowState(state_path)

    async def pull(self, cursor: str | None, *, full: bool = False) -> AsyncIterator[SourcePage]:
        async with aclosing(cast("AsyncGenerator[SourcePage, None]", super().pull(cursor, full=full))) as pages:
            async for page in pages:
                where = replace(Cursor.decode(page.cursor), row=0).encode()  # "in export.csv", not "after row 40"
                yield SourcePage(page.leads, where, [Rejected(r.source_id, r.reason.partition(": ")[2], r.raw)
                                                     for r in page.rejected])

    async def checks(self) -> list[CheckResult]:
        waiting = os.listdir(self.settings.folder)
        return [CheckResult("files folder", "pass", f"{len(waiting)} file(s) ready")]


@dataclass
class CarelessFilesKitFake(FilesKitFake):
    def source(self, folder: Path, state_dir: Path) -> Source:
        settings = FilesSettings.from_table({"folder": str(folder), "settle_seconds": 0, "page_rows": self.page_size})
        return CarelessFilesSource(settings, state_dir / "files" / "files.sqlite3")


@dataclass
class CarelessSourceFake(LeadBoardKitFake):
    def source(self, base_url: str, *, credentials_ok: bool = True) -> Source:
        token = self.fake.token if credentials_ok else "not-the-token"
        return CarelessSource(base_url, token, page_size=self.page_size, timeout=10.0, backoff_base=0.05)


@dataclass
class CarelessSinkFake(TinyCRMKitFake):
    def sink(self, base_url: str, *, credentials_ok: bool = True) -> Sink:
        key = self.fake.api_key if credentials_ok else "not-the-key"
        return CarelessSink(base_url, key, page_size=self.page_size, timeout=10.0, backoff_base=0.05)


__all__ = ["CarelessFilesKitFake", "CarelessSinkFake", "CarelessSourceFake"]
