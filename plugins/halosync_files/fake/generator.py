"""The fake of a file source: realistic vendor export files, with the hostile variations real ones have.

A file source has no server to fake; what varies is the files. ``write_csv`` and ``write_xlsx`` write the export
of a list of ``FakePerson`` in the column layout of one vendor (the presets' names: sales_navigator, zoominfo,
cognism, lusha, event), and ``Hostile`` adds what exports do to importers: a byte-order mark, cp1252 or UTF-16
text, ``;``/tab/``|`` delimiters, a title line above the header, blank lines, quoted newlines and delimiters
inside values, a duplicated header, cells past the last header, Excel serial dates. Deterministic for a seed.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

FIRST = ("Anna", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal", "Léa",
         "Marta", "Niall", "Olu", "Priya", "Quentin", "Rosa", "Sven", "Tomás", "Uma", "Viktor", "Wen", "Zoë")
LAST = ("Andersen", "Brennan", "Costa", "Dubois", "Ekström", "Fischer", "García", "Horvat", "Ivanova", "Jensen",
        "Kowalski", "López", "Müller", "Nakamura", "O'Brien", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka")
COMPANIES = ("Acme IT", "Brightwave Networks", "Cobalt Systems", "Delta Managed Services", "Evergreen Tech",
             "Foxglove Cloud", "Granite Hosting", "Harbor Security", "Ionic Data", "Juniper Logistics")
TITLES = ("IT Manager", "Head of IT", "CTO", "Operations Director", "Systems Administrator", "Office Manager")
CITIES = (("London", "United Kingdom"), ("Manchester", "United Kingdom"), ("Dublin", "Ireland"),
          ("Berlin", "Germany"), ("Lyon", "France"), ("Austin", "United States"))


@dataclass(frozen=True)
class FakePerson:
    n: int
    first: str
    last: str
    email: str
    title: str
    company: str
    domain: str
    phone: str
    mobile: str
    linkedin: str
    city: str
    country: str
    signed_up: datetime

    @property
    def vendor_id(self) -> str:
        return str(100_000 + self.n)


def people(count: int, *, seed: int = 1, start: int = 0) -> Iterator[FakePerson]:
    rng = random.Random(seed)
    base = datetime(2026, 11, 2, 9, 0)
    for n in range(start, start + count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = rng.choice(COMPANIES)
        domain = company.lower().replace(" ", "") + ".example"
        city, country = rng.choice(CITIES)
        slug = f"{first}-{last}-{n}".lower().replace("'", "")
        yield FakePerson(n, first, last, f"{slug}@{domain}", rng.choice(TITLES), company, domain,
                         f"+44 20 7946 {n % 10_000:04d}", f"+44 7700 9{n % 100_000:05d}",
                         f"https://www.linkedin.com/in/{slug}", city, country, base + timedelta(minutes=n))


Column = tuple[str, Callable[[FakePerson], str]]

LAYOUTS: dict[str, list[Column]] = {
    "sales_navigator": [
        ("First Name", lambda p: p.first), ("Last Name", lambda p: p.last), ("Job Title", lambda p: p.title),
        ("Company", lambda p: p.company), ("Company Website", lambda p: f"https://www.{p.domain}/"),
        ("LinkedIn URL", lambda p: p.linkedin), ("Sales Navigator URL",
                                                 lambda p: f"https://www.linkedin.com/sales/lead/ACw{p.n},NAME"),
        ("Location", lambda p: f"{p.city}, {p.country}"), ("City", lambda p: p.city),
        ("Country", lambda p: p.country), ("Email", lambda p: p.email)],
    "zoominfo": [
        ("ZoomInfo Contact ID", lambda p: p.vendor_id), ("Last Name", lambda p: p.last),
        ("First Name", lambda p: p.first), ("Middle Name", lambda p: ""), ("Job Title", lambda p: p.title),
        ("Management Level", lambda p: "Manager"), ("Direct Phone Number", lambda p: p.phone),
        ("Email Address", lambda p: p.email), ("Mobile phone", lambda p: p.mobile),
        ("LinkedIn Contact Profile URL", lambda p: p.linkedin), ("Person City", lambda p: p.city),
        ("Country", lambda p: p.country), ("ZoomInfo Company ID", lambda p: str(9000 + len(p.company))),
        ("Company Name", lambda p: p.company), ("Website", lambda p: f"www.{p.domain}"),
        ("Company HQ Phone", lambda p: "+44 20 7946 0000"), ("Revenue (in 000s USD)", lambda p: "12,500"),
        ("Company City", lambda p: p.city), ("Company Country", lambda p: p.country)],
    "cognism": [
        ("Cognism ID", lambda p: f"cg-{p.vendor_id}"), ("First Name", lambda p: p.first),
        ("Last Name", lambda p: p.last), ("Job Title", lambda p: p.title), ("Email", lambda p: p.email),
        ("Email Status", lambda p: "Verified"), ("Direct Dial", lambda p: p.phone), ("Mobile", lambda p: p.mobile),
        ("LinkedIn URL", lambda p: p.linkedin), ("Company Name", lambda p: p.company),
        ("Company Domain", lambda p: p.domain), ("City", lambda p: p.city), ("Country", lambda p: p.country)],
    "lusha": [
        ("First Name", lambda p: p.first), ("Last Name", lambda p: p.last), ("Job Title", lambda p: p.title),
        ("Company Name", lambda p: p.company), ("Company Domain", lambda p: p.domain),
        ("Email 1", lambda p: p.email), ("Phone 1", lambda p: p.phone), ("Mobile", lambda p: p.mobile),
        ("LinkedIn URL", lambda p: p.linkedin), ("Country", lambda p: p.country), ("City", lambda p: p.city)],
    "event": [
        ("Attendee #", lambda p: f"A{p.vendor_id}"), ("Registration Date", lambda p: p.signed_up.isoformat(" ")),
        ("Ticket Type", lambda p: "General Admission"), ("First Name", lambda p: p.first),
        ("Last Name", lambda p: p.last), ("Email", lambda p: p.email), ("Company", lambda p: p.company),
        ("Job Title", lambda p: p.title), ("Work Phone", lambda p: p.phone)],
}


def expected_id(vendor: str, p: FakePerson) -> str:
    """The ``source_id`` the plugin gives this person in this vendor's export."""
    return {"zoominfo": f"zoominfo:{p.vendor_id}", "cognism": f"cognism:cg-{p.vendor_id}",
            "event": f"event:A{p.vendor_id}"}.get(vendor, f"email:{p.email}")


@dataclass(frozen=True)
class Hostile:
    encoding: str = "utf-8"  # "utf-8-sig" (a BOM), "cp1252", "utf-16"
    delimiter: str = ","
    preamble: tuple[str, ...] = ()  # lines above the header ("Exported from ZoomInfo on ...")
    blank_lines: bool = False  # a blank line every few rows
    quoted_newlines: bool = False  # titles with a newline and the delimiter inside
    duplicate_header: bool = False  # the e-mail column twice (the first copy empty)
    trailing_columns: bool = False  # two cells past the last header in every row
    excel_dates: bool = False  # dates as Excel serial day numbers
    line_end: str = "\r\n"


HOSTILE = Hostile(encoding="utf-8-sig", delimiter=";", preamble=("Exported 2026-12-03 by halosync's fake",),
                  blank_lines=True, quoted_newlines=True, duplicate_header=True, trailing_columns=True,
                  excel_dates=True)


def rows(vendor: str, persons: Iterable[FakePerson], hostile: Hostile = Hostile()) -> Iterator[list[str]]:
    """The header and then one row per person, as the export holds them (before encoding)."""
    layout = list(LAYOUTS[vendor])
    if hostile.excel_dates:
        layout = [(h, (lambda p: f"{(p.signed_up - datetime(1899, 12, 30)).total_seconds() / 86400:.5f}")
                   if h == "Registration Date" else f) for h, f in layout]
    if hostile.quoted_newlines:
        layout = [(h, (lambda p: f"{p.title}\nEMEA{hostile.delimiter} remote") if h == "Job Title" else f)
                  for h, f in layout]
    header = [h for h, _ in layout]
    email_at = next((i for i, h in enumerate(header) if h in ("Email", "Email Address", "Email 1")), None)
    if hostile.duplicate_header and email_at is not None:
        header.insert(0, header[email_at])
    yield header
    for i, p in enumerate(persons):
        cells = [f(p) for _, f in layout]
        if hostile.duplicate_header and email_at is not None:
            cells.insert(0, "")
        if hostile.trailing_columns:
            cells += ["", "x-extra"]
        yield cells
        if hostile.blank_lines and i % 7 == 3:
            yield []


def csv_text(vendor: str, persons: Iterable[FakePerson], hostile: Hostile = Hostile()) -> str:
    out = io.StringIO()
    for line in hostile.preamble:
        out.write(line + hostile.line_end)
    writer = csv.writer(out, delimiter=hostile.delimiter, lineterminator=hostile.line_end)
    for cells in rows(vendor, persons, hostile):
        writer.writerow(cells)
    return out.getvalue()


def write_csv(path: Path, vendor: str, persons: Iterable[FakePerson], hostile: Hostile = Hostile()) -> Path:
    """Write the export (streamed: a million people never sit in memory at once)."""
    with path.open("w", encoding=hostile.encoding, newline="") as f:
        for line in hostile.preamble:
            f.write(line + hostile.line_end)
        writer = csv.writer(f, delimiter=hostile.delimiter, lineterminator=hostile.line_end)
        for cells in rows(vendor, persons, hostile):
            writer.writerow(cells)
    return path


def write_xlsx(path: Path, vendor: str, persons: Iterable[FakePerson], hostile: Hostile = Hostile()) -> Path:
    """The export as an Excel workbook: numbers as numbers, dates as Excel dates, a title row on top."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Export")
    for line in hostile.preamble:
        sheet.append([line])
    persons = list(persons)
    for i, cells in enumerate(rows(vendor, persons, replace(hostile, excel_dates=False))):
        out: list[object] = list(cells)
        if i and hostile.excel_dates:
            out = [_typed(c) for c in cells]
        sheet.append(out)
    book.save(path)
    return path


def _typed(cell: str) -> object:
    """A cell as Excel would type it: dates as datetimes, digit-only ids as numbers."""
    try:
        return datetime.fromisoformat(cell)
    except ValueError:
        pass
    return int(cell) if cell.isdigit() and len(cell) < 15 else cell
