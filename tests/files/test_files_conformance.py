"""The file source passes the conformance kit's file-source checks (halosync.testing.FileSourceConformance),
driven through its own kit adapter over exports its fake writes into the kit's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from halosync.testing import FileSourceConformance
from halosync_files.fake.kit import FilesKitFake


@pytest.fixture
def halosync_file_source_fake(halosync_watched_folder: Path) -> FilesKitFake:
    return FilesKitFake(halosync_watched_folder)


class TestFilesConformance(FileSourceConformance):
    pass
