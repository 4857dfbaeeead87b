"""The conformance kit as a pytest plugin (entry point ``pytest11: halosync``, installed with ``halosync[test]``).

It offers fixtures built on the ones the plugin author defines:

- ``halosync_source_kit`` serves the author's ``halosync_source_fake`` (a ``halosync.testing.SourceFake``) on a
  real socket behind the kit's fault injector and yields a ``SourceKit``;
- ``halosync_sink_kit`` does the same for ``halosync_sink_fake`` (a ``SinkFake``) and yields a ``SinkKit``;
- ``halosync_file_source_kit`` yields a ``FileSourceKit`` over ``halosync_file_source_fake`` (a
  ``FileSourceFake``), whose fake writes into ``halosync_watched_folder``, a new empty folder the kit offers.

Every source or sink the kit makes is closed when the test ends. The checks themselves are the test classes
``SourceConformance``, ``SinkConformance`` and ``FileSourceConformance`` (``halosync.testing``), which an author
subclasses in a test module.
They are trio tests (pytest-trio, installed with ``halosync[test]``), marked ``halosync_conformance``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from halosync.plugin import ASGIApp, serve
from halosync.testing.fakes import FileSourceFake, SinkFake, SourceFake
from halosync.testing.faults import FaultyApp
from halosync.testing.kit import FileSourceKit, SinkKit, SourceKit


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "halosync_conformance: a check of halosync's plugin conformance kit")


async def _served(nursery: trio.Nursery, app: ASGIApp) -> tuple[FaultyApp, str]:
    """Serve ``app`` behind the fault injector on a free port of 127.0.0.1."""
    faults = FaultyApp(app)
    url: str = await nursery.start(lambda task_status: serve(faults, graceful_timeout=0.5, task_status=task_status))
    return faults, url


@pytest.fixture
async def halosync_source_kit(nursery: trio.Nursery, halosync_source_fake: SourceFake) -> AsyncIterator[SourceKit]:
    kit = SourceKit(halosync_source_fake, *await _served(nursery, halosync_source_fake.app))
    yield kit
    for source in kit.made:
        await source.aclose()


@pytest.fixture
async def halosync_sink_kit(nursery: trio.Nursery, halosync_sink_fake: SinkFake) -> AsyncIterator[SinkKit]:
    kit = SinkKit(halosync_sink_fake, *await _served(nursery, halosync_sink_fake.app))
    yield kit
    for sink in kit.made:
        await sink.aclose()


@pytest.fixture
def halosync_watched_folder(tmp_path: Path) -> Path:
    """A new, empty folder for a file source's fake to drop its exports into."""
    folder = tmp_path / "watched"
    folder.mkdir()
    return folder


@pytest.fixture
async def halosync_file_source_kit(halosync_file_source_fake: FileSourceFake,
                                   tmp_path: Path) -> AsyncIterator[FileSourceKit]:
    # The state directory and the scratch folder sit beside the watched folder, never inside it: a source must
    # not find its own state among the exports.
    state_dir, scratch = tmp_path / "state", tmp_path / "scratch"
    state_dir.mkdir(exist_ok=True)
    scratch.mkdir(exist_ok=True)
    kit = FileSourceKit(halosync_file_source_fake, state_dir, scratch)
    yield kit
    for source in kit.made:
        await source.aclose()
