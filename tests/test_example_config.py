"""halosync.toml.example documents every key the code accepts, with its default, and is itself valid.

The key list is built at test time from the core sections and the specs of the built-in plugins (as
pyproject.toml registers them), so adding a key without documenting it here fails this test.
Conventions checked (they are the file's own header): ``# key = value`` shows the default exactly; every key is
preceded by a sentence; the file parses as it is, and with every commented line switched on.
"""

from __future__ import annotations

import base64
import importlib
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from halosync.config import loader
from halosync.config.schema import CORE, REQUIRED, Field, PluginConfigSpec
from halosync.plugin.manager import PluginManager

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "halosync.toml.example"
_HEADER = re.compile(r"^\s*\[([A-Za-z0-9_.\"-]+)\]\s*$")
_KEY = re.compile(r"^([A-Za-z0-9_]+)\s*=\s*(.+)$")


def builtin_specs() -> list[PluginConfigSpec]:
    """The built-in plugins, loaded explicitly (tests disable entry-point autoloading)."""
    entry_points = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["halosync"]
    pm = PluginManager()
    for name, module in entry_points.items():
        pm.register(importlib.import_module(module), name)
    return pm.config_specs()


def documented_fields(specs: list[PluginConfigSpec]) -> dict[tuple[str, ...], Field]:
    fields: dict[tuple[str, ...], Field] = {(section, key): f for section, table in CORE.items()
                                            for key, f in table.items()}
    for spec in specs:
        fields[("plugins", spec.name, "enabled")] = Field(bool, True)
        fields.update({("plugins", spec.name, key): f for key, f in spec.fields.items()})
    return fields


def commented_body(line: str) -> str | None:
    """What follows "# " on a commented-out line (exactly one space: indented comment text is prose)."""
    return line[2:] if line.startswith("# ") and line[2:3].strip() else None


def switched_on(text: str) -> str:
    """The example with every commented key and table line uncommented (prose stays a comment)."""
    out = []
    for line in text.splitlines():
        body = commented_body(line)
        if body is not None and (_HEADER.match(body) or _KEY.match(body)):
            out.append(body)
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def key_lines(text: str) -> list[tuple[tuple[str, ...], str, bool, str]]:
    """(key path, value text, commented?, the line before it) for every key line, commented or not."""
    table: tuple[str, ...] = ()
    previous = ""
    out = []
    for line in text.splitlines():
        commented = line.startswith("#")
        body = commented_body(line) if commented else line
        if body is None:
            pass
        elif header := _HEADER.match(body):
            table = tuple(p.strip('"') for p in header.group(1).split("."))
        elif key := _KEY.match(body):
            out.append(((*table, key.group(1)), key.group(2), commented, previous))
        if line.strip():
            previous = line
    return out


@pytest.fixture
def secrets_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What the example's secret references need: a credentials directory and the env variables it names."""
    text = EXAMPLE.read_text()
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    for name in set(re.findall(r"credential:([A-Za-z0-9_.-]+)", text)):
        value = "whsec_" + base64.b64encode(b"k" * 32).decode() if "webhook" in name else f"test-{name}"
        (credentials / name).write_text(value + "\n")
    env = {"CREDENTIALS_DIRECTORY": str(credentials)}
    for name in set(re.findall(r"env:([A-Z0-9_]+)", text)):
        env[name] = "https://hooks.example.com/test" if "URL" in name else f"test-{name}"
    for name, value in env.items():  # some plugin checks resolve references through os.environ
        monkeypatch.setenv(name, value)
    return env


def test_example_is_valid_as_shipped(tmp_path: Path, secrets_env: dict[str, str]) -> None:
    path = tmp_path / "halosync.toml"
    path.write_text(EXAMPLE.read_text())
    config = loader.load(path, builtin_specs(), environ=secrets_env)
    assert config.plugin("halopsa") is not None and config.plugin("apollo") is not None


def test_example_is_valid_with_every_line_switched_on(tmp_path: Path, secrets_env: dict[str, str]) -> None:
    path = tmp_path / "halosync.toml"
    path.write_text(switched_on(EXAMPLE.read_text()))
    config = loader.load(path, builtin_specs(), environ=secrets_env)
    assert set(config.enabled_plugins()) >= {"apollo", "halopsa", "webhook", "alerts"}


def test_every_key_the_code_accepts_is_documented() -> None:
    specs = builtin_specs()
    assert {s.name for s in specs} >= {"apollo", "halopsa"}, "the built-in plugins declare their tables"
    everything: dict[str, Any] = tomllib.loads(switched_on(EXAMPLE.read_text()))
    missing = []
    for path in documented_fields(specs):
        node: Any = everything
        for part in path:
            if not isinstance(node, dict) or part not in node:
                missing.append(".".join(path))
                break
            node = node[part]
    assert not missing, f"add these keys to halosync.toml.example: {', '.join(missing)}"


def test_commented_values_are_the_defaults_and_every_key_is_explained() -> None:
    fields = documented_fields(builtin_specs())
    wrong, unexplained = [], []
    for path, value_text, commented, previous in key_lines(EXAMPLE.read_text()):
        field = fields.get(path)
        if field is None:  # inside a free-form sub-table example (receivers, rules, field mappings)
            continue
        if not previous.startswith("#") or _KEY.match(commented_body(previous) or ""):
            unexplained.append(".".join(path))
        if commented and field.default is not REQUIRED:
            value = tomllib.loads(f"v = {value_text}")["v"]
            if value != field.default:
                wrong.append(f"{'.'.join(path)}: shows {value!r}, default is {field.default!r}")
    assert not wrong, "a commented line must show the default: " + "; ".join(wrong)
    assert not unexplained, f"give these keys a sentence above them: {', '.join(unexplained)}"


def test_the_checks_above_can_fail() -> None:
    """A key missing from the example, or a commented value that is not the default, is noticed."""
    text = EXAMPLE.read_text()
    without = text.replace("# batch_size = 100\n", "", 1)
    assert "batch_size" not in tomllib.loads(switched_on(without))["sync"]
    lines = key_lines(text.replace("# interval = 300.0", "# interval = 30.0", 1))
    assert any(p == ("sync", "interval") and v == "30.0" for p, v, _, _ in lines)
