"""The operator's guide (README.md) and docs/troubleshooting.md name only commands and flags that exist.

Each ``halosync ...`` / ``halosyncctl ...`` command in a shell block is parsed with the programs' own argument
parsers; one quoted inline in the prose must at least name an existing command and flags. Renaming a command or a
flag without updating the guides fails here.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path
from typing import NoReturn

import pytest

from halosync.cli import ctl
from halosync.cli import main as halosync_main

ROOT = Path(__file__).resolve().parents[2]
GUIDES = (ROOT / "README.md", ROOT / "docs" / "troubleshooting.md")
PROGRAMS = {"halosync": halosync_main.build_parser, "halosyncctl": ctl.build_parser}
# Placeholders the guides write in capitals, and a value each parses like.
SAMPLES = {"ID": "7", "N": "4", "EMAIL": "someone@example.com", "QUERY": "someone@example.com", "SRC": "x.db",
           "DEST": "/tmp/"}
_OPERATORS = re.compile(r"\s*(?:&&|\|\||[|;])\s*")


def commands_in(text: str) -> list[tuple[list[str], bool]]:
    """(words, complete?) for every halosync command: complete when it stands in a shell block."""
    found = []
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    for snippets, complete in ((blocks, True), (inline, False)):
        for snippet in snippets:
            for line in snippet.replace("\\\n", " ").splitlines():
                for segment in _OPERATORS.split(line.split(" #", 1)[0].strip()):
                    words = _command(segment)
                    if words:
                        found.append((words, complete))
    return found


def _command(segment: str) -> list[str] | None:
    try:
        words = shlex.split(segment)
    except ValueError:
        return None
    while words and (words[0] == "sudo" or re.fullmatch(r"[A-Z_]+=\S*", words[0])):
        words = words[1:]
    if not words or words[0] not in PROGRAMS or "..." in words:  # "halosyncctl ... --json": any command
        return None
    return [SAMPLES.get(w, w) for w in words]


class Refused(Exception):
    pass


def _refusing(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The parser and its sub-parsers raise Refused instead of printing and exiting."""

    def refuse(message: str) -> NoReturn:
        raise Refused(message)

    parser.error = refuse  # type: ignore[method-assign]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _refusing(sub)
    return parser


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_command_in_the_guide_exists(guide: Path) -> None:
    found = commands_in(guide.read_text())
    assert any(complete for _, complete in found) and len(found) > 20  # the extraction itself works
    wrong = []
    for words, complete in found:
        try:
            _refusing(PROGRAMS[words[0]]()).parse_args(words[1:])
        except Refused as exc:
            if complete or "arguments are required" not in str(exc):
                wrong.append(f"{' '.join(words)}: {exc}")
    assert not wrong, "\n".join(wrong)


def test_a_renamed_flag_is_noticed() -> None:
    [(words, _)] = commands_in("```sh\nhalosyncctl sync --dry-runn --wait\n```\n")
    with pytest.raises(Refused, match="dry-runn"):
        _refusing(PROGRAMS[words[0]]()).parse_args(words[1:])
