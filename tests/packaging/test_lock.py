"""requirements.lock, the service virtualenv's pinned and hashed dependencies (README, "Install as a service"),
agrees with pyproject.toml: every dependency (and the [postgresql] extra) is pinned, at a version its declared
floor allows, with hashes, so `pip install --require-hashes -r requirements.lock` installs exactly it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def lock_entries() -> list[str]:
    """The lock's entries (a pin with its hash lines), each ending in a newline."""
    entries: list[str] = []
    for line in LOCK.read_text().splitlines(keepends=True):
        if line.startswith("#") or not line.strip():
            continue
        if line[:1].isalnum():
            entries.append(line)
        elif entries:
            entries[-1] += line
    return entries


def pins() -> dict[str, Version]:
    out: dict[str, Version] = {}
    for entry in lock_entries():
        m = PIN.match(entry)
        assert m, f"not a name==version pin: {entry.splitlines()[0]}"
        out[canonicalize_name(m.group(1))] = Version(m.group(2))
    return out


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["postgresql"]]]


def test_every_dependency_is_pinned_within_its_floor() -> None:
    locked = pins()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is missing from {LOCK.name}: regenerate it (its first lines)"
        assert requirement.specifier.contains(locked[name]), \
            f"{LOCK.name} pins {name}=={locked[name]}, outside pyproject's {requirement}"


def test_every_pin_carries_hashes() -> None:
    entries = lock_entries()
    assert len(entries) >= len(declared())
    for entry in entries:
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", entry), entry.splitlines()[0]


def test_the_lock_holds_no_development_tools() -> None:
    """It is the service's virtualenv: test and lint tools stay out."""
    assert not {"pytest", "ruff", "mypy", "hypothesis", "build"} & set(pins())
