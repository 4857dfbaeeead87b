"""``halosync``: the daemon and its offline tools. Each command lives in ``halosync.cli.commands.<name>`` and
registers itself with ``register(subparsers)``, setting ``handler`` on its parser."""

from __future__ import annotations

import argparse
import importlib
import sys

from halosync import __version__, log
from halosync.exitcodes import EX_USAGE

COMMANDS = ("run", "check_config", "config_show", "diagnose", "migrate", "backup", "integrity", "plugins", "demo",
            "suppress", "forget", "export_person")  # the last three: issue 16


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="halosync",
        description="Keeps B2B leads flowing from lead providers into HaloPSA. "
        "Runs the daemon (`run`) and its offline tools.",
    )
    parser.add_argument("--version", action="version", version=f"halosync {__version__}")
    parser.add_argument("--config", metavar="PATH",
                        help="configuration file (default: $HALOSYNC_CONFIG, ./halosync.toml, "
                        "/etc/halosync/halosync.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"halosync.cli.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"halosync.cli.commands.{name}":
                raise
            continue  # not built yet
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    # Until a command configures logging from its configuration, records still go through the masking patcher.
    log.setup()
    if handler is None:
        parser.print_help(sys.stderr)
        return EX_USAGE
    code: int = handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
