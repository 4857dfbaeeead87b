"""The pull cursor: a position (updated_at, id) in Apollo's contact_updated_at order, as an opaque JSON string.

Ties on ``updated_at`` are broken by id, so records sharing a timestamp across a page boundary are neither skipped
nor emitted twice: everything at or before the position has been staged, everything after has not.
Timestamps are compared in one canonical form (UTC, milliseconds, ``Z``) whatever spelling Apollo used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from halosync.errors import ProviderError

VERSION = 1


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


@dataclass(frozen=True, order=True)
class Position:
    updated_at: str  # canonical form
    id: str
    # How many contacts of its update day sort at or before it, when known: where the next poll resumes in
    # that day's pages instead of re-reading the day (verified on arrival, since contacts move).
    skip: int = field(default=0, compare=False)

    @property
    def day(self) -> str:
        return self.updated_at[:10]

    def encode(self) -> str:
        data: dict[str, object] = {"v": VERSION, "updated_at": self.updated_at, "id": self.id}
        if self.skip > 0:
            data["skip"] = self.skip
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, cursor: str | None) -> Position | None:
        if not cursor:
            return None
        try:
            data = json.loads(cursor)
            moment = parse_time(data["updated_at"])
            skip = data.get("skip", 0)
            if data.get("v") != VERSION or moment is None or not isinstance(data["id"], str) or not isinstance(
                    skip, int):
                raise ValueError(cursor)
        except (ValueError, KeyError, TypeError):
            raise ProviderError("apollo", f"the stored cursor {cursor[:80]!r} was not written by this plugin; "
                                "run `halosyncctl sync --source apollo --full` to pull everything again") from None
        return cls(canonical(moment), data["id"], skip)
