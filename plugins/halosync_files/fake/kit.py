"""How halosync's conformance kit (halosync.testing) drives the file source: the adapter its tests return from the
fixture ``halosync_file_source_fake`` (a ``halosync.testing.FileSourceFake``, matched by shape: this plugin
imports only halosync.plugin).

The adapter keeps the exports it has dropped as lists of ``FakePerson`` (ZoomInfo's layout, whose contact id makes
a row's lead the same across versions of the file) and writes each one whole every time it changes, under a
hidden temporary name first, then moved into place: a pull never meets half a file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from halosync.plugin import Source
from halosync_files.fake.generator import FakePerson, expected_id, people, write_csv
from halosync_files.settings import FilesSettings
from halosync_files.source import FilesSource

VENDOR = "zoominfo"
HEADER_ROWS = 1  # the export's header: its first person is on row 2, as a spreadsheet numbers it


@dataclass
class FilesKitFake:
    folder: Path
    page_size: int = 10
    exports: dict[str, list[FakePerson]] = field(default_factory=dict)  # file name -> its rows, in order
    made: int = 0

    def source(self, folder: Path, state_dir: Path) -> Source:
        settings = FilesSettings.from_table({"folder": str(folder), "settle_seconds": 0, "page_rows": self.page_size})
        return FilesSource(settings, state_dir / "files" / "files.sqlite3")

    def add(self, count: int, *, new_file: bool = False) -> list[str]:
        if new_file or not self.exports:
            self.exports[f"export-{len(self.exports) + 1}.csv"] = []
        name = next(reversed(self.exports))
        added = list(people(count, seed=self.made + 1, start=self.made))
        self.made += count
        self.exports[name] += added
        self._drop(name)
        return [expected_id(VENDOR, p) for p in added]

    def edit(self, source_id: str) -> str:
        for name, persons in self.exports.items():
            for i, p in enumerate(persons):
                if expected_id(VENDOR, p) == source_id:
                    mark = f"Chief Kit Officer {p.n}"
                    persons[i] = replace(p, title=mark)
                    self._drop(name)
                    return mark
        raise KeyError(f"no row of {source_id} in the exports {list(self.exports)}")

    def add_malformed(self) -> str:
        if not self.exports:
            self.add(0)
        name = next(reversed(self.exports))
        broken = replace(next(people(1, seed=self.made + 1, start=self.made)), email="not-an-address")
        self.made += 1
        self.exports[name].append(broken)
        self._drop(name)
        return f"{name}:{len(self.exports[name]) + HEADER_ROWS}"

    def _drop(self, name: str) -> None:
        partial = self.folder / f".{name}.tmp"
        write_csv(partial, VENDOR, self.exports[name])
        os.replace(partial, self.folder / name)
