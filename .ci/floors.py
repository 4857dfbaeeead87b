"""Print a pip constraints file pinning every declared dependency of halosync to its floor (``name==floor``).

CI installs the package with it into a separate virtualenv and runs the suite there, so a ``>=`` in pyproject.toml
is a version that was tested, not a guess. Transitive dependencies are left to the resolver (the same as
``uv pip install --resolution lowest-direct``). A dependency without a ``>=`` floor is refused: it cannot be tested.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^]]*\])?\s*>=\s*([0-9][^,;\s]*)")


def floors(pyproject: Path, extras: list[str]) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    out = []
    for requirement in requirements:
        m = REQUIREMENT.match(requirement)
        if m is None:
            sys.exit(f"{pyproject}: {requirement!r} declares no '>=' floor; give it one, so CI can test it")
        out.append(f"{m.group(1)}=={m.group(3)}")
    return out


if __name__ == "__main__":
    print("\n".join(floors(ROOT / "pyproject.toml", sys.argv[1:])))
