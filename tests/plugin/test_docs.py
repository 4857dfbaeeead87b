"""Every hookspec is documented for plugin authors: docs/plugins.md has a section per hook with its signature."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from halosync.plugin import spec

GUIDE = Path(__file__).parents[2] / "docs" / "plugins.md"


def hookspecs() -> list[str]:
    return [name for name, fn in inspect.getmembers(spec, inspect.isfunction) if name.startswith("halosync_")]


def test_every_hookspec_has_a_section_with_its_signature() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    sections = dict(re.findall(r"^### (\w+)\n(.*?)(?=^##|\Z)", text, flags=re.M | re.S))
    assert hookspecs(), "no hookspecs found"
    undocumented = [name for name in hookspecs() if name not in sections]
    assert not undocumented, f"hooks missing from docs/plugins.md: {undocumented}"
    for name in hookspecs():
        parameters = ", ".join(inspect.signature(getattr(spec, name)).parameters)
        assert f"def {name}(" in sections[name], f"{name}: the section shows no signature"
        for parameter in filter(None, parameters.split(", ")):
            assert f"{parameter}:" in sections[name], f"{name}: argument {parameter!r} is not in its signature"
        assert "**Use cases:**" in sections[name], f"{name}: the section lists no use cases"


def test_no_section_for_a_hook_that_does_not_exist() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    documented = re.findall(r"^### (halosync_\w+)$", text, flags=re.M)
    assert sorted(set(documented) - set(hookspecs())) == []


def test_the_testing_snippet_runs_as_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guide's "Registering a plugin by hand" example, executed as a reader would paste it."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("### Registering a plugin by hand"):]
    snippet = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert snippet is not None, "the section has no python example"
    (tmp_path / "halosync.toml").write_text(
        f'[daemon]\nstate_dir = "{tmp_path}"\n[plugins.example]\npath = "{tmp_path / "alerts.txt"}"\n',
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(snippet.group(1), "docs/plugins.md", "exec"), namespace)
    assert [a.name for a in namespace["alerters"]] == ["example"]  # type: ignore[attr-defined]
