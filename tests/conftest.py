"""Fixtures shared by every test package.

PostgreSQL: tests marked ``postgres`` use ``$HALOSYNC_TEST_POSTGRES_URL`` (default: the local server CI starts,
postgresql://postgres@127.0.0.1:5432/test). They are never skipped silently: an unreachable server fails them,
unless ``HALOSYNC_SKIP_POSTGRES=1`` says on purpose that this machine has none (and the skip reason says so).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.pgschema import Unreachable, fresh_schema

# Property tests: random examples on a developer's machine (new cases keep being tried), the same examples on
# every CI run (`.ci/run` sets HYPOTHESIS_PROFILE=ci), so a landing is never refused by a draw of the dice. A case
# found locally is pinned with @example.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# pytester runs the conformance kit (halosync.testing) the way a plugin author does (tests/testing).
pytest_plugins = ["pytester"]

# Plugins are registered by each test that needs them; the installed entry points must not leak in.
os.environ.setdefault("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema for one test (dropped afterwards), as a database URL."""
    if os.environ.get("HALOSYNC_SKIP_POSTGRES") == "1":
        pytest.skip("PostgreSQL tests skipped on purpose: HALOSYNC_SKIP_POSTGRES=1")
    try:
        with fresh_schema() as url:
            yield url
    except Unreachable as exc:
        pytest.fail(f"{exc}; start it, or set HALOSYNC_SKIP_POSTGRES=1 to skip the PostgreSQL tests on purpose")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'halosync.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both stores: each test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'halosync.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url
