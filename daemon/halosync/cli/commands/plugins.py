"""``halosync plugins [--json]``: the installed plugins: name, kind(s), version, hooks implemented, where loaded
from, and whether the configuration enables them."""

from __future__ import annotations

import argparse
from typing import Any

from halosync.cli.common import allow_block, config_path, guarded, print_json
from halosync.exitcodes import EX_OK, EX_PROBLEMS
from halosync.plugin.manager import PluginManager


def register(sub: Any) -> None:
    p = sub.add_parser("plugins", help="installed plugins: name, kinds, version, hooks, origin",
                       description="List the plugins loaded through the 'halosync' entry-point group.")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(handler=guarded(handle))


def handle(args: argparse.Namespace) -> int:
    path = config_path(args)
    allow, block = allow_block(path)
    plugins = PluginManager()
    plugins.load_entry_points(allow=allow, block=block, strict=False)
    enabled = set(enabled_tables(path))
    infos = plugins.info()
    # A plugin that cannot be imported is listed with its error (exit 1), so the listing still helps to find it.
    failed = {f.plugin: str(f).removeprefix(f"plugin {f.plugin!r}: ") for f in plugins.failures}
    code = EX_PROBLEMS if failed else EX_OK
    if args.json:
        print_json({"plugins": [{**info.as_dict(), "enabled": info.name in enabled} for info in infos],
                    "failed": [{"name": name, "error": error} for name, error in sorted(failed.items())]})
        return code
    if not infos and not failed:
        print("no plugins installed (entry-point group 'halosync')")
        return EX_OK
    for name, error in sorted(failed.items()):
        print(f"{name}  FAILED TO LOAD: {error}")
    for info in infos:
        state = "enabled" if info.name in enabled else "not configured"
        print(f"{info.name} {info.version or '(no version)'}  [{', '.join(info.kinds) or 'no registration hooks'}]"
              f"  {state}")
        print(f"    from {info.distribution or '(registered directly)'}: {info.origin}")
        print(f"    hooks: {', '.join(info.hooks) or '-'}")
    return code


def enabled_tables(path: Any) -> list[str]:
    """Plugins with a ``[plugins.NAME]`` table not switched off, from a raw read (the listing must work even
    while the configuration has problems; `check-config` reports those)."""
    import tomllib

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8")) if path is not None else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    tables = raw.get("plugins", {})
    return [name for name, table in tables.items() if isinstance(table, dict) and table.get("enabled") is not False]
