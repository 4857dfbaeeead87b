"""Column-mapping presets: which header of each vendor's export holds which lead field.

A ``Mapping`` names, for each target (``person.<field>``, ``company.<field>``, ``id`` for the vendor's own record
id, ``created_at`` for a sign-up date), the headers that may hold it, in order of preference. Headers are compared
folded (case, spaces, punctuation ignored), so "E-mail Address" and "email address" are one header.

The presets follow the exports as their vendors ship them (ZoomInfo's "ZoomInfo Contact ID", Lusha's "Email 1",
...). Sales Navigator has no export of its own: lists leave it through extension tools whose columns the preset
covers. Where a vendor's documentation was not at hand the headers are the common ones; plugins/halosync_files/
README.md marks what the presets (and the fake generator) assume.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field

from halosync.plugin import COMPANY_FIELDS, PERSON_FIELDS

TARGETS = ("id", *(f"person.{f}" for f in PERSON_FIELDS), *(f"company.{f}" for f in COMPANY_FIELDS),
           "company.source_id", "created_at")
_FOLD = re.compile(r"[^0-9a-z]+")


def fold(header: str) -> str:
    """The form headers are compared in: lower case, letters and digits only."""
    return _FOLD.sub("", header.strip().lower())


@dataclass(frozen=True)
class Mapping:
    """One way of reading an export's columns."""

    name: str
    columns: AbcMapping[str, tuple[str, ...]]  # target -> headers, preferred first
    # Headers only this vendor's export has: when all are present, detection picks this mapping outright.
    signature: tuple[str, ...] = ()
    folded: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = [t for t in self.columns if t not in TARGETS]
        if unknown:
            raise ValueError(f"mapping {self.name!r}: unknown target {unknown[0]!r}; targets are {', '.join(TARGETS)}")
        object.__setattr__(self, "folded", {t: tuple(fold(h) for h in hs) for t, hs in self.columns.items()})

    def score(self, headers: Iterable[str]) -> int:
        """How many of this mapping's targets a header row provides (signature headers count double)."""
        present = {fold(h) for h in headers}
        hits = sum(1 for hs in self.folded.values() if any(h in present for h in hs))
        return hits + sum(2 for s in self.signature if fold(s) in present)


def _m(name: str, signature: tuple[str, ...] = (), **columns: tuple[str, ...]) -> Mapping:
    return Mapping(name, {k.replace("__", "."): v for k, v in columns.items()}, signature)


PRESETS: dict[str, Mapping] = {m.name: m for m in (
    _m("sales_navigator", ("Sales Navigator URL",),
       person__first_name=("First Name",), person__last_name=("Last Name",), person__full_name=("Full Name", "Name"),
       person__title=("Job Title", "Title", "Current Title"), person__email=("Email", "Professional Email"),
       person__linkedin_url=("LinkedIn URL", "Profile URL", "Linkedin Profile URL"),
       person__city=("City",), person__country=("Country",), person__state=("State",),
       company__name=("Company", "Company Name", "Current Company"),
       company__website=("Company Website", "Website"), company__domain=("Company Domain",),
       company__linkedin_url=("Company LinkedIn URL", "Company Linkedin Url")),
    _m("zoominfo", ("ZoomInfo Contact ID", "ZoomInfo Company ID"),
       id=("ZoomInfo Contact ID",), person__first_name=("First Name",), person__last_name=("Last Name",),
       person__title=("Job Title",), person__email=("Email Address",), person__phone=("Direct Phone Number",),
       person__mobile=("Mobile phone", "Mobile Phone Number"),
       person__linkedin_url=("LinkedIn Contact Profile URL",), person__city=("Person City",),
       person__state=("Person State",), person__country=("Country", "Person Country"),
       company__name=("Company Name",), company__website=("Website",), company__phone=("Company HQ Phone",),
       company__linkedin_url=("LinkedIn Company Profile URL",), company__city=("Company City",),
       company__country=("Company Country",), company__source_id=("ZoomInfo Company ID",)),
    _m("cognism", ("Cognism ID", "Direct Dial"),
       id=("Cognism ID",), person__first_name=("First Name",), person__last_name=("Last Name",),
       person__full_name=("Full Name",), person__title=("Job Title",), person__email=("Email",),
       person__email_status=("Email Status",), person__phone=("Direct Dial", "Phone"),
       person__mobile=("Mobile", "Mobile Phone"), person__linkedin_url=("LinkedIn URL", "Contact LinkedIn URL"),
       person__city=("City",), person__state=("State",), person__country=("Country",),
       company__name=("Company Name", "Company"), company__domain=("Company Domain",),
       company__website=("Company Website",), company__phone=("Company Phone",),
       company__linkedin_url=("Company LinkedIn URL",), company__country=("Company Country",)),
    _m("lusha", ("Email 1", "Phone 1"),
       id=("Contact ID", "Lusha ID"), person__first_name=("First Name",), person__last_name=("Last Name",),
       person__full_name=("Full Name",), person__title=("Job Title",), person__email=("Email 1", "Work Email"),
       person__phone=("Phone 1", "Direct Phone"), person__mobile=("Mobile", "Mobile Phone"),
       person__linkedin_url=("LinkedIn URL", "Linkedin"), person__city=("City",), person__state=("State",),
       person__country=("Country",), company__name=("Company Name", "Company"),
       company__domain=("Company Domain", "Domain"), company__website=("Company Website", "Website"),
       company__linkedin_url=("Company LinkedIn URL",), company__country=("Company Country",)),
    _m("event", ("Registration Date", "Ticket Type"),
       id=("Attendee #", "Attendee ID", "Registration ID"), person__first_name=("First Name", "Firstname"),
       person__last_name=("Last Name", "Surname", "Lastname"), person__full_name=("Name", "Full Name"),
       person__title=("Job Title", "Title", "Position", "Role"),
       person__email=("Email", "Email Address", "E-mail", "Work Email"),
       person__phone=("Phone", "Work Phone", "Phone Number", "Telephone"), person__mobile=("Mobile", "Cell Phone"),
       person__linkedin_url=("LinkedIn", "LinkedIn URL", "LinkedIn Profile"), person__city=("City",),
       person__country=("Country",), company__name=("Company", "Organization", "Organisation", "Company Name"),
       company__website=("Company Website", "Website"),
       created_at=("Registration Date", "Registration Time", "Order Date", "Signed Up")),
)}
