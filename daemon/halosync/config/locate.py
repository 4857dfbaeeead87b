"""Find the line a TOML key was written on, so problems read ``FILE:LINE: key.path: message``.

``tomllib`` keeps no positions, so this reads the text again with a small tokenizer of its own: it knows basic,
literal and multi-line strings, comments, arrays (nested, over many lines) and inline tables, so an ``=`` or a
``[`` inside a string or an array is never taken for a key or a table header. It does not validate: the text has
already passed ``tomllib`` (or will be refused by it); on anything unexpected it skips to the next line and goes on.

Keys inside arrays of tables (``[[a]]``) and inside inline tables in arrays are recorded without an index, at the
first place they appear, which is where a person looks for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# One alternative per token kind, tried in this order: multi-line strings before the one-line ones, so that
# '"""' is not read as an empty string followed by a quote. A multi-line string may end in up to five quotes
# (the first one or two belong to the content); its body is otherwise anything but a run of three.
_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t]+)
  | (?P<newline>\r?\n)
  | (?P<comment>\#[^\r\n]*)
  | (?P<mlbasic>\"\"\"(?:[^"\\]|\\.|"{1,2}(?!"))*"{3,5})
  | (?P<mlliteral>'''(?:[^']|'{1,2}(?!'))*'{3,5})
  | (?P<basic>"(?:[^"\\\r\n]|\\.)*")
  | (?P<literal>'[^'\r\n]*')
  | (?P<punct>[\[\]{}=,.])
  | (?P<bare>[^\s\[\]{}=,.\#"']+)
  | (?P<junk>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|x([0-9A-Fa-f]{2})|(.))", re.DOTALL)
_KEY_KINDS = frozenset({"bare", "basic", "literal"})


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # a group name of _TOKEN; "punct" tokens are named by their text instead
    text: str
    line: int
    start: int  # offset in the text, to tell "[[" from "[ ["


def _tokens(text: str) -> list[_Token]:
    """Every token but whitespace and comments (a comment always ends at a newline, which is kept)."""
    tokens: list[_Token] = []
    line = 1
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "junk"
        value = match.group()
        if kind == "punct":
            kind = value
        if kind not in ("ws", "comment"):
            tokens.append(_Token(kind, value, line, match.start()))
        line += value.count("\n")
    tokens.append(_Token("end", "", line, len(text)))
    return tokens


def _key_text(token: _Token) -> str:
    """The key a bare or quoted key token names (``"a\\"b"`` names ``a"b``)."""
    if token.kind == "literal":
        return token.text[1:-1]
    if token.kind == "basic":
        return _ESCAPE.sub(_unescape, token.text[1:-1])
    return token.text


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1) or match.group(2) or match.group(3)
    if code:
        return chr(int(code, 16))
    return _ESCAPES.get(match.group(4), match.group())


class _Unexpected(Exception):
    """A token the grammar does not allow here: the statement is abandoned (quietly: tomllib reports it)."""


class _Reader:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.lines: dict[tuple[str, ...], int] = {}

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self, *kinds: str) -> _Token:
        token = self.tokens[self.at]
        if token.kind not in kinds:
            raise _Unexpected(token)
        if token.kind != "end":  # the end stays, so peek() always has a token to show
            self.at += 1
        return token

    def skip_newlines(self) -> None:
        while self.peek().kind == "newline":
            self.at += 1

    def document(self) -> dict[tuple[str, ...], int]:
        table: tuple[str, ...] = ()
        while self.peek().kind != "end":
            try:
                kind = self.peek().kind
                if kind == "[":
                    table = self.header()
                elif kind in _KEY_KINDS:
                    self.key_value(table)
                self.take("newline", "end")
            except _Unexpected:
                # Resynchronise on the next line; what was recorded so far stays.
                while self.peek().kind not in ("newline", "end"):
                    self.at += 1
        return self.lines

    def header(self) -> tuple[str, ...]:
        """``[a.b]`` or ``[[a.b]]``: record the path and every ancestor, return the table keys now go into."""
        opening = self.take("[")
        double = self.peek().kind == "[" and self.peek().start == opening.start + 1
        if double:
            self.at += 1
        path = self.key(())
        closing = self.take("]")
        if double and not (self.peek().kind == "]" and self.peek().start == closing.start + 1):
            raise _Unexpected(self.peek())
        if double:
            self.at += 1
        return path

    def key(self, base: tuple[str, ...]) -> tuple[str, ...]:
        """A dotted key under ``base``; each new prefix is recorded at the line it is written on."""
        path = base
        while True:
            token = self.take(*_KEY_KINDS)
            path = (*path, _key_text(token))
            self.lines.setdefault(path, token.line)
            if self.peek().kind != ".":
                return path
            self.at += 1

    def key_value(self, base: tuple[str, ...]) -> None:
        path = self.key(base)
        self.take("=")
        self.value(path)

    def value(self, path: tuple[str, ...]) -> None:
        """Skip one value; the keys of inline tables in it are recorded under ``path``."""
        token = self.peek()
        if token.kind == "[":
            self.at += 1
            self.sequence("]", lambda: self.value(path))
        elif token.kind == "{":
            self.at += 1
            self.sequence("}", lambda: self.key_value(path))
        elif token.kind in ("basic", "literal", "mlbasic", "mlliteral"):
            self.at += 1
        elif token.kind == "bare":
            # Numbers, booleans and dates; "1.5" and "07:32:00.25" come as several tokens, and a date-time
            # may hold a space ("1979-05-27 07:32:00").
            while self.peek().kind in ("bare", "."):
                self.at += 1
        else:
            raise _Unexpected(token)

    def sequence(self, closer: str, item: Callable[[], None]) -> None:
        """The items of an array or inline table up to ``closer``, with newlines (and so comments) between them."""
        while True:
            self.skip_newlines()
            if self.peek().kind == closer:
                self.at += 1
                return
            item()
            self.skip_newlines()
            if self.take(",", closer).kind == closer:
                return


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map every key path (and table header path) to the 1-based line it first appears on."""
    return _Reader(text).document()


def line_of(lines: dict[tuple[str, ...], int], path: tuple[str, ...]) -> int:
    """The line of ``path``, or of its nearest written ancestor; 0 when nothing of it is in the file."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return 0
