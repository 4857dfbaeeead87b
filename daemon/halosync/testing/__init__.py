"""halosync's conformance kit for plugin authors: proof that a source or sink will not lose or double leads.

Install it with ``pip install halosync[test]``; it registers itself with pytest (entry point ``pytest11``). Point
it at your plugin and its fake with a fixture, and subclass the checks::

    import pytest
    from halosync.testing import SinkConformance, SourceConformance

    @pytest.fixture
    def halosync_source_fake() -> MyFakeAdapter:      # a SourceFake: your fake's ASGI app, and how to drive it
        return MyFakeAdapter()

    class TestMySource(SourceConformance):
        pass

The checks run over real sockets against your fake, served behind the kit's fault injector (429s with and
without Retry-After, answers lost after the work was done). A source that reads files dropped into a folder has
no server: its fake writes exports into the kit's folder (``halosync_watched_folder``), and
``FileSourceConformance`` checks it, with fixture ``halosync_file_source_fake`` returning a ``FileSourceFake``.
docs/plugins.md walks through both.
"""

from __future__ import annotations

from halosync.testing.fakes import FileSourceFake, SinkFake, SourceFake
from halosync.testing.faults import FaultyApp
from halosync.testing.file_source_checks import FileSourceConformance
from halosync.testing.kit import FileSourceKit, Pulled, SinkKit, SourceKit
from halosync.testing.sink_checks import SinkConformance
from halosync.testing.source_checks import SourceConformance

__all__ = ["FaultyApp", "FileSourceConformance", "FileSourceFake", "FileSourceKit", "Pulled", "SinkConformance",
           "SinkFake", "SinkKit", "SourceConformance", "SourceFake", "SourceKit"]
