"""The cursor of the file source: where the pull is, committed with every page.

``seq`` counts pages (the row state's baselines are tied to it); ``file``/``version``/``row`` say that the rows
up to ``row`` of that version of that file are staged; ``done`` lists the files whose last page is in this cursor
but that are not yet moved aside (``status`` "processed" or "failed", with the reason). The next pull settles
them first: promotes their row hashes and moves them to processed/ or failed/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from halosync.plugin import ProviderError


@dataclass(frozen=True)
class Done:
    identity: str
    version: str
    status: str  # "processed" | "failed"
    reason: str = ""


@dataclass(frozen=True)
class Cursor:
    seq: int = 0
    file: str | None = None
    version: str | None = None
    row: int = 0
    done: tuple[Done, ...] = field(default=())

    @classmethod
    def decode(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        try:
            d: dict[str, Any] = json.loads(text)
            return cls(seq=int(d["seq"]), file=d.get("file"), version=d.get("version"), row=int(d.get("row", 0)),
                       done=tuple(Done(*entry) for entry in d.get("done", ())))
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderError("files", f"the stored cursor {text[:80]!r} is not one of this source's; reset it with "
                            "`halosyncctl sync --source NAME --full`") from exc

    def encode(self) -> str:
        return json.dumps({"seq": self.seq, "file": self.file, "version": self.version, "row": self.row,
                           "done": [[d.identity, d.version, d.status, d.reason] for d in self.done]},
                          separators=(",", ":"))

    def at(self, identity: str, version: str, row: int) -> Cursor:
        return replace(self, seq=self.seq + 1, file=identity, version=version, row=row)

    def finished(self, entry: Done) -> Cursor:
        done = (*(d for d in self.done if d.identity != entry.identity), entry)
        return replace(self, seq=self.seq + 1, file=None, version=None, row=0, done=done)

    def settled(self) -> Cursor:
        return replace(self, seq=self.seq + 1, done=())
