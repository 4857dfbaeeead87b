"""JSON columns: orjson writes them, and what it cannot or would write its own way is written as json writes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from halosync.store.gateway import Store
from halosync.store.models import DeadLetter, dumps


def test_values_read_back_as_written(tmp_path: Path) -> None:
    payload = {"name": "Zoë Ångström", "big": 2**70, "nested": {"b": [1, 2.5, None], "a": True}, "empty": {},
               "nul": "a\x00b", "surrogate": "\ud800"}
    store = Store(f"sqlite:///{tmp_path}/s.db")
    try:
        store.create_schema()
        store.call(lambda: DeadLetter.create(stage="intake", reason="r", payload=payload))
        assert store.call(lambda: DeadLetter.get().payload) == payload
    finally:
        store.close()


def test_text_matches_what_json_writes() -> None:
    """Sorted keys and compact separators as before; datetimes through ``str`` as json's ``default=str`` did."""
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    value = {"b": 1, "a": [when], "c": {"z": 1, "y": 2}}
    assert dumps(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    assert json.loads(dumps({"n": 2**70})) == {"n": 2**70}  # beyond 64 bits: json writes it
    assert dumps({2: "b", 1: "a"}) == '{"1":"a","2":"b"}'  # integer keys become strings, as with json
