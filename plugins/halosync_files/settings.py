"""The ``[plugins.files]`` table: its declaration (validation, ``config show``) and its typed form.

Custom mappings are sub-tables ``[plugins.files.mappings.NAME]`` of ``target = "Header"`` or
``target = ["Header", "Other header"]``; they take part in detection beside the presets, and ``preset = "NAME"``
forces one for every file.
"""

from __future__ import annotations

from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halosync.plugin import REQUIRED, Field, PluginConfigSpec, PluginError
from halosync_files.presets import PRESETS, TARGETS, Mapping

PATTERNS = ["*.csv", "*.tsv", "*.txt", "*.xlsx"]


def _check_mappings(value: Any) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not isinstance(value, dict):
        return [("", "must be a table of mappings: [plugins.files.mappings.NAME]")]
    for name, columns in value.items():
        if name in PRESETS:
            problems.append((name, f"{name!r} is a preset's name; give the custom mapping another"))
        if not isinstance(columns, dict) or not columns:
            problems.append((name, 'must be a table of target = "Header" (or a list of headers)'))
            continue
        for target, headers in columns.items():
            if target not in TARGETS:
                problems.append((f"{name}.{target}", f"unknown target; targets are {', '.join(TARGETS)}"))
            elif not (isinstance(headers, str) and headers) and not (
                    isinstance(headers, list) and headers and all(isinstance(h, str) and h for h in headers)):
                problems.append((f"{name}.{target}", "must be a header name or a list of header names"))
    return problems


def _check_preset(value: Any) -> list[tuple[str, str]]:
    return [] if isinstance(value, str) and value else [("", "must be auto, a preset or a custom mapping's name")]


CONFIG_SPEC = PluginConfigSpec(
    name="files",
    help="CSV and XLSX lead lists dropped into a watched folder (and `halosync import FILE`)",
    fields={
        "folder": Field(str, REQUIRED, "the folder exports are dropped into; processed/ and failed/ are made in it"),
        "preset": Field(str, "auto", "column mapping for every file: auto (detect per file), "
                        f"{', '.join(PRESETS)}, or a custom mapping's name", check=_check_preset),
        "mappings": Field(dict, {}, "custom column mappings: [plugins.files.mappings.NAME] target = \"Header\"",
                          check=_check_mappings),
        "patterns": Field(list, PATTERNS, "file names read from the folder (shell patterns)", items=str),
        "labels": Field(list, [], "labels put on every lead from a file (e.g. the event's name)", items=str),
        "encoding": Field(str, "", "text encoding of CSV files; empty: detect (utf-8, utf-8-sig, utf-16, cp1252)"),
        "delimiter": Field(str, "", "CSV delimiter; empty: detect", choices=("", ",", ";", "\t", "|")),
        "sheet": Field(str, "", "XLSX sheet to read; empty: the first"),
        "settle_seconds": Field(float, 5.0, "a file changed more recently than this is left for the next pull "
                                "(it may still be being copied)", minimum=0),
        "page_rows": Field(int, 500, "rows staged per page (one transaction each)", minimum=10, maximum=10_000),
    },
)


@dataclass(frozen=True)
class FilesSettings:
    folder: Path
    mappings: tuple[Mapping, ...]
    preset: str = "auto"
    patterns: tuple[str, ...] = tuple(PATTERNS)
    labels: tuple[str, ...] = ()
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    settle_seconds: float = 5.0
    page_rows: int = 500

    @classmethod
    def from_table(cls, table: AbcMapping[str, Any]) -> FilesSettings:
        custom = tuple(Mapping(name, {t: (h,) if isinstance(h, str) else tuple(h) for t, h in cols.items()})
                       for name, cols in (table.get("mappings") or {}).items())
        preset = str(table.get("preset") or "auto")
        names = [m.name for m in custom] + list(PRESETS)
        if preset != "auto" and preset not in names:
            raise PluginError("files", f"preset {preset!r} is neither a preset nor a custom mapping; use auto, "
                              f"{', '.join(names)}")
        return cls(
            folder=Path(str(table["folder"])).expanduser(),
            mappings=custom + tuple(PRESETS.values()),
            preset=preset,
            patterns=tuple(table.get("patterns") or PATTERNS),
            labels=tuple(table.get("labels") or ()),
            encoding=str(table.get("encoding") or ""),
            delimiter=str(table.get("delimiter") or ""),
            sheet=str(table.get("sheet") or ""),
            settle_seconds=float(table.get("settle_seconds", 5.0)),
            page_rows=int(table.get("page_rows", 500)),
        )

    def forced(self) -> str:
        """The mapping every file must use, or "" to detect one per file."""
        return "" if self.preset == "auto" else self.preset
