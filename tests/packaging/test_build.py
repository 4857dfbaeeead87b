"""The package as an administrator gets it: `python -m build` makes an sdist (with the unit, contrib, docs and the
example configuration) and a wheel built from that sdist; the wheel, installed alone into a fresh virtualenv from
the hashed lock file as the README's service install does, runs `halosync --version` and `halosync demo` with no
checkout on sys.path and without the optional PostgreSQL driver.

Slow (one isolated build, one virtualenv; about a minute), and still part of `make test`.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.test_lock import lock_entries

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
VERSION = PROJECT["version"]
PACKAGES = ("halosync", "halosync_apollo", "halosync_halopsa", "halosync_builtin", "halosync_lusha")
pytestmark = pytest.mark.slow


def run(argv: list[str], *, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    # No PYTHONPATH and a cwd outside the checkout: only what was installed can be imported.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "HALOSYNC_CONFIG")}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("dist")
    result = run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out)
    assert result.returncode == 0, result.stdout + result.stderr
    log = result.stdout + result.stderr
    assert "Warning" not in log and "deprecated" not in log.lower(), log  # setuptools' license and other warnings
    yield out


def only(directory: Path, pattern: str) -> Path:
    [path] = directory.glob(pattern)
    return path


def test_the_sdist_carries_what_an_administrator_installs(dist: Path) -> None:
    sdist = only(dist, f"halosync-{VERSION}.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for needed in ("LICENSE", "README.md", "halosync.toml.example", "requirements.lock", "pyproject.toml",
                   "systemd/halosync.service", "systemd/halosync-backup.timer", "systemd/sysusers.d/halosync.conf",
                   "systemd/tmpfiles.d/halosync.conf", "docs/troubleshooting.md", "docs/plugins.md",
                   "contrib/prometheus/halosync-alerts.yml", "contrib/prometheus/halosync-alerts.test.yml",
                   "contrib/grafana/halosync-dashboard.json", "contrib/halosync-example-plugin/pyproject.toml",
                   "contrib/halosync-example-plugin/halosync_example/plugin.py",
                   "contrib/halosync-example-source/halosync_example_source/plugin.py",
                   "contrib/halosync-example-sink/halosync_example_sink/plugin.py",
                   "daemon/halosync/testing/__init__.py",
                   "daemon/halosync/__init__.py", "plugins/halosync_builtin/py.typed"):
        assert needed in names, needed
    leftovers = [n for n in names if n.startswith("contrib/") and (".egg-info" in n or "/build/" in n)]
    assert leftovers == []
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_wheel_has_every_package_typed_and_the_license(dist: Path) -> None:
    wheel = only(dist, f"halosync-{VERSION}-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = email.message_from_bytes(zf.read(f"halosync-{VERSION}.dist-info/METADATA"))
    for package in PACKAGES:
        assert f"{package}/__init__.py" in names and f"{package}/py.typed" in names, package
    assert f"halosync-{VERSION}.dist-info/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith(("tests/", "contrib/"))]
    assert metadata["License-Expression"] == "MIT" and metadata["Version"] == VERSION
    assert "Typing :: Typed" in metadata.get_all("Classifier", [])
    requires = metadata.get_all("Requires-Dist", [])
    assert [r for r in requires if r.startswith("psycopg2-binary")] == [
        'psycopg2-binary>=2.9.9; extra == "postgresql"']  # optional: SQLite needs no compiled driver


def test_the_wheel_alone_installs_from_the_lock_and_runs(dist: Path, tmp_path: Path) -> None:
    wheel = only(dist, f"halosync-{VERSION}-py3-none-any.whl")
    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path).returncode == 0
    pip, halosync = [str(venv / "bin" / "pip"), "--disable-pip-version-check"], str(venv / "bin" / "halosync")
    # The README's service install, SQLite only: the lock without the PostgreSQL extra's driver.
    lock = tmp_path / "sqlite-only.lock"
    lock.write_text("".join(e for e in lock_entries() if not e.startswith("psycopg2-binary==")))
    for argv in ([*pip, "install", "-q", "--require-hashes", "-r", str(lock)],
                 [*pip, "install", "-q", "--no-deps", str(wheel)], [*pip, "check"]):
        result = run(argv, cwd=tmp_path)
        assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"

    version = run([halosync, "--version"], cwd=tmp_path)
    assert version.stdout == f"halosync {VERSION}\n", version.stderr
    plugins = run([str(venv / "bin" / "python"), "-c", "import halosync, halosync_halopsa, importlib.util; "
                   "print(halosync.__file__); print(halosync_halopsa.__version__); "
                   "print(importlib.util.find_spec('psycopg2'))"], cwd=tmp_path)
    where, halopsa_version, psycopg2 = plugins.stdout.splitlines()
    assert where.startswith(str(venv)) and halopsa_version == VERSION and psycopg2 == "None"

    # The README's completion and man page step, from the installed wheel alone (shtab comes from the lock).
    share = tmp_path / "share"
    installed = run([str(venv / "bin" / "python"), "-m", "halosync.cli.manuals", str(share)], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    assert (share / "man" / "man1" / "halosyncctl.1").read_text().startswith(".TH HALOSYNCCTL 1")
    assert "_shtab_halosyncctl" in (share / "bash-completion" / "completions" / "halosyncctl").read_text()

    demo = run([halosync, "demo"], cwd=tmp_path, timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "HaloPSA clients" in demo.stdout and "Traceback" not in demo.stderr

    config = tmp_path / "halosync.toml"
    config.write_text('[database]\nurl = "postgresql://halo@127.0.0.1/halo"\n')
    refused = run([halosync, "--config", str(config), "check-config"], cwd=tmp_path)
    assert refused.returncode == 78
    assert "pip install 'halosync[postgresql]'" in refused.stderr

