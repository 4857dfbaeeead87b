"""How a pull pages through one search without losing a contact that moves while it reads.

Apollo pages by offset. When a contact before the current offset is edited during a pull, it moves to the end of
the ``contact_updated_at`` order and every later contact moves up one place: reading page n+1 next would skip the
contact that slid onto page n. Two defences, chosen by the source per range of days:

- Days before today: an edited contact leaves the range (its ``updated_at`` becomes now), so ``total_entries``
  changes. Plain next pages are read while it holds still; when it changes, the stretch is read again with an
  overlapping page (below). This costs one request per disturbance.
- Today (where edits stay in range), and the first page when resuming mid-list from the cursor's hint: every
  request is planned to start at or just before the staged position (page size varied between half of
  ``per_page`` and ``per_page`` to land close to it), and its answer must begin with a contact at or before that
  position, proving nothing unstaged lies before it. If it does not, contacts before the position moved and the
  walk steps back. Re-reading the overlap costs about a tenth more requests, on today's contacts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loguru import logger

from halosync.contracts import Rejected, SourcePage
from halosync.model import Lead
from halosync_apollo.cursor import Position, canonical
from halosync_apollo.mapping import contact_to_lead


@dataclass
class Walk:
    """Where a pull is: the staged position, the current window's first day, and what the window has seen."""

    position: Position | None
    floor: str | None  # first update day of the current window (contact_updated_at_range.min)
    last_seen: Position | None = None
    day: str | None = None  # update day of the contacts being read, and where it starts in the window's list
    day_start: int = 0
    finished: bool = False
    rejected: list[Rejected] = field(default_factory=list)

    def begin_window(self) -> int:
        """Start reading the window from ``floor``; returns the position's index in its list (-1: unknown)."""
        self.last_seen = None
        self.day, self.day_start = self.floor, 0
        position = self.position
        if position is None or position.skip <= 0 or position.day != self.floor:
            return -1
        return position.skip - 1

    def take_rejected(self) -> list[Rejected]:
        taken, self.rejected = self.rejected, []
        return taken


def next_page(expected: int, per_page: int, display_limit: int) -> tuple[int, int] | None:
    """The plain next page after index ``expected`` (which ends a page of ``per_page``), within the limit."""
    page = (expected + 1) // per_page + 1
    return (page, per_page) if page * per_page <= display_limit else None


def plan_page(expected: int, per_page: int, display_limit: int) -> tuple[int, int] | None:
    """``(page, per_page)`` of the request that reads furthest past index ``expected`` (the staged position's
    place in the list; -1 when nothing of it is staged) while starting at or before it. None when no such page lies
    within the display limit: the window is done and the next one starts at a later day."""
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


def starts_at_or_before(contacts: list[Any], position: Position | None) -> bool:
    """Whether a page begins with a contact at or before ``position`` (so no unstaged contact precedes it)."""
    for raw in contacts:
        item = contact_to_lead(raw)
        key = key_of(item) if isinstance(item, Lead) else None
        if key is not None:
            return position is not None and key <= position
    return bool(contacts)  # a page of nothing placeable: nothing to prove either way


def stage(contacts: list[Any], walk: Walk, first_index: int, expected: int) -> tuple[SourcePage | None, int]:
    """The leads of ``contacts`` past the position (as a page carrying the new cursor), and the position's new
    index. ``first_index`` is the place of ``contacts[0]`` in the window's list."""
    leads = []
    previous: Position | None = None
    for index, raw in enumerate(contacts, start=first_index):
        item = contact_to_lead(raw)
        if isinstance(item, Rejected):
            walk.rejected.append(item)
            continue
        key = key_of(item)
        if key is not None:
            if previous is not None and key < previous:
                logger.warning("apollo: contacts/search returned {} after {}, out of order", key, previous)
            previous = key
            walk.last_seen = key if walk.last_seen is None else max(walk.last_seen, key)
            if key.day != walk.day:
                walk.day, walk.day_start = key.day, index
            if walk.position is not None and key <= walk.position:
                expected = index  # staged by an earlier page or pull
                continue
            walk.position = Position(key.updated_at, key.id, skip=index - walk.day_start + 1)
            expected = index
        leads.append(item)
    rejected = walk.take_rejected()
    if not leads and not rejected:
        return None, expected
    return SourcePage(leads, walk.position.encode() if walk.position else None, rejected), expected


def last_page(contacts: list[Any], start: int, size: int, total_entries: int | None) -> bool:
    """Whether an answer ends the list: short, empty, or reaching ``total_entries``."""
    if len(contacts) < size:
        return True
    return total_entries is not None and start + len(contacts) >= total_entries


def key_of(lead: Lead) -> Position | None:
    return Position(canonical(lead.updated_at), lead.source_id) if lead.updated_at else None
