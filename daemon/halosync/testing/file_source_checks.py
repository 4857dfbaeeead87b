"""The file-source conformance checks: subclass ``FileSourceConformance`` in a test module, next to a fixture
``halosync_file_source_fake`` that returns your ``FileSourceFake`` writing into the kit's folder::

    from halosync.testing import FileSourceConformance

    @pytest.fixture
    def halosync_file_source_fake(halosync_watched_folder: Path) -> MyExportsFake:
        return MyExportsFake(halosync_watched_folder)

    class TestMyFileSource(FileSourceConformance):
        pass

A file source has no provider to throttle it and no change times to tie: what loses or repeats leads is the
cursor through a folder of files (a crash between pages, a file read to its end but not yet committed), a file
dropped again, and rows a user must find in a spreadsheet to fix. Each check proves one of those promises; a
failure says what was seen and what to change.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from halosync.plugin import ProviderError
from halosync.testing.common import (
    GUIDE,
    assert_checks_fail_clearly,
    assert_nothing_lost,
    assert_pulls_to_the_end,
    assert_rejected_with_a_reason,
    carries,
    pull_past_malformed,
    sample,
)
from halosync.testing.kit import IN_FLIGHT, FileSourceKit, Pulled


def _after(pulled: Pulled, before: str | None) -> str | None:
    return pulled.cursor if pulled.cursor is not None else before


def _broken_folders(scratch: Path) -> dict[str, Path]:
    """Watched folders a source cannot read, by what is wrong with them (the file world's bad credentials)."""
    a_file = scratch / "a-file-not-a-folder"
    a_file.write_text("", encoding="utf-8")
    broken = {"a folder that does not exist": scratch / "no-such-folder", "a file where the folder should be": a_file}
    if hasattr(os, "geteuid") and os.geteuid() != 0:  # root reads any folder, whatever its mode says
        locked = scratch / "locked"
        locked.mkdir()
        locked.chmod(0)
        broken["a folder this user may not read"] = locked
    return broken


@pytest.mark.trio
@pytest.mark.halosync_conformance
class FileSourceConformance:
    """The checks every file source must pass; fixtures ``halosync_file_source_fake`` (yours) and
    ``halosync_file_source_kit`` (the kit's) drive them."""

    async def test_pull_pages_to_the_end(self, halosync_file_source_kit: FileSourceKit) -> None:
        kit = halosync_file_source_kit
        await assert_pulls_to_the_end(kit.fake.add, kit.pull, kit.fake.page_size, per_page="page_size rows of a file",
                                      lost="pull() must read every ready file to its last row, yielding its rows "
                                      "page by page")

    async def test_a_crash_at_any_page_resumes_with_nothing_lost_or_repeated(
            self, halosync_file_source_kit: FileSourceKit) -> None:
        kit = halosync_file_source_kit
        size = kit.fake.page_size
        ids = set(kit.fake.add(size * 2 + 1)) | set(kit.fake.add(size + 3, new_file=True))
        delivered: set[str] = set()
        committed: str | None = None
        restarts = 3 * (len(ids) // size + 4)  # every page, and the pages that finish and settle files, with room
        for restart in range(1, restarts + 1):
            # The process commits one page, fetches the next ones (in flight, never committed), and dies.
            pulled = await kit.pull(committed, stop_after=1 + IN_FLIGHT)
            if not pulled.pages:
                break
            page = {lead.source_id for lead in pulled.pages[0].leads}
            again = page & delivered
            assert not again, (
                f"restart {restart}: resumed from the cursor committed last, the pull delivered again "
                f"{len(again)} record(s) that committed pages had delivered (e.g. {sample(again)}). Only the pages "
                "in flight at a crash (fetched, never committed) may come again: a page's cursor must say how far "
                "into which file the pull is (the row after the page's last), not only which file, or every "
                f"restart reads a file from its top again ({GUIDE})")
            delivered |= page
            committed = pulled.pages[0].cursor if pulled.pages[0].cursor is not None else committed
        else:
            raise AssertionError(
                f"after {restarts} crashes, each after one committed page, the pull still had pages to deliver: "
                "a page's cursor must move past the rows that page carries, and a pull from the cursor of a "
                "file's last page must not read that file again")
        assert_nothing_lost(ids, delivered, f"pulls that crashed after every page with {IN_FLIGHT} more in flight",
                            "A page's cursor must cover its rows and those before them, never a row of a page not "
                            "yet committed; and a file must stay where the next pull finds it (not moved aside, "
                            "not marked read in your own state) until a committed cursor says its last page is "
                            "staged")

    async def test_a_redropped_export_stages_only_its_new_rows(self, halosync_file_source_kit: FileSourceKit
                                                                ) -> None:
        kit = halosync_file_source_kit
        first = set(kit.fake.add(kit.fake.page_size + 2))
        read = await kit.poll()
        assert_nothing_lost(first, read.ids, "an export read once", "pull() must read every ready file")
        kit.fake.add(0)  # the same export dropped again
        same = await kit.poll(read.cursor)
        assert not same.leads, (
            f"the same export dropped again staged {len(same.leads)} of its {len(first)} rows again (e.g. "
            f"{sample(same.ids)}): remember what each file's rows were (a hash per row, under state_dir) and "
            f"stage only the rows that are new or changed since the file of that name was read ({GUIDE})")
        new = set(kit.fake.add(3))
        grown = await kit.poll(_after(same, read.cursor))
        assert_nothing_lost(new, grown.ids, "an export dropped again with new rows",
                            "Rows that are new in a file dropped again must be staged")
        again = grown.ids - new
        assert not again, (
            f"an export dropped again with {len(new)} new rows staged {len(again)} of the rows read before too "
            f"(e.g. {sample(again)}): compare the new version with the one read before and stage only the rows "
            f"that are new or changed ({GUIDE})")

    async def test_an_edited_row_arrives_and_alone(self, halosync_file_source_kit: FileSourceKit) -> None:
        kit = halosync_file_source_kit
        ids = kit.fake.add(kit.fake.page_size + 2)
        read = await kit.poll()
        edited = ids[len(ids) // 2]
        mark = kit.fake.edit(edited)
        after = await kit.poll(read.cursor)
        assert any(lead.source_id == edited and carries(lead, mark) for lead in after.leads), (
            f"record {edited} was edited in the export dropped again (it now carries {mark!r}), but no pull "
            "delivered the edit: a row whose content changed is new, even when its id and its place in the file "
            f"did not ({GUIDE})")
        others = after.ids - {edited}
        assert not others, (
            f"one edited row in an export dropped again staged {len(others)} unchanged rows as well (e.g. "
            f"{sample(others)}): stage only the rows that changed since the file of that name was read ({GUIDE})")

    async def test_malformed_rows_become_rejected_naming_file_and_row(self, halosync_file_source_kit: FileSourceKit
                                                                      ) -> None:
        kit = halosync_file_source_kit
        ids = set(kit.fake.add(3))
        where = kit.fake.add_malformed()
        ids |= set(kit.fake.add(2))
        pulled = await pull_past_malformed(kit.poll, "row")
        assert_rejected_with_a_reason(pulled, ids, "row")
        named = re.compile(re.escape(where) + r"(?!\d)")
        assert any(named.search(r.reason) for r in pulled.rejected), (
            f"the malformed row {where} was rejected as {[r.reason for r in pulled.rejected]!r}, which does not "
            f"say where it is: start the reason with FILE:ROW ('{where}: ...'), the row number a spreadsheet shows, "
            f"so that the user can find the row and fix it ({GUIDE})")

    async def test_checks_fail_clearly_on_an_unreadable_folder(self, halosync_file_source_kit: FileSourceKit
                                                               ) -> None:
        kit = halosync_file_source_kit
        broken = _broken_folders(kit.scratch)
        try:
            for what, folder in broken.items():
                await assert_checks_fail_clearly(
                    kit.source().checks, kit.source(folder).checks, good="a readable watched folder", bad=what,
                    refused=what, hint="create the folder, or set the plugin's folder setting to where exports go")
                await _assert_pull_fails_clearly(kit, folder, what)
        finally:
            for folder in broken.values():
                if folder.is_dir():
                    folder.chmod(0o700)  # so that pytest can remove it


async def _assert_pull_fails_clearly(kit: FileSourceKit, folder: Path, what: str) -> None:
    """A pull over an unreadable folder raises a ProviderError naming it: the daemon shows the source degraded and
    tries again with backoff (a share may be mounted again), and `run --once` fails saying why."""
    try:
        await kit.pull(folder=folder)
    except ProviderError as exc:
        assert folder.name in str(exc), (
            f"a pull over {what} raised {type(exc).__name__}: {exc}, which does not name the folder: say which "
            "folder cannot be read and what to do")
        return
    except Exception as exc:
        raise AssertionError(
            f"a pull over {what} raised {type(exc).__name__}: {exc}. Raise ProviderError (halosync.plugin) naming "
            "the folder, so that the daemon shows the source degraded and tries again") from exc
    raise AssertionError(
        f"a pull over {what} ({folder}) raised nothing, as if the folder were empty: the user would never learn why "
        "nothing is imported. Raise ProviderError (halosync.plugin) naming the folder and what to do; the daemon "
        f"shows the source degraded and tries again ({GUIDE})")


__all__ = ["FileSourceConformance"]
