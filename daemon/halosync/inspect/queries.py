"""Two small bridges over peewee's type stubs, which know neither the implicit ``id`` column nor what
``.tuples()`` yields."""

from __future__ import annotations

from typing import Any


def id_of(model: Any) -> Any:
    """The implicit auto-increment ``id`` column of ``model``."""
    return model._meta.primary_key


def fetch(query: Any) -> list[Any]:
    """Run ``query`` and return its rows (models, tuples or dicts, whatever the query asked for)."""
    return list(query)


def row_id(row: Any) -> int:
    """The ``id`` of a fetched model instance."""
    return int(row.id)
