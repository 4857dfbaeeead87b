"""What a plugin author hands the conformance kit: their fake, and how to point their plugin at it.

An author implements one of these small adapters over their fake (in their tests, as a class or a dataclass) and
returns it from the fixture ``halosync_source_fake``, ``halosync_sink_fake`` or ``halosync_file_source_fake``. For
an HTTP provider the kit serves ``app`` on a real socket behind ``halosync.testing.faults.FaultyApp`` and calls
``source(base_url, ...)`` / ``sink(base_url, ...)`` for a fresh object each time it needs one (a restart after a
crash is a new object from the same cursor). A file source has no server: its fake writes export files into a
folder, and the kit calls ``source(folder, state_dir)`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
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


class FileSourceFake(Protocol):
    """A file source's fake, as the kit drives it: it writes export files (CSV, XLSX...) into ``folder``, as a
    user drops them into the watched folder, and the kit reads them with sources it makes.

    ``folder`` is where the exports go: take the kit's fixture ``halosync_watched_folder`` (a new empty folder for
    each check). ``page_size`` is how many rows one page of ``pull`` carries with the settings ``source`` uses;
    the kit adds several pages' worth.

    An export is the whole list, as a vendor writes it: ``add``, ``edit`` and ``add_malformed`` change the list
    and drop the export into ``folder`` again, under the same name, replacing (or, once it was moved aside after
    reading, recreating) the file. Write it whole and then move it into place (a hidden temporary name first), so
    that a pull never meets half a file.
    """

    folder: Path
    page_size: int

    def source(self, folder: Path, state_dir: Path) -> Source:
        """A new source watching ``folder``, ready to read a file as soon as it is there (no settling delay),
        keeping its own state (what it has read) under ``state_dir``, as under ``PluginHost.state_dir``: the kit
        passes the same one to every source of a check, as the daemon does across restarts."""
        ...

    def add(self, count: int, *, new_file: bool = False) -> list[str]:
        """Append ``count`` rows to the current export and drop it again; return their source ids. With
        ``new_file``, start a new export (another file name) with them instead. ``add(0)`` drops the current
        export again unchanged (as a user who drops the same file twice)."""
        ...

    def edit(self, source_id: str) -> str:
        """Change one row of the export as a user would (a new job title, say) and drop it again; return a text
        that the lead pulled for it afterwards carries in one of its fields, so the kit can tell the edit
        arrived."""
        ...

    def add_malformed(self) -> str:
        """Append a row that cannot become a lead (an e-mail that is not one, nothing naming a person...) to the
        export and drop it again; return where it is as ``FILE:ROW``, the file's name and the row number a
        spreadsheet shows (the header is row 1), which the rejection's reason must name."""
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
