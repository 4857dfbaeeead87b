"""One answer page of ``contacts/search`` as the scan reads it: sort keys, page planning, the proof a page gives.

Apollo pages by offset, sorted by ``contact_updated_at``, and orders contacts that share a timestamp however it
likes, differently on each request. What an answer does prove, because it is one consistent snapshot:

- if its first contact is updated before the boundary ``B`` (or it starts at offset 0), no contact updated at or
  after ``B`` lies before it, so every such contact of the list is on this page or after it;
- every timestamp strictly between the first contact's and the last contact's is on the page whole;
- the last timestamp's group may go on past the page, in any order: the next request starts just before that
  group's first contact here (an *overlap*), so it is read whole again and de-duplicated by id.

Contacts edited while a pull reads move to the end (their ``updated_at`` becomes now): those before the next
request's offset shift the list up, which the next answer shows (its first contact is no longer before ``B``), and
the scan steps back. Deleted contacts do the same. So nothing is skipped, only re-read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from halosync.plugin import Lead, Rejected
from halosync_apollo.cursor import canonical, parse_time
from halosync_apollo.mapping import contact_to_lead


@dataclass(frozen=True)
class Row:
    """One contact of an answer: its place in the list, its sort key (None: no ``updated_at``) and the lead."""

    index: int
    key: str | None
    item: Lead | Rejected

    @property
    def contact_id(self) -> str | None:
        return self.item.source_id if isinstance(self.item, Lead) else None


def rows_of(contacts: list[Any], first_index: int) -> list[Row]:
    rows = []
    for index, raw in enumerate(contacts, start=first_index):
        moment = parse_time(raw.get("updated_at")) if isinstance(raw, dict) else None
        rows.append(Row(index, canonical(moment) if moment else None, contact_to_lead(raw)))
    return rows


def starts_before(rows: list[Row], start: int, boundary: str | None, complete: bool) -> bool:
    """Whether an answer proves that nothing updated after ``boundary`` (nor at it, unless that group is already
    ``complete``) lies before it."""
    if boundary is None or start == 0:
        return True
    first = next((row.key for row in rows if row.key is not None), None)
    if first is None:
        return False  # nothing dated to prove it with: the list moved or ended before this page
    return first < boundary or (complete and first == boundary)


def plan_page(expected: int, per_page: int, display_limit: int) -> tuple[int, int] | None:
    """``(page, per_page)`` of the request that reads furthest past index ``expected`` (-1: from the start) while
    starting at or before it. Page sizes from ``per_page`` down to half of it are tried, so the page starts close
    to ``expected``. None when no such page lies within the display limit."""
    if expected < 0:
        return (1, per_page) if per_page <= display_limit else None
    best: tuple[int, int, int] | None = None  # (page, size, last index read)
    for size in range(per_page, max(2, per_page // 2) - 1, -1):
        index = expected // size
        end = index * size + size - 1
        if (index + 1) * size > display_limit or end <= expected:
            continue  # past the limit, or it would end at the position and read nothing new
        if best is None or end > best[2]:
            best = (index + 1, size, end)
    return (best[0], best[1]) if best else None


def last_page(contacts: list[Any], start: int, size: int, total_entries: int | None) -> bool:
    """Whether an answer ends the list: short, empty, or reaching ``total_entries``."""
    if len(contacts) < size:
        return True
    return total_entries is not None and start + len(contacts) >= total_entries


def rejected_digest(rejected: Rejected) -> str:
    """Identity of a rejected record (it has no usable id), so a re-read page does not dead-letter it twice."""
    text = json.dumps(rejected.raw, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
