"""For any TOML a person might write, the line the locator reports for a key is a line that holds that key.

Documents are generated from tables, arrays of tables, dotted and quoted keys, strings full of quotes, triple quotes,
``#``, ``=`` and brackets, multi-line and nested arrays, inline tables and comments. ``tomllib`` says which keys the
document has; every key name is unique (``k<n>z``) and no value or comment spells one, so "the reported line
contains the key's name" means "the reported line is where the key is written".
"""

from __future__ import annotations

import itertools
import json
import tomllib
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from halosync.config.locate import key_lines

# Characters that have a meaning in TOML, for string contents and comments; no 'k', so no key name is spelled.
_TRICKY = st.text(st.sampled_from(list("xyz 019#=[]{}.,'\"\\\n")), max_size=12)
_FIXED = st.sampled_from([
    "'\"\"\"'", "\"'''\"", "'''a\"\"\"b'''", '"""x""""', '""""""', "''''''", '"\\""', '"\\\\"', "'\\'",
    '"""\n[x]\ny = 1\n"""', "'''\n[[x]]\n'''", '"""one \\\n  two"""', "'#'", '"a = [1,"', "'''x'y''z'''",
])
_SCALARS = st.one_of(
    st.integers(-10**6, 10**6).map(str), st.sampled_from(["true", "false", "1.5", "-0.25e3", "inf", "nan"]),
    st.sampled_from(["1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", "1979-05-27 07:32:00.5"]),
    _FIXED,
    _TRICKY.map(lambda s: json.dumps(s)),  # a basic string: json's escapes are TOML's
    _TRICKY.filter(lambda s: "'" not in s and "\n" not in s).map(lambda s: f"'{s}'"),
    _TRICKY.map(lambda s: '"""' + s.replace("\\", "\\\\").replace('"', '\\"') + '"""'),
    _TRICKY.map(lambda s: "'''" + s.replace("'", "") + "'''"),
)
_COMMENT = _TRICKY.map(lambda s: " # " + s.replace("\n", " ")) | st.just("")


class _Names:
    """Unique key names, bare or quoted with characters that mean something outside quotes."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.counter = itertools.count()

    def segment(self) -> str:
        name = f"k{next(self.counter)}z"
        form = self.draw(st.sampled_from(["{}", '"{} .#="', "'{}[y]'", "'{}\"'", '"{}\'x"']))
        return form.format(name)

    def dotted(self) -> str:
        return ".".join(self.segment() for _ in range(self.draw(st.integers(1, 3))))


def _value(draw: st.DrawFn, names: _Names, depth: int) -> str:
    kind = draw(st.sampled_from(["scalar", "scalar", "array", "inline"] if depth < 3 else ["scalar"]))
    if kind == "scalar":
        scalar: str = draw(_SCALARS)
        return scalar
    if kind == "inline":
        pairs = [f"{names.dotted()} = {_value(draw, names, depth + 1)}" for _ in range(draw(st.integers(0, 3)))]
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
    items = [_value(draw, names, depth + 1) for _ in range(draw(st.integers(0, 3)))]
    if not draw(st.booleans()):
        return "[" + ", ".join(items) + "]"
    # One element a line, each perhaps with a comment; the last one's comma is optional.
    trailing = draw(st.booleans())
    body = "".join(
        f"\n  {item}{',' if i < len(items) - 1 or trailing else ''}{draw(_COMMENT)}" for i, item in enumerate(items))
    return "[" + draw(_COMMENT) + body + "\n]"


def _key_values(draw: st.DrawFn, names: _Names) -> list[str]:
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.integers(0, 4)) == 0:
            lines.append(draw(_COMMENT).lstrip() or "")
        lines.append(f"{names.dotted()} = {_value(draw, names, 0)}{draw(_COMMENT)}")
    return lines


@st.composite
def documents(draw: st.DrawFn) -> str:
    names = _Names(draw)
    lines = _key_values(draw, names)
    for _ in range(draw(st.integers(0, 4))):
        header = names.dotted()
        if draw(st.booleans()):
            lines += [f"[{header}]{draw(_COMMENT)}", *_key_values(draw, names)]
        else:
            for _ in range(draw(st.integers(1, 3))):
                lines += [f"[[ {header} ]]{draw(_COMMENT)}", *_key_values(draw, names)]
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""]))


def _paths(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every key path in a parsed document; tables inside arrays are reached without an index."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for item in value:
            yield from _paths(item, path)


@settings(max_examples=200, deadline=None)
@given(documents())
def test_every_key_is_reported_on_a_line_that_holds_it(text: str) -> None:
    parsed = tomllib.loads(text)
    lines = key_lines(text)
    written = text.splitlines()
    for path in _paths(parsed):
        assert path in lines, f"{'.'.join(path)} not located in:\n{text}"
        assert path[-1] in written[lines[path] - 1], f"{'.'.join(path)} reported on line {lines[path]} of:\n{text}"
