"""What every `halosync` command shares: loading plugins and configuration, and turning errors into exit codes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loguru import logger

from halosync import secrets
from halosync.config import loader
from halosync.config.loader import Config
from halosync.errors import ConfigError, HalosyncError
from halosync.exitcodes import EX_CONFIG, EX_PROBLEMS
from halosync.plugin.manager import PluginManager

Handler = Callable[[argparse.Namespace], int]


def config_path(args: argparse.Namespace) -> Path | None:
    return loader.find_config(getattr(args, "config", None))


def load_all(args: argparse.Namespace) -> tuple[Config, PluginManager]:
    """Plugins first (they declare their config tables), then the configuration validated against them."""
    path = config_path(args)
    allow, block = allow_block(path)
    pm = PluginManager()
    pm.load_entry_points(allow=allow, block=block)
    config = loader.load(path, pm.config_specs())
    logger.debug("plugins installed: {}; enabled: {}", ", ".join(sorted(s.name for s in pm.config_specs())) or "none",
                 ", ".join(config.enabled_plugins()) or "none")
    return config, pm


def allow_block(path: Path | None) -> tuple[list[str], list[str]]:
    """[plugins] allow/block decide what is imported, so they are read before the full validation."""
    import tomllib

    if path is None or not path.is_file():
        return [], []
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8")).get("plugins", {})
    except (OSError, tomllib.TOMLDecodeError):
        return [], []  # the full load reports the problem with its line
    allow, block = raw.get("allow", []), raw.get("block", [])
    return (allow if isinstance(allow, list) else []), (block if isinstance(block, list) else [])


def fail(message: str, code: int) -> int:
    print(f"halosync: {secrets.redact(message)}", file=sys.stderr)
    return code


def guarded(handler: Handler) -> Handler:
    """Run a command; a HalosyncError becomes one clear line on stderr and its exit code, not a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ConfigError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return EX_CONFIG
        except HalosyncError as exc:
            return fail(str(exc), exc.exit_code)
        except BrokenPipeError:
            # The reader went away (`halosync config show | head`): not an error worth a traceback. Point stdout
            # at /dev/null so the interpreter's final flush does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EX_PROBLEMS

    return run


def add_person_query(parser: argparse.ArgumentParser) -> None:
    """The QUERY naming one person, as ``forget``, ``export-person`` and ``trace`` take it (online and offline)."""
    parser.add_argument("query", metavar="QUERY", help="an e-mail address, a LinkedIn URL, a source record "
                        "(apollo:ID) or a sink id")


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
