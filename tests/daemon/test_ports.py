"""The daemon is the one composition root: components depend on the ports of halosync.daemon.api, never on
halosync.daemon.app itself (not even for a type), so that no import cycle runs through the daemon again."""

from __future__ import annotations

import ast
from pathlib import Path

import halosync

PACKAGE = Path(halosync.__file__).parent
FORBIDDEN = "halosync.daemon.app"
# Who may import the daemon: itself, and the command line that builds and runs it.
ALLOWED = ("daemon/app.py", "cli/")


def imports_of(tree: ast.AST) -> set[str]:
    """Every module an ``import`` or ``from ... import`` names, at any depth (inside functions and
    ``if TYPE_CHECKING:`` too); ``from halosync.daemon import app`` counts as importing halosync.daemon.app."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def daemon_app_importers() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(ALLOWED):
            continue
        names = imports_of(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if any(name == FORBIDDEN or name.startswith(FORBIDDEN + ".") for name in names):
            out.append(relative)
    return out


def test_no_component_imports_the_daemon() -> None:
    offenders = daemon_app_importers()
    assert not offenders, (f"{', '.join(offenders)} import(s) {FORBIDDEN}; depend on the ports in "
                           "halosync.daemon.api instead (the daemon hands itself over as those)")


def test_the_check_sees_every_way_of_importing_it() -> None:
    source = """
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from halosync.daemon.app import Daemon
def later():
    import halosync.daemon.app
    from halosync.daemon import app
"""
    names = imports_of(ast.parse(source))
    assert FORBIDDEN in names
    assert sum(1 for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom | ast.Import)) == 4
    assert not {n for n in imports_of(ast.parse("from halosync.daemon.api import StateView")) if n == FORBIDDEN}
