"""The suppression list: people halosync must never create or update in any sink (issue 16).

An entry is a ``kind`` and a normalised key:

    email      alice@example.com       (the mailbox: ``normalize.email_key``, so plus tags and gmail dots match)
    domain     example.com             (anyone whose e-mail, or whose company, is on that domain)
    linkedin   in/alice                (``normalize.linkedin_key`` of the profile URL)
    source_id  apollo:5f1...           (one provider record: source name and its id)

Every entry is stored with its keyed hash (HMAC-SHA256 of ``kind:key`` under a key kept in the store, KV
``privacy.hash_key``), and lookups only ever compare hashes. A forgotten person (``halosync forget``) keeps the hash
alone: halosync can still recognise them when a source brings them back, but can no longer say who they were.

Besides the list, a lead is suppressed when its source says so: a canonical ``person.email_status`` listed in
``[suppression] email_statuses`` (Apollo's "unsubscribed"), or a source label listed in ``[suppression] labels``
(an Apollo label id such as the team's "Do not contact" list).

Everything here runs in a database thread, inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halosync import contracts
from halosync.engine import normalize
from halosync.engine.index import chunks, tuples
from halosync.errors import ConfigError, ConfigProblem
from halosync.model import Lead
from halosync.store.models import KV, Outbox, Person, StagedLead, Suppression

KINDS = ("email", "domain", "linkedin", "source_id")
# What a plugin may ask for (``halosync.contracts.Suppression``): one person, never a whole domain.
PLUGIN_KINDS = {"email": "email", "linkedin": "linkedin", "provider_id": "source_id"}
KEY_NAME = "privacy.hash_key"
DEFAULT_EMAIL_STATUSES = ("unsubscribed", "do_not_contact")
RULE = "suppressed"


class SuppressionError(ValueError):
    """An entry that cannot be understood; the message says how to write it."""


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str
    key: str

    def describe(self) -> str:
        return f"{self.kind}:{self.key}"


def parse_entry(text: str, kind: str | None = None) -> Entry:
    """``email:a@b.com``, ``domain:b.com``, ``linkedin:URL``, ``source_id:apollo:ID`` (or ``id:``), or a bare value
    whose kind is plain to see (an e-mail, ``@domain``, a LinkedIn URL)."""
    raw = text.strip()
    if kind is None:
        head, sep, rest = raw.partition(":")
        if sep and head.lower() in (*KINDS, "id", "source") and not rest.startswith("//"):
            kind, raw = ("source_id" if head.lower() in ("id", "source") else head.lower()), rest.strip()
        elif "linkedin.com/" in raw.lower():
            kind = "linkedin"
        elif raw.startswith("@"):
            kind, raw = "domain", raw[1:]
        elif "@" in raw:
            kind = "email"
        else:
            raise SuppressionError(f"cannot tell what {text!r} is; write email:ADDRESS, domain:DOMAIN, "
                                   "linkedin:URL or source_id:SOURCE:ID")
    if kind not in KINDS:
        raise SuppressionError(f"unknown suppression kind {kind!r}; kinds are {', '.join(KINDS)}")
    key = normalise(kind, raw)
    if key is None:
        raise SuppressionError(f"{text!r} is not a valid {kind.replace('_', ' ')}")
    return Entry(kind, key)


def normalise(kind: str, value: str) -> str | None:
    if kind == "email":
        return normalize.email_key(value)
    if kind == "domain":
        return normalize.domain_key(value)
    if kind == "linkedin":
        return normalize.linkedin_key(value)
    source, sep, source_id = value.strip().partition(":")
    return f"{source.strip()}:{source_id.strip()}" if sep and source.strip() and source_id.strip() else None


# --- the keyed hash ------------------------------------------------------------------------------------


def hash_key() -> bytes:
    """The store's hashing key, made on first use (random, 32 bytes). Losing it (a new store) loses the ability to
    recognise forgotten people, so backups carry it with the list."""
    row = KV.get_or_none(KV.key == KEY_NAME)
    if row is None or not isinstance(row.value, str):
        KV.insert(key=KEY_NAME, value=secrets.token_hex(32), updated_at=time.time()).on_conflict_ignore().execute()
        row = KV.get(KV.key == KEY_NAME)
    return bytes.fromhex(str(row.value))


def digest(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


# --- the list ------------------------------------------------------------------------------------------


def add(entries: Sequence[Entry], *, origin: str = "manual", reason: str | None = None,
        keep_value: bool = True) -> dict[str, Any]:
    """Add entries (those already there stay as they are, except that a forgotten one loses its plain value) and
    cancel the writes already queued for the people they name. Returns what was added and cancelled."""
    key, now = hash_key(), time.time()
    added = 0
    for entry in entries:
        d = digest(key, entry.kind, entry.key)
        existing = Suppression.get_or_none(Suppression.digest == d)
        if existing is None:
            Suppression.create(kind=entry.kind, digest=d, value=entry.key if keep_value else None, origin=origin,
                               reason=reason, created_at=now)
            added += 1
        elif not keep_value and existing.value is not None:
            Suppression.update(value=None, origin=origin).where(Suppression.id == existing.id).execute()
    return {"added": added, "cancelled": cancel_queued(entries)}


def requested(wanted: Sequence[contracts.Suppression]) -> list[tuple[Entry, str]]:
    """A plugin's suppression requests (``WebhookContent.suppress``) as entries, each with its reason; raises
    SuppressionError, naming the request, for one that cannot be read."""
    out = []
    for request in wanted:
        kind = PLUGIN_KINDS.get(request.kind)
        if kind is None:
            raise SuppressionError(f"suppression kind {request.kind!r} is not one a plugin may ask for; kinds are "
                                   f"{', '.join(PLUGIN_KINDS)}")
        key = normalise(kind, request.value)
        if key is None:
            raise SuppressionError(f"{request.value!r} is not a valid {request.kind.replace('_', ' ')}"
                                   + (" (write SOURCE:ID)" if kind == "source_id" else ""))
        out.append((Entry(kind, key), request.reason.strip() or "asked by the plugin"))
    return out


def add_requested(entries: Sequence[tuple[Entry, str]], *, origin: str) -> dict[str, int]:
    """Add ``requested`` entries under ``origin`` (the plugin's name), one ``add`` per reason, so that each entry
    keeps its own reason and the writes queued for the people they name are cancelled."""
    totals = {"added": 0, "cancelled": 0}
    by_reason: dict[str, list[Entry]] = {}
    for entry, reason in entries:
        by_reason.setdefault(reason, []).append(entry)
    for reason, group in by_reason.items():
        done = add(group, origin=origin, reason=reason)
        totals["added"] += done["added"]
        totals["cancelled"] += done["cancelled"]
    return totals


def remove(entries: Sequence[Entry]) -> dict[str, Any]:
    """Remove entries. Leads they suppressed are staged again by the next pull that brings them (a full sync
    brings every one): their content hash is cleared so that an unchanged record counts as new."""
    key = hash_key()
    digests = [digest(key, e.kind, e.key) for e in entries]
    removed = Suppression.delete().where(Suppression.digest.in_(digests)).execute() if digests else 0
    if removed:
        StagedLead.update(content_hash="").where(StagedLead.state == "suppressed").execute()
    return {"removed": int(removed)}


def listing(limit: int = 1000) -> dict[str, Any]:
    rows = Suppression.select().order_by(Suppression.id).limit(limit)
    return {"total": Suppression.select().count(), "entries": [
        {"id": r.id, "kind": r.kind, "value": r.value, "forgotten": r.value is None, "origin": r.origin,
         "reason": r.reason, "created_at": r.created_at} for r in rows]}


def sync_config(entries: Sequence[Entry]) -> dict[str, int]:
    """Make the list's ``config`` entries those of ``[suppression]`` (entries and file): new ones added, ones no
    longer configured removed. Manual and forget entries are never touched."""
    key = hash_key()
    wanted = {digest(key, e.kind, e.key): e for e in entries}
    have = {r.digest for r in Suppression.select(Suppression.digest).where(Suppression.origin == "config")}
    gone = [d for d in have if d not in wanted]
    for part in chunks(gone):
        Suppression.delete().where(Suppression.digest.in_(part)).execute()
    fresh = [e for d, e in wanted.items() if d not in have]
    added = add(fresh, origin="config", reason="[suppression] in the configuration")["added"] if fresh else 0
    return {"added": added, "removed": len(gone)}


def cancel_queued(entries: Sequence[Entry]) -> int:
    """Pending writes of the people ``entries`` name are cancelled: suppression applies to what is queued too."""
    people: set[int] = set()
    for entry in entries:
        if entry.kind == "email":
            people.update(p.id for p in Person.select(Person.id).where(Person.email_key == entry.key))
        elif entry.kind == "linkedin":
            people.update(p.id for p in Person.select(Person.id).where(Person.linkedin_key == entry.key))
        elif entry.kind == "domain":
            people.update(p.id for p in Person.select(Person.id).where(Person.email_key.endswith(f"@{entry.key}")))
        else:
            source, _, source_id = entry.key.partition(":")
            people.update(pid for (pid,) in tuples(StagedLead.select(StagedLead.person_id).where(
                (StagedLead.source == source) & (StagedLead.source_id == source_id) &
                StagedLead.person_id.is_null(False))))
    cancelled = 0
    for part in chunks(sorted(people)):
        cancelled += Outbox.update(state="cancelled", last_error="suppressed", updated_at=time.time()).where(
            Outbox.entity_id.in_(part) & Outbox.kind.in_(("person", "opportunity")) &
            (Outbox.state == "pending")).execute()
    return int(cancelled)


def entries_from_config(table: Mapping[str, Any], base: Path | None = None) -> list[Entry]:
    """``[suppression] entries`` and the lines of ``file`` (one entry a line; ``#`` starts a comment)."""
    config = str(base / "halosync.toml") if base is not None else "<configuration>"
    texts: list[tuple[str, str, int, str]] = [(str(t), config, 0, "suppression.entries")
                                              for t in table.get("entries") or ()]
    name = str(table.get("file") or "")
    if name:
        path = Path(name) if Path(name).is_absolute() or base is None else base / name
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError([ConfigProblem(config, 0, "suppression.file", f"cannot read {path}: "
                                             f"{exc.strerror or exc}; fix the path or remove the key")]) from exc
        texts += [(line.split("#", 1)[0].strip(), str(path), n, "entry") for n, line in enumerate(lines, 1)]
    out, problems = [], []
    for text, where, line, key in texts:
        if not text:
            continue
        try:
            out.append(parse_entry(text))
        except SuppressionError as exc:
            problems.append(ConfigProblem(where, line, key, str(exc)))
    if problems:
        raise ConfigError(problems)
    return out


# --- the planner's check --------------------------------------------------------------------------------


@dataclass
class SuppressionRules:
    """What the planner checks each lead against besides the list (from ``[suppression]``)."""

    labels: frozenset[str] = frozenset()
    email_statuses: frozenset[str] = frozenset(DEFAULT_EMAIL_STATUSES)
    strip_plus_tags: bool = True
    _key: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_config(cls, table: Mapping[str, Any], *, strip_plus_tags: bool = True) -> SuppressionRules:
        return cls(frozenset(str(x) for x in table.get("labels") or ()),
                   frozenset(str(x).strip().casefold() for x in table.get("email_statuses", DEFAULT_EMAIL_STATUSES)),
                   strip_plus_tags)

    def lead_entries(self, lead: Lead) -> list[Entry]:
        p, c = lead.person, lead.company
        out = [Entry("source_id", f"{lead.source}:{lead.source_id}")]
        # Always with plus tags dropped, whatever [match] says: an entry for a@b.com covers a+news@b.com too
        # (suppression errs on the side of not contacting), and entries are normalised the same way.
        email = normalize.email_key(p.email)
        if email:
            out += [Entry("email", email), Entry("domain", email.rpartition("@")[2])]
        linkedin = normalize.linkedin_key(p.linkedin_url)
        if linkedin:
            out.append(Entry("linkedin", linkedin))
        if c is not None:
            for value in (c.domain, c.website):
                domain = normalize.domain_key(value)
                if domain:
                    out.append(Entry("domain", domain))
        return out

    def signal(self, lead: Lead) -> str | None:
        """The source's own do-not-contact signal on ``lead``, described, or None."""
        status = (lead.person.email_status or "").strip().casefold()
        if status and status in self.email_statuses:
            return f"email_status {status}"
        labels = sorted(self.labels.intersection(lead.labels))
        return f"label {labels[0]}" if labels else None

    def check(self, leads: Iterable[Lead]) -> dict[tuple[str, str], dict[str, Any]]:
        """(source, source_id) -> why, for each suppressed lead of ``leads``."""
        if self._key is None:
            self._key = hash_key()
        key = self._key
        wanted: dict[str, list[tuple[tuple[str, str], str]]] = {}
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for lead in leads:
            ref = (lead.source, lead.source_id)
            why = self.signal(lead)
            if why is not None:
                out[ref] = {"by": "source", "signal": why}
                continue
            for entry in self.lead_entries(lead):
                wanted.setdefault(digest(key, entry.kind, entry.key), []).append((ref, entry.kind))
        for part in chunks(sorted(wanted)):
            for d, origin in tuples(Suppression.select(Suppression.digest, Suppression.origin).where(
                    Suppression.digest.in_(part))):
                for ref, kind in wanted[d]:
                    out.setdefault(ref, {"by": kind, "origin": origin})
        return out


def forgotten_people(records: Iterable[Any]) -> set[tuple[str, str]]:
    """(kind, sink_id) of the people among a sink's ``records`` whom ``forget`` erased (their entry on the list is a
    keyed hash only, no plain value): the mirror keeps no copy of them, though their sink record stays."""
    key: bytes | None = None
    wanted: dict[str, list[tuple[str, str]]] = {}
    for rec in records:
        if rec.kind != "person":
            continue
        key = key or hash_key()
        ref = (rec.kind, str(rec.sink_id))
        email = normalize.email_key(rec.fields.get("email"))
        linkedin = normalize.linkedin_key(rec.fields.get("linkedin_url"))
        for kind, value in (("email", email), ("linkedin", linkedin)):
            if value:
                wanted.setdefault(digest(key, kind, value), []).append(ref)
    out: set[tuple[str, str]] = set()
    for part in chunks(sorted(wanted)):
        for (d,) in tuples(Suppression.select(Suppression.digest).where(
                Suppression.digest.in_(part), Suppression.value.is_null())):
            out.update(wanted[d])
    return out


def minimal_payload(lead: Lead) -> dict[str, Any]:
    """What a suppressed staged lead keeps: nothing about the person, only the record's reference."""
    return {"source": lead.source, "source_id": lead.source_id, "person": {}, "company": None, "labels": [],
            "raw": {}, "suppressed": True}
