"""Shell completion and man pages of both programs, generated from their parsers: every script parses in its
shell and completes what a user types, every man page renders and names every command and option, and a command
added at run time is in both (nothing is a hard-coded list)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from halosync.cli import ctl, main, manuals
from halosync.cli.conventions import subcommands

PROGRAMS: dict[str, Callable[[], argparse.ArgumentParser]] = {"halosync": main.build_parser,
                                                              "halosyncctl": ctl.build_parser}
CHECK = {"bash": ["bash", "-n"], "zsh": ["zsh", "-n"], "fish": ["fish", "--no-execute"]}


def needs(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed here, so its script cannot be parsed (apt-get install {shell})")


def top_commands(parser: argparse.ArgumentParser) -> list[str]:
    return [path for path, _ in subcommands(parser) if " " not in path]


@pytest.mark.parametrize("prog", PROGRAMS)
@pytest.mark.parametrize("shell", manuals.SHELLS)
def test_completion_parses_and_names_every_command(prog: str, shell: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    needs(shell)
    run = main.main if prog == "halosync" else ctl.main
    capsys.readouterr()
    assert run(["completion", shell]) == 0
    script = capsys.readouterr().out
    path = tmp_path / f"{prog}.{shell}"
    path.write_text(script)
    checked = subprocess.run([*CHECK[shell], str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    commands = top_commands(PROGRAMS[prog]())
    assert {"completion", "status" if prog == "halosyncctl" else "run"} <= set(commands)
    for command in commands:
        assert re.search(rf"(?<![\w-]){re.escape(command)}(?![\w-])", script), f"{command} not in the {shell} script"


def bash_complete(script: Path, words: list[str]) -> list[str]:
    line = " ".join(words)
    program = (f'source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; COMP_LINE="{line}"; '
               f'COMP_POINT=${{#COMP_LINE}}; _shtab_{words[0]}; printf "%s\\n" "${{COMPREPLY[@]}}"')
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_bash_completes_commands_options_and_nested_commands(tmp_path: Path) -> None:
    needs("bash")
    script = tmp_path / "halosyncctl.bash"
    script.write_text(manuals.completion(ctl.build_parser(), "bash"))
    assert bash_complete(script, ["halosyncctl", "sta"]) == ["status"]
    assert bash_complete(script, ["halosyncctl", "sync", "--fol"]) == ["--follow"]
    assert bash_complete(script, ["halosyncctl", "status", "--soc"]) == ["--socket"]  # after the command too
    assert {"list", "retry", "drop"} <= set(bash_complete(script, ["halosyncctl", "dlq", "''"]))


def test_fish_completes_commands(tmp_path: Path) -> None:
    needs("fish")
    script = tmp_path / "halosync.fish"
    script.write_text(manuals.completion(main.build_parser(), "fish"))
    done = subprocess.run(["fish", "--no-config", "-c", f"source {script}; complete -C 'halosync check-'"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.split("\t")[0].strip() == "check-config"


def test_a_command_added_at_run_time_is_completed_and_in_the_man_page() -> None:
    parser = ctl.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    added = sub.add_parser("frobnicate-now", help="a command another module registered")
    added.add_argument("--gently", action="store_true", help="be gentle")
    assert "frobnicate-now" in manuals.completion(parser, "bash")
    page = manuals.man_page(parser)
    assert "frobnicate\\-now" in page and "\\-\\-gently" in page


def render(page: Path) -> str:
    """The page as `man -l` shows it (groff when man is not installed), wide, without hyphenation."""
    env = {**os.environ, "MANWIDTH": "400", "MAN_KEEP_FORMATTING": "0", "MANOPT": ""}
    if shutil.which("man"):
        done = subprocess.run(["man", "--nh", "--nj", "-l", str(page)], capture_output=True, text=True, env=env)
    elif shutil.which("groff"):
        done = subprocess.run(["groff", "-man", "-Tutf8", "-rLL=400n", "-rHY=0", str(page)], capture_output=True,
                              text=True)
    else:
        pytest.skip("neither man nor groff is installed, so the man pages cannot be rendered")
    assert done.returncode == 0 and "warning" not in done.stderr, done.stderr
    return re.sub(r".\x08", "", done.stdout)  # overstrike bold and underline, should a pager's setting leave it


def test_man_pages_render_and_name_every_command_and_option(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["manpages", str(tmp_path / "man1")]) == 0
    assert sorted(p.name for p in (tmp_path / "man1").iterdir()) == ["halosync.1", "halosyncctl.1"]
    for prog, build in PROGRAMS.items():
        shown = render(tmp_path / "man1" / f"{prog}.1")
        assert shown.startswith(f"{prog.upper()}(1)"), shown[:200]
        assert "SYNOPSIS" in shown and "COMMANDS" in shown and "SEE ALSO" in shown
        parser = build()
        for path, child in [("", parser), *subcommands(parser)]:
            if path:
                assert f"{prog} {path}" in shown, f"command {path} is not in {prog}(1)"
            for action in child._actions:
                for flag in action.option_strings:
                    assert flag in shown, f"{flag} of {prog} {path} is not in {prog}(1)"
    assert "exit codes: 0 ok" in render(tmp_path / "man1" / "halosyncctl.1")  # its EXIT STATUS section


def test_install_writes_where_the_shells_and_man_look(tmp_path: Path) -> None:
    written = {p.relative_to(tmp_path).as_posix() for p in manuals.install(tmp_path)}
    assert {"bash-completion/completions/halosyncctl", "zsh/site-functions/_halosync",
            "fish/vendor_completions.d/halosyncctl.fish", "man/man1/halosync.1", "man/man1/halosyncctl.1"} <= written


def test_unwritable_man_folder_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    capsys.readouterr()
    assert main.main(["manpages", str(blocker / "man1")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("halosync: cannot write the man pages into") and "Traceback" not in err
