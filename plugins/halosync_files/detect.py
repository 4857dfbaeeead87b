"""What kind of file a dropped export is: its format, text encoding and CSV delimiter.

Encodings: a byte-order mark decides (utf-8-sig, utf-16); UTF-16 without one is recognised by its NUL bytes;
otherwise the whole file is checked as UTF-8 while its digest is taken (one streaming pass, so a stray byte at
row 900,000 is noticed before row 1 is staged) and anything that is not UTF-8 is read as cp1252, the encoding
Excel on Windows saves "CSV" in. Delimiters: ``csv.Sniffer`` over the first lines, and when it cannot tell, the
candidate most frequent outside quotes in the first line.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
SAMPLE = 64 * 1024
DELIMITERS = ",;\t|"
XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Scan:
    """One pass over a file's bytes."""

    digest: str  # the version of the file: a re-dropped identical file has the same one
    size: int
    utf8: bool  # every byte sequence is valid UTF-8
    head: bytes  # the first SAMPLE bytes


def scan(path: Path) -> Scan:
    digest = hashlib.blake2b(digest_size=16)
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, size, head = True, 0, b""
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            if not head:
                head = chunk[:SAMPLE]
            digest.update(chunk)
            size += len(chunk)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return Scan(digest.hexdigest(), size, utf8, head)


def is_xlsx(head: bytes) -> bool:
    return head.startswith(XLSX_MAGIC)


def encoding(found: Scan) -> str:
    head = found.head
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if sample and sample.count(0) * 4 >= len(sample):  # mostly-ASCII text in UTF-16: every other byte is NUL
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    return "utf-8" if found.utf8 else "cp1252"


def delimiter(text: str) -> str:
    """The delimiter of CSV text (its first lines)."""
    sample = text[: text.rfind("\n") + 1] or text
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = ""
    if found:
        return found
    first = _first_record(sample)
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _first_record(text: str) -> str:
    """The first non-blank line with quoted parts removed (a quoted field may hold delimiters or newlines)."""
    out: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "\n" and not quoted:
            if "".join(out).strip():
                break
            out = []
        elif not quoted:
            out.append(ch)
    return "".join(out)
