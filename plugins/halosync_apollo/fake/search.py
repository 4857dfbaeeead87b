"""The fake's saved contacts and ``POST contacts/search``: validation, filters, sorting and the display limit.

Strict like Apollo: unknown parameters, ``per_page`` outside 1..100, ``sort_ascending`` without ``sort_by_field`` and
malformed ranges are 422; asking past the 50,000th record is 422 "Page * per page number is over threshold."
(not an empty page). Apollo documents no order among contacts that tie in the sort field: by default
(``tie_order = "shuffled"``) every request draws a fresh random order of each tie group it shows, as if the
search engine's replicas disagreed; ``"id"`` orders ties by id (stable). ``contact_updated_at_range`` (not in
Apollo's 2026 spec) takes ``{"min": "YYYY-MM-DD", "max": "YYYY-MM-DD"}`` (UTC days, both inclusive), or is
accepted and ignored when ``honour_range`` is off, as Apollo may do.

Orderings are cached per data version and query, so paging through 120,000 contacts costs one sort, not one per page.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

TieOrder = Literal["shuffled", "id"]

DISPLAY_LIMIT = 50_000
SEARCH_PARAMS = frozenset({
    "q_keywords", "contact_stage_ids", "contact_label_ids", "sort_by_field", "sort_ascending", "page", "per_page",
    "contact_updated_at_range",
})
SORT_FIELDS = {
    "contact_last_activity_date": "last_activity_date",
    "contact_email_last_opened_at": "email_last_opened_at",
    "contact_email_last_clicked_at": "email_last_clicked_at",
    "contact_created_at": "created_at",
    "contact_updated_at": "updated_at",
}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InvalidSearch(Exception):
    """A 422 answer; ``body`` is what Apollo sends."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        super().__init__(str(body))


def _invalid(detail: str) -> InvalidSearch:
    return InvalidSearch({"error": "Invalid parameters", "error_detail": detail})


@dataclass(frozen=True)
class Query:
    page: int
    per_page: int
    sort_field: str | None  # contact key
    ascending: bool
    keywords: str
    label_ids: frozenset[str]
    stage_ids: frozenset[str]
    day_min: str | None
    day_max: str | None

    @property
    def signature(self) -> tuple[Any, ...]:
        return (self.sort_field, self.ascending, self.keywords, self.label_ids, self.stage_ids, self.day_min,
                self.day_max)


def parse_query(body: Any, display_limit: int = DISPLAY_LIMIT) -> Query:
    if not isinstance(body, dict):
        raise _invalid("the body must be a JSON object")
    unknown = sorted(set(body) - SEARCH_PARAMS)
    if unknown:
        raise _invalid(f"unknown parameter(s): {', '.join(unknown)}")
    page, per_page = body.get("page", 1), body.get("per_page", 10)
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise _invalid("page must be a positive integer")
    if not isinstance(per_page, int) or isinstance(per_page, bool) or not 1 <= per_page <= 100:
        raise _invalid("per_page must be between 1 and 100")
    if page * per_page > display_limit:
        raise InvalidSearch({"error": "Page * per page number is over threshold."})
    sort_by = body.get("sort_by_field")
    if sort_by is not None and sort_by not in SORT_FIELDS:
        raise _invalid(f"sort_by_field must be one of {', '.join(SORT_FIELDS)}")
    if "sort_ascending" in body and sort_by is None:
        raise _invalid("sort_ascending is only allowed together with sort_by_field")
    ascending = body.get("sort_ascending", False)
    if not isinstance(ascending, bool):
        raise _invalid("sort_ascending must be a boolean")
    keywords = body.get("q_keywords") or ""
    if not isinstance(keywords, str):
        raise _invalid("q_keywords must be a string")
    day_min, day_max = _range(body.get("contact_updated_at_range"))
    return Query(page, per_page, SORT_FIELDS[sort_by] if sort_by else None, ascending, keywords.lower().strip(),
                 _ids(body, "contact_label_ids"), _ids(body, "contact_stage_ids"), day_min, day_max)


def _ids(body: dict[str, Any], key: str) -> frozenset[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(f"{key} must be a list of ids")
    return frozenset(value)


def _range(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict) or set(value) - {"min", "max"}:
        raise _invalid('contact_updated_at_range must be {"min": "YYYY-MM-DD", "max": "YYYY-MM-DD"}')
    bounds = []
    for key in ("min", "max"):
        day = value.get(key)
        if day is not None and (not isinstance(day, str) or not _DAY.match(day)):
            raise _invalid(f"contact_updated_at_range.{key} must be a date like 2024-05-31")
        bounds.append(day)
    return bounds[0], bounds[1]


class ContactBook:
    """The team's saved contacts, by id, with cached orderings."""

    def __init__(self, tie_order: TieOrder = "shuffled", seed: int = 0) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.tie_order: TieOrder = tie_order
        self.honour_range = True  # False: contact_updated_at_range is accepted and ignored
        self.rng = random.Random(seed)
        self.version = 0
        self._encoded: dict[str, bytes] = {}  # contact id -> its JSON, so big pulls do not re-encode every page
        self._cache: dict[tuple[Any, ...], list[str]] = {}

    def upsert(self, contacts: Iterable[dict[str, Any]]) -> int:
        count = 0
        for contact in contacts:
            self.by_id[str(contact["id"])] = contact
            self._encoded.pop(str(contact["id"]), None)
            count += 1
        self.version += 1
        self._cache.clear()
        return count

    def remove(self, contact_id: str) -> bool:
        self.version += 1
        self._cache.clear()
        self._encoded.pop(contact_id, None)
        return self.by_id.pop(contact_id, None) is not None

    def search(self, query: Query) -> bytes:
        """The JSON answer of one search page."""
        ids = self._matching(query)
        start = (query.page - 1) * query.per_page
        shown = ids[start:start + query.per_page]
        if self.tie_order == "shuffled" and query.sort_field is not None:
            shown = self._shuffled_slice(ids, start, start + query.per_page, query.sort_field)
        contacts = b",".join(self._json(i) for i in shown)
        total = len(ids)
        envelope = {
            "breadcrumbs": [], "partial_results_only": False, "disable_eu_prospecting": False,
            "partial_results_limit": 10000, "contacts": None,
            "pagination": {"page": query.page, "per_page": query.per_page, "total_entries": total,
                           "total_pages": math.ceil(total / query.per_page)},
            "num_fetch_result": None,
        }
        head, tail = json.dumps(envelope, separators=(",", ":")).encode().split(b'"contacts":null', 1)
        return head + b'"contacts":[' + contacts + b"]" + tail

    def _shuffled_slice(self, ids: list[str], start: int, end: int, field: str) -> list[str]:
        """``ids[start:end]`` as one request sees it: each tie group it touches in a fresh random order."""
        out: list[str] = []
        at = start
        end = min(end, len(ids))
        while at < end:
            value = self.by_id[ids[at]].get(field)
            lo, hi = at, at + 1
            while lo > 0 and self.by_id[ids[lo - 1]].get(field) == value:
                lo -= 1
            while hi < len(ids) and self.by_id[ids[hi]].get(field) == value:
                hi += 1
            group = ids[lo:hi]
            self.rng.shuffle(group)
            out.extend(group[at - lo:min(hi, end) - lo])
            at = min(hi, end)
        return out

    def _json(self, contact_id: str) -> bytes:
        encoded = self._encoded.get(contact_id)
        if encoded is None:
            encoded = self._encoded[contact_id] = json.dumps(self.by_id[contact_id], separators=(",", ":")).encode()
        return encoded

    def _matching(self, query: Query) -> list[str]:
        cached = self._cache.get(query.signature)
        if cached is not None:
            return cached
        if len(self._cache) > 16:
            self._cache.clear()
        ordered = self._ordered(query.sort_field, query.ascending)
        ids = [i for i in ordered if _matches(self.by_id[i], query, self.honour_range)] if _filters(
            query, self.honour_range) else ordered
        self._cache[query.signature] = ids
        return ids

    def _ordered(self, field: str | None, ascending: bool) -> list[str]:
        key = ("order", field, ascending)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if field is None:  # Apollo's default order: most recently created first
            field, ascending = "created_at", False
        present = [(c[field], i) for i, c in self.by_id.items() if c.get(field)]
        # Ties stay ordered by id in both directions (sorts are stable); records without a value come last.
        present.sort(key=lambda p: p[1])
        present.sort(key=lambda p: p[0], reverse=not ascending)
        missing = sorted(i for i, c in self.by_id.items() if not c.get(field))
        ordered = [i for _, i in present] + missing
        self._cache[key] = ordered
        return ordered


def _filters(query: Query, honour_range: bool) -> bool:
    dated = honour_range and bool(query.day_min or query.day_max)
    return bool(query.keywords or query.label_ids or query.stage_ids or dated)


def _matches(contact: dict[str, Any], query: Query, honour_range: bool) -> bool:
    day = str(contact.get("updated_at") or "")[:10]
    if honour_range and query.day_min and day < query.day_min:
        return False
    if honour_range and query.day_max and day > query.day_max:
        return False
    if query.label_ids and not query.label_ids.intersection(contact.get("label_ids") or ()):
        return False
    if query.stage_ids and contact.get("contact_stage_id") not in query.stage_ids:
        return False
    if query.keywords:
        text = " ".join(str(contact.get(k) or "") for k in ("name", "title", "email", "organization_name")).lower()
        return query.keywords in text
    return True
