"""psycopg2 is the optional ``[postgresql]`` extra: without it SQLite works, and a PostgreSQL URL is a clear
configuration problem (exit 78) that names the extra, not peewee's "driver not installed" at the first query.
(The packaging test runs the same from a wheel installed without the extra.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from halosync.config import loader
from halosync.errors import ConfigError, StoreError
from halosync.store.database import open_database

HIDE_PSYCOPG2 = "import sys; sys.modules['psycopg2'] = None; "  # `import psycopg2` then raises ImportError
EXTRA = "pip install 'halosync[postgresql]'"


@pytest.fixture
def no_psycopg2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg2", None)


def test_a_postgresql_url_is_a_config_problem_naming_the_extra(tmp_path: Path, no_psycopg2: None) -> None:
    path = tmp_path / "halosync.toml"
    path.write_text('[daemon]\nstate_dir = "/tmp/x"\n\n[database]\nurl = "postgresql://halo:pw-9c1e@db/halo"\n')
    with pytest.raises(ConfigError) as caught:
        loader.load(path, [], environ={})
    [problem] = caught.value.problems
    assert (problem.line, problem.key) == (5, "database.url")
    assert EXTRA in problem.message and "pw-9c1e" not in str(caught.value)
    assert caught.value.exit_code == 78
    with pytest.raises(StoreError, match=r"halosync\[postgresql\]"):  # a URL that bypassed the configuration
        open_database("postgresql://halo@db/halo")


def test_sqlite_needs_no_psycopg2(tmp_path: Path, no_psycopg2: None) -> None:
    db: Any = open_database(f"sqlite:///{tmp_path}/halosync.db")  # peewee is untyped
    assert db.execute_sql("SELECT 1").fetchone() == (1,)
    db.close()


def test_the_programs_start_without_psycopg2(tmp_path: Path) -> None:
    """Every module the CLI imports, and check-config on a PostgreSQL URL, in a process that has no psycopg2."""
    config = tmp_path / "halosync.toml"
    config.write_text('[database]\nurl = "postgresql://halo@db/halo"\n')
    code = (HIDE_PSYCOPG2 + "from halosync.cli.main import main; "
            f"sys.exit(main(['--config', {str(config)!r}, 'check-config']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={"HALOSYNC_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 78, result.stderr
    assert f"{config}:2: database.url: PostgreSQL needs the psycopg2 driver" in result.stderr
    assert EXTRA in result.stderr and "Traceback" not in result.stderr
