"""The pull cursor: a boundary timestamp in Apollo's ``contact_updated_at`` order, as an opaque JSON string.

Apollo promises no order among contacts that share an ``updated_at`` (nor the same order on two requests), so the
cursor holds no position *within* a tie group. It says: every contact updated before ``at`` is staged, and of the
contacts updated exactly at ``at``, those in ``seen`` are (``seen`` None: unknown, the whole group is read and
staged again; staging leaves identical records alone). The next pull re-reads the group at ``at`` whole.

``rank`` is a hint, never trusted: where that group started in the list it was read from (``list`` is ``"day"``,
counted from the start of its UTC day under ``contact_updated_at_range``, or ``"all"``, counted from the start of
the unfiltered list), so a poll starts its first request there instead of at page 1; the first answer proves or
disproves it.

Version 1 cursors (``{"v":1,"updated_at","id","skip"}``, which assumed ties come in id order) decode as their
timestamp with an unknown ``seen``: the upgraded pull re-reads that timestamp's group, so nothing is lost.
Timestamps are compared in one canonical form (UTC, milliseconds, ``Z``) whatever spelling Apollo used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from halosync.plugin import ProviderError

VERSION = 2
SEEN_KEPT = 200  # a larger tie group is stored as "unknown": re-staging it costs no sink write, a huge cursor would


def parse_time(value: object) -> datetime | None:
    """An Apollo timestamp as an aware UTC datetime, or None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def canonical(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Boundary:
    at: str  # canonical updated_at
    seen: frozenset[str] | None = None  # ids staged at exactly ``at``; None: unknown
    rank: int = -1  # hint: index of the group's first contact in ``list`` (-1: unknown)
    list: str = "day"

    @property
    def day(self) -> str:
        return self.at[:10]

    def rank_in(self, kind: str) -> int:
        return self.rank if kind == self.list else -1

    def encode(self) -> str:
        data: dict[str, Any] = {"v": VERSION, "at": self.at}
        if self.seen is not None and len(self.seen) <= SEEN_KEPT:
            data["seen"] = sorted(self.seen)
        if self.rank >= 0:
            data["rank"], data["list"] = self.rank, self.list
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, cursor: str | None) -> Boundary | None:
        if not cursor:
            return None
        try:
            data = json.loads(cursor)
            if data.get("v") == 1:  # (updated_at, id) of a version that trusted id order among ties
                moment = parse_time(data["updated_at"])
                if moment is None or not isinstance(data["id"], str):
                    raise ValueError(cursor)
                return cls(canonical(moment))
            moment = parse_time(data["at"])
            seen, rank, kind = data.get("seen"), data.get("rank", -1), data.get("list", "day")
            if data.get("v") != VERSION or moment is None or not isinstance(rank, int) or kind not in (
                    "day", "all") or not (seen is None or all(isinstance(i, str) for i in seen)):
                raise ValueError(cursor)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ProviderError("apollo", f"the stored cursor {cursor[:80]!r} was not written by this plugin; "
                                "run `halosyncctl sync --source apollo --full` to pull everything again") from None
        return cls(canonical(moment), None if seen is None else frozenset(seen), rank, kind)
