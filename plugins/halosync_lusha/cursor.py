"""The pull cursor: what each list held at the last complete poll, and where an interrupted poll stands.

Lusha has no "updated since" filter, so a poll reads every list whole and compares it with the last one:
``members`` maps each list to ``{entity id: content hash}`` (16 hex digits, see ``mapping.content_hash``). A member
whose hash is new or different is staged; a member that a *complete* poll no longer finds is removed from the map
(counted, and staged again as new if it comes back). The map is bounded by ``plugins.lusha.max_entities``.

``run`` is the poll under way: the list being read, the next page, and the ids seen so far in that list. It is
committed with every page, so after a crash the poll resumes at the next page without staging a seen member
again and without taking a member it did not see for removed.

Encoded as compact JSON; the daemon treats it as opaque.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from halosync.plugin import ProviderError

VERSION = 1


@dataclass
class Run:
    list_id: str
    page: int = 0
    passes: int = 1  # reads of this list so far in this poll (a pass that saw fewer than the total is repeated)
    seen: set[str] = field(default_factory=set)


@dataclass
class Cursor:
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # list id -> entity id -> content hash
    run: Run | None = None
    done: list[str] = field(default_factory=list)  # lists already read in the poll under way

    def size(self) -> int:
        return sum(len(m) for m in self.members.values()) + (len(self.run.seen) if self.run else 0)

    def encode(self) -> str:
        data: dict[str, Any] = {"v": VERSION, "m": {k: self.members[k] for k in sorted(self.members)}}
        if self.run is not None:
            data["run"] = {"list": self.run.list_id, "page": self.run.page, "passes": self.run.passes,
                           "seen": sorted(self.run.seen), "done": list(self.done)}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, cursor: str | None) -> Cursor:
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
            if not isinstance(data, dict) or data.get("v") != VERSION or not isinstance(data.get("m"), dict):
                raise ValueError(cursor)
            members = {str(k): {str(i): str(h) for i, h in v.items()} for k, v in data["m"].items()}
            run, done = None, []
            if data.get("run") is not None:
                raw = data["run"]
                run = Run(str(raw["list"]), int(raw["page"]), int(raw.get("passes", 1)),
                          {str(i) for i in raw["seen"]})
                done = [str(x) for x in raw.get("done") or ()]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ProviderError("lusha", f"the stored cursor {cursor[:80]!r} was not written by this plugin; run "
                                "`halosyncctl sync --source lusha --full` to read every list again") from None
        return cls(members, run, done)
