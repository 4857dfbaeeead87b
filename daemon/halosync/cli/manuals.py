"""Shell completion scripts and man pages for ``halosync`` and ``halosyncctl``, generated from their argparse
parsers at run time, so every command a module registers (today's and tomorrow's) is in them.

Completion: shtab (bash, zsh, fish). Man pages: a small roff writer over the same parsers (argparse-manpage ships
only an sdist, which the hash-checked service install cannot take): one page per program (section 1) naming every
command, its usage and every option; ``SOURCE_DATE_EPOCH`` dates it, for reproducible builds.

``halosync completion SHELL``, ``halosyncctl completion SHELL`` and ``halosync manpages DIR`` print or write them;
``python -m halosync.cli.manuals PREFIX`` installs them all (``make install`` into ``.venv/share``; the README's
service install into ``/usr/local/share``).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import shtab

from halosync import __version__
from halosync.cli.conventions import subcommands

SHELLS = ("bash", "zsh", "fish")
URL = "https://github.com/halosync/halosync"
# Where each shell looks for a completion file of a program, relative to a prefix (/usr/share, ~/.local/share).
INSTALL_PATHS = {"bash": "bash-completion/completions/{prog}", "zsh": "zsh/site-functions/_{prog}",
                 "fish": "fish/vendor_completions.d/{prog}.fish"}

PATH_METAVARS = {"PATH": shtab.FILE, "FILE": shtab.FILE, "DIR": shtab.DIRECTORY, "DIRECTORY": shtab.DIRECTORY}
# The two programs, by name: each builds its parser afresh (importing its command modules).
Builder = Callable[[], argparse.ArgumentParser]


def programs() -> dict[str, Builder]:
    from halosync.cli import ctl, main  # the programs import this module: import them only when asked

    return {"halosync": main.build_parser, "halosyncctl": ctl.build_parser}


def completion(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of ``parser``'s program for ``shell`` (one of SHELLS)."""
    if shell not in SHELLS:
        raise ValueError(f"no completion for {shell!r}: choose one of {', '.join(SHELLS)}")
    _complete_paths(parser)
    script: str = shtab.complete(parser, shell=shell)
    return script if script.endswith("\n") else script + "\n"


def _complete_paths(parser: argparse.ArgumentParser) -> None:
    """Options and arguments that take a path complete file (or directory) names, by their metavar."""
    for each in [parser, *(child for _, child in subcommands(parser))]:
        for action in each._actions:
            metavar = str(action.metavar or "")
            if getattr(action, "complete", None) is None and metavar in PATH_METAVARS:
                action.complete = PATH_METAVARS[metavar]  # type: ignore[attr-defined]


def man_page(parser: argparse.ArgumentParser) -> str:
    """The roff source of ``parser``'s man page (section 1): NAME, SYNOPSIS, DESCRIPTION, OPTIONS, COMMANDS (each
    with its usage, description, arguments and options), EXIT STATUS and SEE ALSO."""
    prog = parser.prog
    summary = (parser.description or prog).split(". ")[0].rstrip(".")
    lines = [f'.TH {prog.upper()} 1 "{_date()}" "halosync {__version__}" "halosync manual"',
             ".SH NAME", f"{_text(prog)} \\- {_text(summary)}",
             ".SH SYNOPSIS", *_usage(parser),
             ".SH DESCRIPTION", _text(parser.description or summary),
             ".SH OPTIONS", *_options(parser, _own(parser))]
    commands = subcommands(parser)
    if commands:
        lines.append(".SH COMMANDS")
    for path, child in commands:
        lines += [f'.SS "{_text(f"{prog} {path}")}"', *_usage(child)]
        if child.description:
            lines += [".PP", _text(child.description)]
        lines += _options(child, _own(child))
    if parser.epilog:
        lines += [".SH EXIT STATUS", _text(parser.epilog)]
    others = [name for name in programs() if name != prog]
    lines += [".SH SEE ALSO", *(f".BR {name} (1)" for name in others), f"Project: {_text(URL)}"]
    return "\n".join(lines) + "\n"


def _own(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._SubParsersAction)]


def _usage(parser: argparse.ArgumentParser) -> list[str]:
    usage = parser.format_usage().removeprefix("usage: ").strip()
    return [".nf", *(_text(line) for line in usage.splitlines()), ".fi"]


def _options(parser: argparse.ArgumentParser, actions: Iterable[argparse.Action]) -> list[str]:
    formatter = parser._get_formatter()
    out: list[str] = []
    for action in actions:
        if action.help == argparse.SUPPRESS:
            continue
        invocation = formatter._format_action_invocation(action)
        out += [".TP", f"\\fB{_text(invocation)}\\fR", _text(formatter._expand_help(action) if action.help else "")]
    return out


def _text(text: str) -> str:
    """Plain text as roff: backslashes and hyphens escaped, no line starting with a control character."""
    escaped = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in escaped.splitlines())


def _date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = float(epoch) if epoch and epoch.isdigit() else time.time()
    return time.strftime("%Y-%m-%d", time.gmtime(moment))


def write_man_pages(directory: Path) -> list[Path]:
    """``PROG.1`` for both programs into ``directory`` (created if missing); the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for prog, build in programs().items():
        path = directory / f"{prog}.1"
        path.write_text(man_page(build()), encoding="utf-8")
        written.append(path)
    return written


def write_completions(prefix: Path) -> list[Path]:
    """Every program's script for every shell under ``prefix`` (a ``share`` directory), where the shells look."""
    written = []
    for prog, build in programs().items():
        parser = build()
        for shell in SHELLS:
            path = prefix / INSTALL_PATHS[shell].format(prog=prog)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(completion(parser, shell), encoding="utf-8")
            written.append(path)
    return written


def install(prefix: Path) -> list[Path]:
    """Completion scripts and man pages under ``prefix`` (a ``share`` directory: ``/usr/local/share``,
    ``.venv/share``), where bash-completion, zsh, fish and man look."""
    return write_completions(prefix) + write_man_pages(prefix / "man" / "man1")


if __name__ == "__main__":  # `python -m halosync.cli.manuals PREFIX`: what `make install` and the README run
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python -m halosync.cli.manuals PREFIX   (a share directory, e.g. /usr/local/share)")
    for written in install(Path(sys.argv[1])):
        print(written)
