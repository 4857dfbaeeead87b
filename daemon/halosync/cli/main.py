"""``halosync``: the daemon and its offline tools. Each command lives in ``halosync.cli.commands.<name>`` and
registers itself with ``register(subparsers)``, setting ``handler`` on its parser."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from loguru import logger

from halosync import __version__, log
from halosync.cli.common import config_path
from halosync.cli.conventions import QUIET, VERBOSE, Option, closed_stdout, environment, everywhere, verbosity
from halosync.exitcodes import EX_USAGE

COMMANDS = ("run", "check_config", "config_show", "diagnose", "migrate", "backup", "integrity", "plugins", "demo",
            "completion", "manpages", "suppress", "forget", "export_person",
            "import_file")  # suppress, forget, export_person: issue 16; import_file (`halosync import FILE`): issue 17

# Accepted before the command and after it (`halosync --config F check-config`, `halosync check-config --config F`).
GLOBAL_OPTIONS = (
    Option(("--config",), {"metavar": "PATH", "help": "configuration file (default: $HALOSYNC_CONFIG, "
                                                      "./halosync.toml, /etc/halosync/halosync.toml)"}),
    QUIET,
    VERBOSE,
)
# --quiet and --verbose set the log level as HALOSYNC_LOG_LEVEL would (it wins over daemon.log_level), for the
# length of the command.
LOG_LEVELS = {-1: "error", 0: None, 1: "debug"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="halosync",
        description="Keeps B2B leads flowing from lead providers into HaloPSA. "
        "Runs the daemon (`run`) and its offline tools.",
    )
    parser.add_argument("--version", action="version", version=f"halosync {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"halosync.cli.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"halosync.cli.commands.{name}":
                raise
            continue  # not built yet
        module.register(sub)
    everywhere(parser, GLOBAL_OPTIONS)
    parser.set_defaults(config=None, verbosity=0)  # present whether given or not, on either side
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EX_USAGE
    with environment(HALOSYNC_LOG_LEVEL=LOG_LEVELS[verbosity(args)]):
        # Until a command configures logging from its configuration, records still go through the masking patcher.
        log.setup()
        started = time.perf_counter()
        found = config_path(args)
        logger.debug("halosync {}: configuration {}", args.command,
                     found if found is not None else "none found (--config, $HALOSYNC_CONFIG, ./halosync.toml, "
                     "/etc/halosync/halosync.toml): the defaults")
        code = closed_stdout(lambda: int(handler(args)))
        logger.debug("halosync {}: exit {} after {:.3f} s", args.command, code, time.perf_counter() - started)
        return code


if __name__ == "__main__":
    sys.exit(main())
