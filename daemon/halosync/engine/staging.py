"""Staging: every lead is durable before anything else happens.

``stage_page`` writes a page of leads, its rejected records (as dead letters) and the source's cursor in the
caller's transaction, so a crash leaves either the whole page and its cursor or neither. A lead already staged with
the same content (by hash) is left alone: it is not matched or written again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from halosync.contracts import Rejected
from halosync.engine.ledger import Ledger, excluded
from halosync.engine.sql import insert_rows, select_in
from halosync.model import Lead
from halosync.store.models import SourceCursor, StagedLead

KEEP_CURSOR: Any = object()  # pushed leads (webhooks) have no cursor to move


@dataclass
class StageResult:
    staged: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, other: StageResult) -> None:
        self.staged += other.staged
        self.unchanged += other.unchanged
        self.rejected += other.rejected


def content_hash(lead: Lead | dict[str, Any]) -> str:
    """What matters for syncing: everything but ``raw`` (provider bookkeeping) and ``updated_at``."""
    body = dict(lead.to_dict() if isinstance(lead, Lead) else lead)
    body.pop("raw", None)
    body.pop("updated_at", None)
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def stage_page(source: str, leads: Sequence[Lead], rejected: Sequence[Rejected], cursor: Any, ledger: Ledger,
               *, via: str = "pull") -> StageResult:
    """Stage ``leads`` and record ``rejected`` for ``source``; set its cursor unless ``cursor`` is KEEP_CURSOR."""
    result = StageResult()
    latest: dict[str, Lead] = {lead.source_id: lead for lead in leads}  # a record twice in a page: the last wins
    bodies = {sid: lead.to_dict() for sid, lead in latest.items()}
    hashes = {sid: content_hash(body) for sid, body in bodies.items()}
    existing: dict[str, tuple[int, str, int]] = {}
    for row_id, sid, digest, revision in select_in(StagedLead, ("id", "source_id", "content_hash", "revision"),
                                                   "source_id", list(latest), {"source": source}):
        existing[sid] = (row_id, digest, revision)
    now = time.time()
    fresh: list[dict[str, Any]] = []
    for sid in latest:
        digest = hashes[sid]
        known = existing.get(sid)
        if known is not None and known[1] == digest:
            result.unchanged += 1
            continue
        if known is None:
            fresh.append({"source": source, "source_id": sid, "payload": bodies[sid], "content_hash": digest,
                          "revision": 1, "state": "pending", "staged_at": now})
            revision = 1
        else:
            revision = known[2] + 1
            StagedLead.update(payload=bodies[sid], content_hash=digest, revision=revision, state="pending",
                              staged_at=now, processed_at=None).where(StagedLead.id == known[0]).execute()
        ledger.trace(source, sid, "staged", revision=revision, content_hash=digest, via=via)
        result.staged += 1
    insert_rows(StagedLead, fresh)
    for rej in rejected:
        ledger.dead_letter("intake", rej.reason, source=source, source_id=rej.source_id, payload=dict(rej.raw))
        result.rejected += 1
    if cursor is not KEEP_CURSOR:
        SourceCursor.insert(source=source, cursor=cursor, updated_at=now).on_conflict(
            conflict_target=[SourceCursor.source],
            update={SourceCursor.cursor: excluded(SourceCursor.cursor),
                    SourceCursor.updated_at: excluded(SourceCursor.updated_at)}).execute()
    ledger.count("seen", result.staged)
    return result
