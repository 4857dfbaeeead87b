"""Find the line a TOML key was written on, so problems read ``FILE:LINE: key.path: message``.

``tomllib`` keeps no positions, so this scans the text: table headers (``[a.b]``, ``[[a]]``), dotted and quoted
keys, and inline tables are tracked well enough to point at the right line in any file a person writes.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r'^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\'))*)\s*=')


def _split(dotted: str) -> tuple[str, ...]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', dotted)
    return tuple(a or b or c for a, b, c in parts)


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map every key path (and table header path) to the 1-based line it first appears on."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        # Skip the bodies of multi-line strings, where '=' and '[' mean nothing.
        if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
            in_multiline = not in_multiline
            if not in_multiline:
                continue
        elif in_multiline:
            continue
        header = _HEADER.match(line)
        if header:
            table = _split(header.group(2))
            for i in range(1, len(table) + 1):
                lines.setdefault(table[:i], number)
            continue
        key = _KEY.match(line)
        if key:
            path = table + _split(key.group(1))
            for i in range(len(table) + 1, len(path) + 1):
                lines.setdefault(path[:i], number)
            rest = line[key.end():]
            if rest.lstrip().startswith("{"):
                _inline_table(rest, path, number, lines)
    return lines


_BARE = r"[A-Za-z0-9_-]+"
_BASIC = r'"(?:[^"\\]|\\.)*"'
_LITERAL = r"'[^']*'"
_DOTTED = rf"(?:{_BARE}|{_BASIC}|{_LITERAL})(?:\s*\.\s*(?:{_BARE}|{_BASIC}|{_LITERAL}))*"
# In an inline table: a key followed by '=', a string value (skipped whole), or a brace.
_INLINE_TOKEN = re.compile(rf"{_DOTTED}\s*=|{_BASIC}|{_LITERAL}|[{{}}]")


def _inline_table(rest: str, path: tuple[str, ...], number: int, lines: dict[tuple[str, ...], int]) -> None:
    """Record the keys of an inline table (``name = { a = 1, b = { c = 2 } }``), nested ones under their parent."""
    stack: list[tuple[str, ...]] = []
    current = path
    last_key = path
    for token in _INLINE_TOKEN.finditer(rest):
        text = token.group(0)
        if text == "{":
            stack.append(current)
            current = last_key
        elif text == "}":
            if not stack:
                return
            current = stack.pop()
            if not stack:
                return
        elif text.endswith("="):
            last_key = (*current, *_split(text[:-1]))
            for i in range(len(current) + 1, len(last_key) + 1):
                lines.setdefault(last_key[:i], number)
        # a quoted string value: skipped, so '=' or braces inside it mean nothing


def line_of(lines: dict[tuple[str, ...], int], path: tuple[str, ...]) -> int:
    """The line of ``path``, or of its nearest written ancestor; 0 when nothing of it is in the file."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return 0
