"""Per-field conflict resolution: what an update sends when the source and the sink disagree.

    fill_empty   (default) write only into an empty sink field; never overwrite a non-empty one
    source_wins  write whenever the source's value differs
    sink_wins    never write the field on an existing record, not even to fill it
    newest_wins  write when the values differ and the lead changed after the sink record did

An empty source value never clears a sink field. The result holds only the fields that change, so an update sends
nothing when nothing changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return bool(a == b)


@dataclass(frozen=True)
class ConflictPolicy:
    default: str = "fill_empty"
    per_field: Mapping[str, str] = field(default_factory=dict)  # "person.title" -> strategy

    @classmethod
    def from_config(cls, table: Mapping[str, str] | None) -> ConflictPolicy:
        table = dict(table or {})
        default = table.pop("default", "fill_empty")
        return cls(default, table)

    def strategy(self, kind: str, name: str) -> str:
        return self.per_field.get(f"{kind}.{name}", self.default)

    def diff(self, kind: str, source: Mapping[str, Any], sink: Mapping[str, Any], *,
             source_newer: bool = False) -> dict[str, list[Any]]:
        """{field: [sink value, new value]} for every field an update should send."""
        out: dict[str, list[Any]] = {}
        for name, new in source.items():
            if is_empty(new):
                continue
            old = sink.get(name)
            if not is_empty(old) and same(old, new):
                continue
            strategy = self.strategy(kind, name)
            if strategy == "sink_wins":
                continue
            if is_empty(old) or strategy == "source_wins" or (strategy == "newest_wins" and source_newer):
                out[name] = [old, new]
        return out


def present(values: Mapping[str, Any]) -> dict[str, Any]:
    """The non-empty values (what a create sends)."""
    return {k: v for k, v in values.items() if not is_empty(v)}


def fill(into: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``into`` with its empty fields filled from ``values`` (a duplicate's extra data joining a pending create)."""
    out = dict(into)
    for k, v in values.items():
        if is_empty(out.get(k)) and not is_empty(v):
            out[k] = v
    return out
