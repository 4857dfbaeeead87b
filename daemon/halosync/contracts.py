"""Runtime contracts between the daemon and its plugins.

Plugins hand the daemon objects (through the registration hooks in ``halosync.plugin.spec``); these Protocols say
what those objects must do. Async methods are awaited from the daemon's trio loop and must honour cancellation;
every network call inside them is bounded by a timeout.

Plugin authors import all of these from ``halosync.plugin``, the stable surface (docs/plugins.md).

Error semantics shared by all of them: raise a ``halosync.errors.ProviderError`` subclass. ``retryable=True`` errors
(timeouts, 5xx, 429) are retried by the daemon with backoff; others are reported to the user as they are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from halosync.model import Lead

if TYPE_CHECKING:  # the matcher's data types live with the engine that builds them (halosync.engine.matching)
    from halosync.engine.matching import Candidate, CompanyIdentity, Decision, LeadKeys

EntityKind = Literal["company", "person", "opportunity"]
CheckStatus = Literal["pass", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One diagnostic line: ``halosync diagnose`` prints ``status  name  message`` and the hint when not passing."""

    name: str
    status: CheckStatus
    message: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class RateWindow:
    """One quota window of one provider, as last observed. Times are UNIX epoch seconds."""

    provider: str
    window: str  # "minute", "hour", "day", "rolling-300s", ...
    limit: int | None
    used: int | None
    remaining: int | None
    reset_at: float | None = None
    endpoint: str = ""
    # When the window will run out at the current pace, or None if it will not before reset_at.
    exhausted_at: float | None = None
    # Where limit and window come from, when the provider does not report them: "config", "default",
    # "learned from a 429 at ..." ("" when the provider reports them itself, as Apollo's headers do).
    basis: str = ""


# --- sources -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rejected:
    """A source record that could not be turned into a lead; it goes to the dead letters with ``reason``."""

    source_id: str | None
    reason: str
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourcePage:
    """A page of a pull. ``cursor`` is opaque to the daemon; it is committed in the same transaction as the
    leads, so after a crash the pull resumes after the last staged page, never past an unstaged lead.

    ``total``, when the source knows it (Apollo's ``total_entries``), is how many records (leads and rejected) the
    whole pull is expected to yield, this page and the earlier ones included: an estimate that may change from page
    to page, for progress only (``halosyncctl sync --follow`` shows a percentage and an ETA from it)."""

    leads: Sequence[Lead]
    cursor: str | None
    rejected: Sequence[Rejected] = ()
    total: int | None = None


@runtime_checkable
class Source(Protocol):
    name: str

    def pull(self, cursor: str | None, *, full: bool = False) -> AsyncIterator[SourcePage]:
        """Yield pages of leads changed after ``cursor`` (everything when ``cursor`` is None or ``full``),
        oldest first, until the source is exhausted. Waits on the provider's quotas itself."""
        ...

    async def checks(self) -> list[CheckResult]:
        """Connectivity, auth and permission checks for ``halosync diagnose``."""
        ...

    def rate_limits(self) -> list[RateWindow]:
        """The quota windows as last observed; never calls the provider."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class FileSource(Source, Protocol):
    """A source that can also read one file given by hand (issue 17: ``halosync import FILE``).

    ``pull_file`` reads ``path`` as if it had been dropped where the source watches, with the same cursor as
    ``pull`` (so the pages commit the same way and a crash resumes), but leaves the file where it is."""

    def pull_file(self, path: Path, cursor: str | None, *, full: bool = False) -> AsyncIterator[SourcePage]: ...


# --- sinks -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SinkRecord:
    """A record as it exists in the sink, described with canonical field names (``halosync.model``)."""

    kind: EntityKind
    sink_id: str
    fields: Mapping[str, Any]
    parent_id: str | None = None  # for a person: the sink id of its company
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class MirrorPage:
    records: Sequence[SinkRecord]
    # Where an incremental refresh resumes next time (opaque to the daemon), or None.
    watermark: str | None = None


@dataclass(frozen=True, slots=True)
class WriteOp:
    """One intended write, from one outbox row. ``key`` is the row's idempotency key."""

    key: str
    kind: EntityKind
    action: Literal["create", "update"]
    fields: Mapping[str, Any]  # canonical names; for an update only the fields that change
    sink_id: str | None = None  # the record to update
    parent_id: str | None = None  # for a person or opportunity: its company's sink id
    # For an opportunity: its contact's sink id. The daemon plans an opportunity only when it has created that
    # person in this sink (one per person and sink; see ``halosync.engine.opportunities``), so it is always set.
    person_id: str | None = None
    lead: Lead | None = None  # the lead behind the write, for templates and custom fields


@dataclass(frozen=True, slots=True)
class WriteResult:
    key: str
    sink_id: str | None = None  # set when the write succeeded
    error: str | None = None  # the sink's own words when it refused the record
    retryable: bool = False

    @property
    def ok(self) -> bool:
        return self.sink_id is not None and self.error is None


@runtime_checkable
class Sink(Protocol):
    name: str
    batch_size: int  # most ops one ``write`` call takes
    # What it writes, e.g. ("company", "person"), or with "opportunity": then every person the daemon creates in
    # this sink also gets one opportunity, written once the person's create has settled (it needs its sink id).
    kinds: tuple[EntityKind, ...]

    async def start(self) -> None:
        """Authenticate and resolve anything needed before writing (custom field ids). Raises ProviderError."""
        ...

    def list_records(self, kind: EntityKind, *, since: str | None = None) -> AsyncIterator[MirrorPage]:
        """Page through the sink's existing records of ``kind`` (changed after ``since`` when given), so the
        daemon can keep a local mirror and match without a sink call per lead."""
        ...

    async def write(self, ops: Sequence[WriteOp]) -> list[WriteResult]:
        """Carry out ops that all share one kind and action; return one result per op, in order. A record the
        sink refuses is a result with ``error``; a failure of the whole call raises a ProviderError."""
        ...

    async def find(self, ops: Sequence[WriteOp]) -> list[SinkRecord | None]:
        """For ops that may have been written before a crash: the record each one created, or None.
        The daemon calls this before retrying an in-flight op, so a timeout never creates a second record."""
        ...

    async def fetch(self, kind: EntityKind, sink_ids: Sequence[str]) -> dict[str, SinkRecord]:
        """The records that exist among ``sink_ids`` (for integrity checks)."""
        ...

    async def checks(self) -> list[CheckResult]: ...

    def rate_limits(self) -> list[RateWindow]: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ForgetResult:
    """What a sink did to erase one record (issue 16): ``outcome`` "deleted", "deactivated" (the sink refused to
    delete it: it is switched off and its personal fields blanked), "anonymised" (a record that stays, such as an
    opportunity, with the person's details blanked) or "missing" (not there any more)."""

    sink_id: str
    outcome: Literal["deleted", "deactivated", "anonymised", "missing"]
    detail: str = ""


@runtime_checkable
class ForgettingSink(Protocol):
    """Optional on a ``Sink`` (issue 16, ``halosyncctl forget --in-sinks``): erase a person's record in the sink
    (``kind`` "person"), deleting it, or deactivating it when the sink refuses the delete; or blank the person's
    details on a record that stays (``kind`` "opportunity"). Raises ProviderError when it cannot do
    either; the daemon then reports that sink as not erased and keeps nothing that would let it try again."""

    async def forget(self, kind: EntityKind, sink_id: str) -> ForgetResult: ...


# --- alerts ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alert:
    rule: str
    severity: Literal["info", "warning", "critical"]
    state: Literal["firing", "resolved"]
    summary: str
    value: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    started_at: float | None = None  # epoch seconds
    ended_at: float | None = None


@runtime_checkable
class Alerter(Protocol):
    name: str

    async def send(self, alerts: Sequence[Alert]) -> None:
        """Deliver a group of notifications. Raise on failure; the daemon retries and reports it in /health."""
        ...


# --- webhooks ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    plugin: str
    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    body: bytes
    received_at: float  # epoch seconds


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    reason: str  # why it passed or failed, in words for `POST /webhooks/test` and logs
    delivery_id: str | None = None  # the provider's delivery id, for de-duplication
    status: int = 401  # HTTP status to answer when not ok (400 malformed, 401 bad credentials)


@runtime_checkable
class WebhookVerifier(Protocol):
    plugin: str

    def verify(self, request: WebhookRequest) -> Verification:
        """Decide whether a delivery is authentic. Synchronous, cheap, constant-time where secrets are compared."""
        ...


SuppressionKind = Literal["email", "linkedin", "provider_id"]


@dataclass(frozen=True, slots=True)
class Suppression:
    """A plugin's request to put one person on halosync's suppression list (a provider's opt-out, for example).

    ``kind`` ``email`` (an address), ``linkedin`` (a profile URL) or ``provider_id`` (``SOURCE:ID``, one provider
    record: ``lusha:123``); ``reason`` is what ``halosyncctl suppress list`` shows beside the entry. The list keeps
    the person out of every sink from then on, and writes already queued for them are cancelled."""

    kind: SuppressionKind
    value: str
    reason: str


@dataclass(frozen=True, slots=True)
class WebhookContent:
    """What a verified delivery carries, as its plugin reads it: leads to stage under ``source``, and/or records
    that changed in the sink named ``sink`` (they update its mirror, and the links of deleted records), and/or
    people to ``suppress``. The suppressions are added (the plugin's name as their origin) in the transaction that
    marks the delivery processed; one halosync cannot read (an invalid address) makes the delivery a dead letter."""

    source: str | None = None
    leads: Sequence[Lead] = ()
    rejected: Sequence[Rejected] = ()
    sink: str | None = None
    records: Sequence[SinkRecord] = ()
    suppress: Sequence[Suppression] = ()


@runtime_checkable
class WebhookParser(Protocol):
    """Optional second half of a ``WebhookVerifier`` (the same object may implement both).

    ``parse`` runs later, in the webhook inbox worker, on a delivery that was verified and stored: its ``headers``
    (minus credentials such as Authorization, which are never stored), ``body`` and ``received_at``, with an empty
    ``query``. Raise ``halosync.errors.LeadError`` for content it cannot use: the delivery becomes a dead letter with
    that message as its reason. A verifier without ``parse`` has its deliveries stored and marked failed."""

    plugin: str

    def parse(self, request: WebhookRequest) -> WebhookContent: ...


# --- matchers ----------------------------------------------------------------------------------------


class CandidateIndex(Protocol):
    """What a matcher may look candidates up in: the local identities in the store and the sink's mirror."""

    def companies_by(self, rule: Literal["domain", "name"], key: str) -> list[Candidate]:
        """Local companies and mirror records whose domain key / name key equals ``key``."""
        ...

    def people_by(self, rule: Literal["email", "linkedin", "name"], key: str,
                  company: CompanyIdentity | None = None) -> list[Candidate]:
        """Local people and mirror records with that key; for ``name``, only those at ``company``."""
        ...


@runtime_checkable
class Matcher(Protocol):
    """Decides, for one lead, which existing company and person it is (``halosync_matchers``). It never calls a
    provider; the first matcher that returns a decision wins, and the rule matcher answers when none does."""

    name: str

    def match_company(self, keys: LeadKeys, index: CandidateIndex) -> Decision | None:
        """Which company the lead's company is (called only when the lead names a company); None: no opinion."""
        ...

    def match_person(self, keys: LeadKeys, company: CompanyIdentity | None,
                     index: CandidateIndex) -> Decision | None:
        """Which person the lead is; None: no opinion."""
        ...


# --- notifications -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadEvent:
    """Payload of ``halosync_lead_synced`` / ``halosync_lead_failed``."""

    source: str
    source_id: str
    sink: str
    outcome: str  # created | updated | merged | skipped | failed
    sink_id: str | None = None
    detail: str = ""
