"""Deterministic Lusha-shaped contacts for the fake (the entity shape is ASSUMED; see halosync_lusha.mapping)."""

from __future__ import annotations

import random
from typing import Any

FIRST = ("Ada", "Bram", "Chloe", "Dev", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Luca", "Mina",
         "Nils", "Oona", "Pavel", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wim", "Yara", "Zeno")
LAST = ("Smit", "Okafor", "Larsen", "Moreau", "Novak", "Sato", "Weber", "Silva", "Kowalski", "Haddad", "Berg",
        "Rossi", "Nguyen", "Dubois", "Fischer", "Costa")
COMPANIES = ("Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Proseware", "Woodgrove",
             "Wingtip", "Lucerne")
TITLES = ("IT Manager", "CTO", "Head of IT", "Operations Director", "Office Manager", "CFO")


def make_contact(n: int, rng: random.Random) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = COMPANIES[n % len(COMPANIES)]
    domain = f"{company.lower()}-{n % 97}.example"
    return {
        "id": f"lc_{n:07d}",
        "firstName": first,
        "lastName": last,
        "fullName": f"{first} {last}",
        "jobTitle": rng.choice(TITLES),
        "emailAddresses": [{"email": f"{first.lower()}.{last.lower()}.{n}@{domain}", "emailType": "work",
                            "emailConfidence": "A"}],
        "phoneNumbers": [{"number": f"+31 20 {n:07d}", "phoneType": "direct"}],
        "socialLinks": {"linkedin": f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}-{n}"},
        "location": {"country": "Netherlands", "city": "Amsterdam"},
        "company": {"id": f"co_{n % 97:04d}", "name": f"{company} {n % 97}", "domain": domain,
                    "website": f"https://{domain}", "location": {"country": "Netherlands"}},
        "addedAt": "2026-11-01T09:00:00Z",
    }


def make_contacts(count: int, seed: int = 0, start: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed * 1_000_003 + start)
    return [make_contact(n, rng) for n in range(start, start + count)]
