"""Matching keys: the normalised forms under which two spellings of one email, LinkedIn profile, domain or name
compare equal. Pure functions of their input (no I/O), so the same lead always yields the same keys and a decision
can be explained from them.

    email_key("John.Smith+crm@GoogleMail.com ")   -> "johnsmith@gmail.com"
    linkedin_key("https://uk.linkedin.com/in/Jo-S/?trk=x") -> "in/jo-s"
    domain_key("http://www.Acme.co.uk/about")     -> "acme.co.uk"
    domain_key("xn--bcher-kva.de")                -> "bücher.de"  (IDNA: one key for both spellings)
    company_name_key("ACME, Inc.")                -> "acme"
    person_name_key("José", "Müller")            -> "jose muller"

Every function returns None when there is nothing to match on (empty, malformed), never an empty string.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit

import idna

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

# Shared mailboxes: they reach a team, not a person, so they never identify a person on their own.
ROLE_LOCAL_PARTS = frozenset({
    "info", "sales", "contact", "contacts", "hello", "hi", "admin", "administrator", "office", "support", "help",
    "enquiries", "enquiry", "inquiries", "inquiry", "marketing", "team", "billing", "accounts", "accounting",
    "finance", "hr", "jobs", "careers", "noreply", "no-reply", "donotreply", "webmaster", "postmaster", "service",
    "services", "mail", "general", "reception", "it", "helpdesk", "security", "press", "media", "legal", "orders",
})

# Legal-form words dropped from company names ("Acme, Inc." = "ACME" = "Acme Incorporated").
LEGAL_SUFFIXES = frozenset({
    "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc", "llp", "lp", "plc",
    "gmbh", "ag", "kg", "ohg", "ug", "mbh", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "ab", "as", "asa", "oy",
    "oyj", "aps", "pty", "pte", "kk", "group", "holding", "holdings", "the",
})

_LINKEDIN_HOST = re.compile(r"^(?:[a-z]{2,3}\.|www\.|m\.)?linkedin\.com$")
_NON_WORD = re.compile(r"[^\w]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """NFKC, case-folded, trimmed, inner whitespace collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def email_key(email: str | None, *, strip_plus_tags: bool = True) -> str | None:
    """The mailbox an address reaches: case-folded; gmail/googlemail dots and ``+tags`` dropped (``googlemail.com``
    is ``gmail.com``); ``+tags`` dropped elsewhere too unless ``strip_plus_tags`` is False (sub-addressing on
    Google Workspace and Microsoft 365 delivers ``a+x@`` to ``a@``)."""
    if not email:
        return None
    text = fold(email).replace(" ", "")
    local, at, domain = text.rpartition("@")
    domain = idna_host(domain.rstrip("."))
    if not at or not local or "." not in domain or "@" in local:
        return None
    if domain in GMAIL_DOMAINS:
        domain = "gmail.com"
        local = local.split("+", 1)[0].replace(".", "")
    elif strip_plus_tags:
        local = local.split("+", 1)[0]
    return f"{local}@{domain}" if local else None


def is_role_address(email: str | None) -> bool:
    """True for shared mailboxes such as info@ or sales@ (checked on the normalised local part)."""
    key = email_key(email)
    if key is None:
        return False
    local = key.split("@", 1)[0]
    return local in ROLE_LOCAL_PARTS or local.replace("_", "-") in ROLE_LOCAL_PARTS


def linkedin_key(url: str | None) -> str | None:
    """``in/<slug>`` or ``company/<slug>`` for a LinkedIn profile URL, whatever its scheme, host variant
    (www, uk., m.), case, trailing slash or query; None for anything that is not a LinkedIn profile."""
    if not url:
        return None
    text = fold(url).replace(" ", "")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").rstrip(".")
    if not _LINKEDIN_HOST.match(host):
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2 or segments[0] not in ("in", "company", "pub", "school"):
        return None
    return f"{segments[0]}/{segments[1]}"


def domain_key(value: str | None) -> str | None:
    """A bare registrable-looking host: scheme, credentials, port, path, ``www.`` and a trailing dot removed.
    Accepts a domain, a website URL, or an email address (its domain)."""
    if not value:
        return None
    text = fold(value).replace(" ", "")
    if "@" in text and "://" not in text:
        text = text.rpartition("@")[2]
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        return None
    host = idna_host(host.rstrip("."))
    while host.startswith("www."):
        host = host[4:]
    if "." not in host or not re.fullmatch(r"[\w.-]+", host):
        return None
    return host


def idna_host(host: str) -> str:
    """One spelling of an internationalised domain name: ``xn--bcher-kva.de``, ``BÜCHER.de`` and ``bücher.de`` are
    all ``bücher.de`` (UTS-46 mapping, then IDNA2008 to Unicode labels, then :func:`fold`). The Unicode form, not
    the ``xn--`` one, so keys stored before IDNA was applied keep matching and explanations stay readable. A host
    IDNA refuses (an underscore, an empty label, ...) is returned as given, which is what keys were before."""
    if host.isascii() and "xn--" not in host:
        return host  # IDNA would only lower-case it (fold already has) or refuse it: either way unchanged
    return _idna_host(host)


@lru_cache(maxsize=4096)  # a sync sees the same few company domains over and over; IDNA costs ~10-50 µs
def _idna_host(host: str) -> str:
    try:
        # fold again: a decoded label may hold what fold maps (``xn--strae-oqa`` is ``straße``, folded ``strasse``).
        return fold(idna.decode(host, uts46=True))
    except (idna.IDNAError, UnicodeError, ValueError):
        return host


def company_name_key(name: str | None) -> str | None:
    """Words of a company name without punctuation, accents, and legal-form suffixes."""
    if not name:
        return None
    words = _words(name)
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    while len(words) > 1 and words[0] == "the":
        words.pop(0)
    key = " ".join(words)
    return key or None


def person_name_key(first: str | None, last: str | None, full: str | None = None) -> str | None:
    """``first last`` folded, accents and punctuation removed (``O'Brien`` = ``OBrien``); from ``full`` when the
    parts are missing."""
    text = " ".join(p for p in (first, last) if p) or full or ""
    words = _words(text.replace("'", "").replace("\u2019", ""))
    return " ".join(words) or None


def _words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", fold(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [w for w in _NON_WORD.sub(" ", plain).split() if w and w != "_"]
