"""Hook implementations of the file-import plugin (entry point ``files = "halosync_files.plugin"``)."""

from __future__ import annotations

from halosync.plugin import PluginConfigSpec, PluginHost, Source, hookimpl
from halosync_files.settings import CONFIG_SPEC, FilesSettings
from halosync_files.source import FilesSource


@hookimpl
def halosync_config_spec() -> PluginConfigSpec:
    return CONFIG_SPEC


@hookimpl
def halosync_sources(host: PluginHost) -> list[Source]:
    table = host.settings("files")
    if table is None:
        return []
    return [FilesSource(FilesSettings.from_table(table), host.state_dir / "files" / "files.sqlite3")]
