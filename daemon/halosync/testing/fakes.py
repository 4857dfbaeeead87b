"""What a plugin author hands the conformance kit: their fake, and how to point their plugin at it.

An author implements one of these small adapters over their fake (in their tests, as a class or a dataclass) and
returns it from the fixture ``halosync_source_fake`` or ``halosync_sink_fake``. The kit serves ``app`` on a real
socket behind ``halosync.testing.faults.FaultyApp`` and calls ``source(base_url, ...)`` / ``sink(base_url, ...)``
for a fresh object each time it needs one (a restart after a crash is a new object from the same cursor).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from halosync.plugin import ASGIApp, EntityKind, Sink, Source


class SourceFake(Protocol):
    """A source's fake, as the kit drives it.

    ``page_size`` is how many records one page of ``pull`` carries with the settings ``source`` uses; the kit adds
    several pages' worth. ``reports_quota``: the provider sends quota headers, so ``rate_limits()`` must show
    them after a pull (False skips that check). ``sends_retry_after``: the provider's 429s carry Retry-After, so
    the source must wait that long (False: the kit's 429s come without it only).
    """

    app: ASGIApp
    page_size: int
    reports_quota: bool
    sends_retry_after: bool

    def source(self, base_url: str, *, credentials_ok: bool = True) -> Source:
        """A new source pointed at ``base_url``; with ``credentials_ok=False``, with credentials the fake refuses."""
        ...

    def add(self, count: int, *, same_time: bool = False) -> list[str]:
        """Add ``count`` records, changed after every record already there; return their source ids. With
        ``same_time`` they all share one change time (ties across a page boundary)."""
        ...

    def edit(self, source_id: str) -> str:
        """Change a record as a user would (its change time moves to now); return a text that the lead pulled for
        it afterwards carries in one of its fields (a new title, say), so the kit can tell the edit arrived."""
        ...

    def add_malformed(self) -> str | None:
        """Add a record that cannot become a lead (no id, no name and no email, a broken field...), changed
        after the others; return its source id, or None when it has none."""
        ...


class SinkFake(Protocol):
    """A sink's fake, as the kit drives it.

    ``kind`` is the entity kind the kit writes and lists (one the sink writes without a parent, usually
    "company"); ``page_size`` how many records one ``list_records`` page carries with the settings ``sink`` uses.
    ``is_write(method, path)`` says which HTTP requests carry out writes (a lost answer is aimed at one), so that a
    token request is not mistaken for one. ``sends_retry_after`` as for a source.
    """

    app: ASGIApp
    kind: EntityKind
    page_size: int
    sends_retry_after: bool

    def sink(self, base_url: str, *, credentials_ok: bool = True) -> Sink:
        """A new sink pointed at ``base_url``; with ``credentials_ok=False``, with credentials the fake refuses."""
        ...

    def new_fields(self, n: int) -> Mapping[str, Any]:
        """Canonical fields (``halosync.plugin.COMPANY_FIELDS`` / ``PERSON_FIELDS``) of the n-th new record;
        distinct for each n, so that records can be told apart."""
        ...

    def changed_fields(self, n: int) -> Mapping[str, Any]:
        """Fields an update of the n-th record changes; ``fetch`` must show them afterwards."""
        ...

    def refused_fields(self) -> Mapping[str, Any] | None:
        """Fields of a record the provider refuses on its own (a value it will not store), or None when there is
        no such record: then the per-item refusal check is skipped."""
        ...

    def add(self, count: int) -> None:
        """Records of ``kind`` that exist in the sink before halosync writes (created by people in the CRM)."""
        ...

    def count(self) -> int:
        """How many records of ``kind`` the fake holds (to see that a retried write made no second record)."""
        ...

    def is_write(self, method: str, path: str) -> bool: ...
