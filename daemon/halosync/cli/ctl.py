"""``halosyncctl``: the client of a running daemon, over its Unix control socket.

Each command lives in ``halosync.cli.ctl_commands.<name>`` with ``register(subparsers)``; every module there is
picked up (in the order of ``ORDER``, then the others by name), so a plugin area adds a command by adding a module.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys

from halosync import __version__
from halosync.cli import ctl_commands
from halosync.cli.conventions import QUIET, VERBOSE, Option, closed_stdout, everywhere, exclusive
from halosync.cli.ctl_commands import COMMON, Session
from halosync.control.protocol import ControlFailure
from halosync.errors import ConfigError, DaemonUnreachable, HalosyncError
from halosync.exitcodes import EX_CONFIG, EX_USAGE

ORDER = ("status", "top", "health", "integrity", "sync", "pause", "resume", "concurrency", "queue", "dlq",
         "rate_limits", "trace", "plugins", "custom_fields", "reload", "completion")

# Accepted before the command and after it (`halosyncctl --socket S status`, `halosyncctl status --socket S`).
GLOBAL_OPTIONS = (
    Option(("--socket",), {"metavar": "PATH", "help": "the daemon's control socket"}, exclusive_with="config"),
    Option(("--config",), {"metavar": "PATH", "help": "read daemon.control_socket from this configuration file"},
           exclusive_with="socket"),
    QUIET,
    VERBOSE,
)


def command_modules() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules(ctl_commands.__path__) if not m.name.startswith("_")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="halosyncctl", parents=[COMMON],
        description="Control a running halosync daemon over its Unix control socket. Socket: --socket > the "
        "config's daemon.control_socket > $HALOSYNC_SOCKET > /run/halosync/control.sock.",
        epilog="exit codes: 0 ok, 1 problems found, 2 usage, 69 daemon unreachable, 77 permission denied, "
        "78 configuration invalid",
    )
    parser.add_argument("--version", action="version", version=f"halosyncctl {__version__}")
    parser.add_argument("--timeout", metavar="SECONDS", type=float, default=30.0,
                        help="how long to wait for an answer (default 30; sync --wait/--follow wait as long as "
                        "the sync runs)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(f"halosync.cli.ctl_commands.{name}").register(sub)
    everywhere(parser, GLOBAL_OPTIONS)
    parser.set_defaults(socket=None, config=None, verbosity=0)  # present whether given or not, on either side
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    exclusive(parser, args, "socket", "config")
    return closed_stdout(lambda: _run(parser, args))


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EX_USAGE
    if getattr(args, "offline", False):  # needs no daemon (completion): handed the arguments, not a session
        return int(handler(args))
    try:
        code: int = handler(Session.from_args(args))
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"halosyncctl: {problem}", file=sys.stderr)
        return _failed(args, "config_invalid", str(exc), EX_CONFIG, printed=True)
    except ControlFailure as exc:
        return _failed(args, exc.code, str(exc), exc.exit_code)
    except DaemonUnreachable as exc:
        return _failed(args, "unreachable", str(exc), exc.exit_code)
    except HalosyncError as exc:
        return _failed(args, "failed", str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return 130
    return code


def _failed(args: argparse.Namespace, code: str, message: str, exit_code: int, *, printed: bool = False) -> int:
    """One line on stderr; with --json also the error as the one JSON document on stdout, for scripts."""
    if not printed:
        print(f"halosyncctl: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        json.dump({"error": {"code": code, "message": message}}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
