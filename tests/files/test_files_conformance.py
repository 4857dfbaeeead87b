"""The file source passes the conformance kit's file-source checks (halosync.testing.FileSourceConformance),
driven through its own kit adapter over exports its fake writes into the kit's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from halosync.testing import FileSourceConformance, FileSourceFake
from halosync_files.fake.kit import FilesKitFake


@pytest.fixture
def halosync_file_source_fake(halosync_watched_folder: Path) -> FileSourceFake:
    return FilesKitFake(halosync_watched_folder)  # typed as the kit's protocol, so mypy checks that it is one


class TestFilesConformance(FileSourceConformance):
    pass
