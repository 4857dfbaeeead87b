"""Issue 16's control methods, for ``halosyncctl suppress``, ``forget`` and ``export-person``:

    suppress.add      {"entries": [TEXT...], "reason"} -> {"added", "cancelled"} (cancelled: queued writes)
    suppress.remove   {"entries": [TEXT...]} -> {"removed"}
    suppress.list     {"limit"} -> {"total", "entries": [...]} (a forgotten person's entry has no value)
    forget            {"query", "in_sinks"} -> counts per table removed, what went on the list, and with in_sinks
                      what each sink did ({"sink", "sink_id", "outcome"|"error"})
    export-person     {"query"} -> everything the store holds about the person (``halosync.privacy.export``)

The audit log records mutating calls with personal parameters masked (``halosync.control.audit``); ``forget``
adds a line of its own with what it did, which never names the person.
"""

from __future__ import annotations

from typing import Any

import trio
from loguru import logger

from halosync.contracts import ForgettingSink
from halosync.control.audit import AuditLog
from halosync.control.protocol import ControlFailure
from halosync.control.registry import Call, ControlMethod
from halosync.daemon.failures import describe
from halosync.engine import suppression
from halosync.privacy import export, forget
from halosync.privacy.subject import Subject

SINK_TIMEOUT = 60.0


def _entries(call: Call) -> list[suppression.Entry]:
    value = call.params.get("entries")
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ControlFailure("invalid_params", f"{call.method}: entries must be a non-empty list of strings such "
                                               "as \"email:a@b.com\", \"domain:b.com\", \"linkedin:URL\"")
    try:
        return [suppression.parse_entry(v) for v in value]
    except suppression.SuppressionError as exc:
        raise ControlFailure("invalid_params", f"{call.method}: {exc}") from exc


async def suppress_add(call: Call) -> dict[str, Any]:
    entries = _entries(call)
    reason = call.str_param("reason")
    result: dict[str, Any] = await call.daemon.store.transaction(suppression.add, entries, reason=reason)
    logger.info("suppression list: {} entr(ies) added by {}, {} queued write(s) cancelled", result["added"],
                call.peer, result["cancelled"])
    return result


async def suppress_remove(call: Call) -> dict[str, Any]:
    result: dict[str, Any] = await call.daemon.store.transaction(suppression.remove, _entries(call))
    return result


async def suppress_list(call: Call) -> dict[str, Any]:
    limit = call.int_param("limit", 1000, minimum=1, maximum=100_000)
    result: dict[str, Any] = await call.daemon.store.run(suppression.listing, limit or 1000)
    return result


def _query(call: Call) -> str:
    query = (call.str_param("query", required=True) or "").strip()
    if not query:
        raise ControlFailure("invalid_params", f"{call.method}: query must name a person (an e-mail address, a "
                                               "LinkedIn URL, a source record such as apollo:ID, or a sink id)")
    return query


async def forget_person(call: Call) -> dict[str, Any]:
    query = _query(call)
    store = call.daemon.store
    subject: Subject = await store.run(forget.plan, query)
    sinks = await _forget_in_sinks(call, subject) if call.bool_param("in_sinks") else []
    result: dict[str, Any] = await store.transaction(forget.erase, subject, store.db)
    result["checkpoint"] = await store.run(forget.checkpoint, store.db)
    result["in_sinks"] = sinks
    if sinks:  # the sink ids are not personal data; what was done to them is what an auditor asks
        path = call.daemon.config.state_dir / "audit.log" if call.daemon.config.state_dir.is_dir() else None
        await AuditLog(path).record(call.peer, "forget.in_sinks", {"sinks": sinks})
    logger.info("forget by {}: {} row(s) removed, {} hash(es) on the suppression list{}", call.peer,
                sum(result["removed"].values()), result["suppressed"],
                f", {len(sinks)} sink record(s) erased or tried" if sinks else "")
    return result


async def _forget_in_sinks(call: Call, subject: Subject) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, sink_id in sorted(subject.sink_records):
        sink = call.daemon.sinks.get(name)
        entry: dict[str, Any] = {"sink": name, "sink_id": sink_id}
        if sink is None:
            entry["error"] = f"sink {name!r} is not configured in this daemon"
        elif not isinstance(sink, ForgettingSink):
            entry["error"] = f"sink {name!r} cannot erase records (its plugin has no forget); erase it by hand"
        else:
            try:
                with trio.fail_after(SINK_TIMEOUT):
                    done = await sink.forget("person", sink_id)
                entry.update(outcome=done.outcome, detail=done.detail)
            except Exception as exc:  # any failure of one sink: reported, the local erase still happens
                entry["error"] = describe(exc)
        out.append(entry)
    return out


async def export_person(call: Call) -> dict[str, Any]:
    result: dict[str, Any] = await call.daemon.store.run(export.export, _query(call))
    return result


PRIVACY_METHODS = (
    ControlMethod("suppress.add", suppress_add, "add people to the suppression list (params: entries, reason)",
                  mutating=True),
    ControlMethod("suppress.remove", suppress_remove, "remove suppression entries (params: entries)", mutating=True),
    ControlMethod("suppress.list", suppress_list, "the suppression list (params: limit)"),
    ControlMethod("forget", forget_person, "erase a person from the store (params: query, in_sinks)", mutating=True),
    ControlMethod("export-person", export_person, "everything the store holds about one person (params: query)"),
)
