"""The locator behind ``FILE:LINE: key: message``: each key is found on its line, whatever the values around hold."""

from __future__ import annotations

from halosync.config.locate import key_lines, line_of
from tests.config.conftest import Problems


def test_a_value_holding_triple_quotes_does_not_hide_later_keys() -> None:
    text = "[daemon]\na = '\"\"\"'\nb = \"'''\"\nc = '''x\"\"\"y'''\n[http]\nlisten = 1\n"
    assert key_lines(text) == {
        ("daemon",): 1, ("daemon", "a"): 2, ("daemon", "b"): 3, ("daemon", "c"): 4,
        ("http",): 5, ("http", "listen"): 6,
    }


def test_a_nested_array_element_on_its_own_line_is_not_a_table_header() -> None:
    text = "[http]\nx = [\n  [1, 2],\n  [3, [4]] # [not.a.header]\n]\nlisten = 1\n"
    assert key_lines(text) == {("http",): 1, ("http", "x"): 2, ("http", "listen"): 6}


def test_the_user_sees_the_line_after_a_triple_quote_value(problems: Problems) -> None:
    text = "[daemon]\nlog_level = '\"\"\"'\n\n[sync]\ninterval = \"soon\"\n"
    assert problems(text) == [
        "halosync.toml:2: daemon.log_level: must be one of trace, debug, info, success, warning, error, critical, "
        "not '\"\"\"'",
        "halosync.toml:5: sync.interval: must be a number, not a string ('soon')",
    ]


def test_the_user_sees_the_line_after_a_multi_line_nested_array(problems: Problems) -> None:
    text = "[http]\nnested = [\n  [1, 2]\n]\nlisten = 8787\n"
    assert problems(text) == [
        "halosync.toml:2: http.nested: unknown key",
        "halosync.toml:5: http.listen: must be a string, not an integer (8787)",
    ]


def test_multi_line_strings_hide_what_looks_like_keys_and_headers() -> None:
    text = 'a = """\n[b]\nc = 1\n"""\nd = \'\'\'\n[[e]]\n\'\'\'\nf = """x"""""\ng = 1\n'
    assert key_lines(text) == {("a",): 1, ("d",): 5, ("f",): 8, ("g",): 9}


def test_escaped_quotes_and_line_ending_backslashes() -> None:
    text = 'a = "\\"\\\\"\nb = """one \\\n  two \\""" """\n"c\\"d" = 1\n"\\u00e9" = 2\n'
    assert key_lines(text) == {("a",): 1, ("b",): 2, ('c"d',): 4, ("é",): 5}


def test_dotted_quoted_keys_and_headers_record_every_prefix() -> None:
    text = "[a . \"b.c\"]\n'd e'.f = 1\n[[g.h]]\ni = 2\n[[g.h]]\ni = 3\nj = 4\n"
    assert key_lines(text) == {
        ("a",): 1, ("a", "b.c"): 1, ("a", "b.c", "d e"): 2, ("a", "b.c", "d e", "f"): 2,
        ("g",): 3, ("g", "h"): 3, ("g", "h", "i"): 4, ("g", "h", "j"): 7,
    }


def test_inline_tables_nested_and_inside_arrays() -> None:
    text = 'p = { q = 1, r.s = { t = "}" } }\nu = [\n  { v = 1 },\n  { w = [{ x = 2 }] },\n]\ny = 1\n'
    assert key_lines(text) == {
        ("p",): 1, ("p", "q"): 1, ("p", "r"): 1, ("p", "r", "s"): 1, ("p", "r", "s", "t"): 1,
        ("u",): 2, ("u", "v"): 3, ("u", "w"): 4, ("u", "w", "x"): 4, ("y",): 6,
    }


def test_numbers_dates_and_comments_are_values_not_keys() -> None:
    text = "a = 1979-05-27 07:32:00.5 # b = 1\nc = +1.5e-3\nd = [ # [e]\n  1.5, inf,\n]\n# f = 1\ng = true\n"
    assert key_lines(text) == {("a",): 1, ("c",): 2, ("d",): 3, ("g",): 7}


def test_broken_text_is_read_past_not_raised_on() -> None:
    # tomllib reports the syntax error; the locator only has to keep finding the keys that are there.
    text = "a = \nb = = 1\n[c]\nd = 'unterminated\ne = 2\n"
    lines = key_lines(text)
    assert lines[("a",)] == 1
    assert lines[("b",)] == 2
    assert lines[("c", "e")] == 5


def test_line_of_falls_back_to_the_nearest_written_ancestor() -> None:
    lines = key_lines("[http]\nlisten = 1\n")
    assert line_of(lines, ("http", "listen")) == 2
    assert line_of(lines, ("http", "timeout")) == 1
    assert line_of(lines, ("sync", "interval")) == 0


def test_a_file_without_a_final_newline() -> None:
    assert key_lines("[a]\nb = [1,\n  2]") == {("a",): 1, ("a", "b"): 2}
    assert key_lines("") == {}
