"""A deterministic generator of realistic Apollo contacts, with known duplicates and hard negatives.

``generate_contacts(GeneratorSpec(count=N, seed=S))`` always returns the same contacts for the same spec, plus the
ground truth: which records are the same real person. The demo, the benchmarks and the end-to-end dedup tests use it.

Parameters (``GeneratorSpec``):

- ``count``: records to produce; ``seed``: the random seed.
- ``duplicate_share``: share of records that are another record of an earlier person, each with one or more variants:
  email case changes, a gmail dot variant (personal gmail addresses), a ``+tag`` sub-address, the email missing
  (LinkedIn still matches), LinkedIn URL variants (``http``, ``www``, trailing slash, case, tracking query), and
  company-name suffix variants ("Acme Inc." / "Acme, Inc" / "Acme Incorporated" / "ACME").
- ``hard_negative_share``: share of records that look alike but are different people: two colleagues sharing a
  role address (``info@company``), or namesakes (same first and last name) at different companies.
- ``missing_email_share``: originals with no email (valid leads; the matcher falls back to LinkedIn or name).
- ``personal_email_share``: originals with a ``@gmail.com`` address instead of the company domain.
- ``tie_share``: share of records whose ``updated_at`` equals the previous record's (timestamp ties).
- ``bulk_share`` / ``bulk_stamps``: share of records whose ``updated_at`` is one of ``bulk_stamps`` timestamps, as a
  bulk edit in Apollo leaves them (large tie groups: 30 % of 10,000 over 5 stamps is 600 per group).
- ``days`` / ``end``: ``updated_at`` spread uniformly over ``days`` days before ``end`` (epoch seconds).
- ``label_ids``: labels assigned at random (zero to two per contact); ``companies``: size of the company pool
  (0 picks ``count // 6 + 10``).
- Do-not-contact signals (issue 16), drawn from a random stream of their own so that other records stay the same:
  ``unsubscribed_share`` of records get ``email_status: "unsubscribed"``, ``dnc_label_share`` get the label
  ``dnc_label`` added, ``dnc_phone_share`` get their first phone number marked ``dnc_status: "dnc"``.
  ``GeneratedContacts.signal_of`` says which record got which.

``GeneratedContacts.person_of`` maps each contact id to a person key (equal keys: the same human);
``kind_of`` says how each record was made (``original``, ``duplicate:<variants>``, ``hard-negative:<kind>``).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from halosync_apollo.fake.names import CITIES, FIRST_NAMES, LAST_NAMES, SUFFIX_VARIANTS, TITLES, WORDS
from halosync_apollo.fake.shape import apollo_time, complete_contact, phone_number


@dataclass(frozen=True)
class GeneratorSpec:
    count: int = 1000
    seed: int = 0
    duplicate_share: float = 0.10
    hard_negative_share: float = 0.02
    missing_email_share: float = 0.03
    personal_email_share: float = 0.08
    tie_share: float = 0.0
    bulk_share: float = 0.0
    bulk_stamps: int = 5
    days: int = 365
    end: float = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    label_ids: tuple[str, ...] = ("6571a0c1e4b0f1a2b3c4d5e1", "6571a0c1e4b0f1a2b3c4d5e2", "6571a0c1e4b0f1a2b3c4d5e3")
    companies: int = 0
    unsubscribed_share: float = 0.0
    dnc_label_share: float = 0.0
    dnc_label: str = "6571a0c1e4b0f1a2b3c4d5ff"  # the team's "Do not contact" label
    dnc_phone_share: float = 0.0


@dataclass
class GeneratedContacts:
    contacts: list[dict[str, Any]] = field(default_factory=list)
    person_of: dict[str, str] = field(default_factory=dict)
    kind_of: dict[str, str] = field(default_factory=dict)
    signal_of: dict[str, str] = field(default_factory=dict)  # contact id -> unsubscribed | dnc_label | dnc_phone


@dataclass(frozen=True)
class _Company:
    base: str
    suffix: str  # key of SUFFIX_VARIANTS
    domain: str
    linkedin: str
    phone: str
    city: tuple[str, str, str]
    org_id: str
    account_id: str


@dataclass(frozen=True)
class _Person:
    key: str
    first: str
    last: str
    title: str
    company: _Company
    local: str  # email local part at the company domain
    gmail: str | None  # personal address local part, when the person uses gmail
    has_email: bool
    linkedin_slug: str
    mobile: str


class _Builder:
    def __init__(self, spec: GeneratorSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.signals = random.Random(spec.seed * 7919 + 16)  # issue 16's signals: a stream of their own
        self.companies = [self._company(i) for i in range(spec.companies or spec.count // 6 + 10)]
        self.people: list[_Person] = []
        self.out = GeneratedContacts()
        self.last_updated: float | None = None
        span = spec.days * 86400
        self.bulk = [spec.end - self.rng.random() * span for _ in range(spec.bulk_stamps if spec.bulk_share else 0)]

    def hex_id(self) -> str:
        return f"{self.rng.getrandbits(96):024x}"

    def phone(self) -> str:
        return f"+1{self.rng.randint(201, 989)}555{self.rng.randint(0, 9999):04d}"

    def _company(self, index: int) -> _Company:
        rng = self.rng
        base = f"{rng.choice(WORDS)} {rng.choice(WORDS)}" if rng.random() < 0.6 else rng.choice(WORDS)
        slug = base.lower().replace(" ", "")
        domain = f"{slug}{index}.{rng.choice(('com', 'io', 'net', 'co'))}"
        return _Company(base, rng.choice(list(SUFFIX_VARIANTS)), domain, f"http://www.linkedin.com/company/{slug}{index}",
                        self.phone(), rng.choice(CITIES), self.hex_id(), self.hex_id())

    def new_person(self, *, first: str | None = None, last: str | None = None, company: _Company | None = None,
                   local: str | None = None) -> _Person:
        rng, spec = self.rng, self.spec
        first = first or rng.choice(FIRST_NAMES)
        last = last or rng.choice(LAST_NAMES)
        n = len(self.people)
        gmail = f"{first}{last}{n}".lower() if local is None and rng.random() < spec.personal_email_share else None
        person = _Person(
            key=f"p{n:07d}", first=first, last=last, title=rng.choice(TITLES),
            company=company or rng.choice(self.companies),
            local=local or _ascii(rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}")))
            + ("" if rng.random() < 0.7 else str(n)),
            gmail=gmail and _ascii(gmail), has_email=local is not None or rng.random() >= spec.missing_email_share,
            linkedin_slug=_ascii(f"{first}-{last}-{n:x}"), mobile=self.phone(),
        )
        self.people.append(person)
        return person

    def updated_at(self) -> float:
        spec = self.spec
        if self.bulk and self.rng.random() < spec.bulk_share:
            return self.rng.choice(self.bulk)
        if self.last_updated is not None and self.rng.random() < spec.tie_share:
            return self.last_updated
        self.last_updated = spec.end - self.rng.random() * spec.days * 86400
        return self.last_updated

    def emit(self, person: _Person, kind: str, variants: tuple[str, ...] = ()) -> None:
        rng = self.rng
        c = person.company
        email = None
        if person.has_email and "no_email" not in variants:
            email = f"{person.gmail}@gmail.com" if person.gmail else f"{person.local}@{c.domain}"
            email = _email_variant(email, variants, rng)
        linkedin = _linkedin_variant(f"http://www.linkedin.com/in/{person.linkedin_slug}", variants, rng)
        company_name = _company_name(c, variants, rng)
        updated = self.updated_at()
        created = updated - rng.random() * 200 * 86400
        city, state, country = c.city
        contact_id = self.hex_id()
        phones = [phone_number(person.mobile, "mobile", 0)]
        if rng.random() < 0.5:
            phones.append(phone_number(c.phone, "work_hq", 1, raw=_formatted(c.phone)))
        pool = self.spec.label_ids
        labels = [pool[rng.randrange(len(pool))] for _ in range(rng.choice((0, 0, 1, 1, 2)))] if pool else []
        labels = sorted(set(labels))
        contact = complete_contact({
            "id": contact_id, "first_name": person.first, "last_name": person.last, "title": person.title,
            "linkedin_url": linkedin, "email": email,
            "email_status": rng.choice(("verified", "verified", "guessed", "unavailable")) if email else None,
            "organization_name": company_name, "organization_id": c.org_id, "account_id": c.account_id,
            "person_id": self.hex_id(), "city": city, "state": state, "country": country,
            "present_raw_address": f"{city}, {state}, {country}", "time_zone": "America/New_York",
            "label_ids": labels, "sanitized_phone": phones[0]["sanitized_number"], "phone_numbers": phones,
            "contact_emails": [{"email": email, "email_status": "verified", "position": 0}] if email else [],
            "created_at": apollo_time(created), "updated_at": apollo_time(updated),
            "account": {"id": c.account_id, "name": company_name, "domain": c.domain,
                        "website_url": f"http://www.{c.domain}", "primary_domain": c.domain,
                        "organization_id": c.org_id},
            "organization": {"id": c.org_id, "name": company_name, "website_url": f"http://www.{c.domain}",
                             "linkedin_url": c.linkedin, "primary_domain": c.domain, "founded_year": 1990 + len(
                                 c.base) % 30, "phone": _formatted(c.phone),
                             "primary_phone": {"number": _formatted(c.phone), "sanitized_number": c.phone}},
        }, now=updated)
        self._signals(contact)
        self.out.contacts.append(contact)
        self.out.person_of[contact_id] = person.key
        self.out.kind_of[contact_id] = kind + (":" + ",".join(variants) if variants else "")


    def _signals(self, contact: dict[str, Any]) -> None:
        spec, rng = self.spec, self.signals
        if not (spec.unsubscribed_share or spec.dnc_label_share or spec.dnc_phone_share):
            return
        roll = rng.random()
        if contact.get("email") and roll < spec.unsubscribed_share:
            contact["email_status"] = "unsubscribed"
            self.out.signal_of[contact["id"]] = "unsubscribed"
        elif roll < spec.unsubscribed_share + spec.dnc_label_share:
            contact["label_ids"] = sorted({*contact["label_ids"], spec.dnc_label})
            self.out.signal_of[contact["id"]] = "dnc_label"
        elif roll < spec.unsubscribed_share + spec.dnc_label_share + spec.dnc_phone_share:
            contact["phone_numbers"][0]["dnc_status"] = "dnc"
            self.out.signal_of[contact["id"]] = "dnc_phone"


def generate_contacts(spec: GeneratorSpec) -> GeneratedContacts:
    b = _Builder(spec)
    rng = b.rng
    while len(b.out.contacts) < spec.count:
        roll = rng.random()
        if b.people and roll < spec.duplicate_share:
            person = rng.choice(b.people)
            b.emit(person, "duplicate", _pick_variants(person, rng))
        elif b.people and roll < spec.duplicate_share + spec.hard_negative_share:
            if rng.random() < 0.5 and spec.count - len(b.out.contacts) >= 2:
                company = rng.choice(b.companies)  # two colleagues behind one role address
                for _ in range(2):
                    b.emit(b.new_person(company=company, local="info"), "hard-negative:shared-role-email")
            else:
                twin = rng.choice(b.people)
                other = rng.choice([c for c in b.companies[:50] if c is not twin.company])
                b.emit(b.new_person(first=twin.first, last=twin.last, company=other), "hard-negative:namesake")
        else:
            b.emit(b.new_person(), "original")
    return b.out


def _pick_variants(person: _Person, rng: random.Random) -> tuple[str, ...]:
    email = ["case", "plus", "no_email"] + (["gmail_dot", "gmail_dot"] if person.gmail else [])
    picks = {rng.choice(email)}
    if rng.random() < 0.5:
        picks.add(rng.choice(("li_http", "li_slash", "li_case", "li_query")))
    if rng.random() < 0.5:
        picks.add("company_suffix")
    return tuple(sorted(picks))


def _email_variant(email: str, variants: tuple[str, ...], rng: random.Random) -> str:
    local, domain = email.split("@")
    if "gmail_dot" in variants and domain == "gmail.com":
        at = rng.randint(1, max(1, len(local) - 1))
        local = local[:at] + "." + local[at:] if "." not in local else local.replace(".", "")
    if "plus" in variants:
        local = f"{local}+{rng.choice(('apollo', 'news', 'crm'))}"
    if "case" in variants:
        local, domain = local.title(), domain.capitalize()
    return f"{local}@{domain}"


def _linkedin_variant(url: str, variants: tuple[str, ...], rng: random.Random) -> str:
    if "li_http" in variants:
        return url.replace("http://www.", "https://")
    if "li_slash" in variants:
        return url.replace("http://", "https://") + "/"
    if "li_case" in variants:
        head, slug = url.rsplit("/", 1)
        return f"{head}/{slug.upper()}"
    if "li_query" in variants:
        return url + f"?trk={rng.choice(('people-guest', 'public_profile'))}"
    return url


def _company_name(c: _Company, variants: tuple[str, ...], rng: random.Random) -> str:
    forms = SUFFIX_VARIANTS[c.suffix]
    if "company_suffix" in variants:
        form = rng.choice(forms[1:])
        return (c.base.upper() if rng.random() < 0.2 else c.base) + form
    return c.base + forms[0]


def _formatted(sanitized: str) -> str:
    digits = sanitized[2:]
    return f"+1 ({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def _ascii(text: str) -> str:
    """Lower-case ASCII for addresses and slugs ("Müller" -> "muller", "O'Brien" -> "obrien")."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace("'", "")
