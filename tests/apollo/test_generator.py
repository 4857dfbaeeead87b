"""The deterministic contact generator: same spec, same contacts; known duplicates and hard negatives."""

from __future__ import annotations

from collections import Counter, defaultdict

from halosync_apollo.fake import GeneratorSpec, generate_contacts


def test_the_same_spec_gives_the_same_contacts_and_another_seed_others() -> None:
    a = generate_contacts(GeneratorSpec(count=300, seed=1))
    b = generate_contacts(GeneratorSpec(count=300, seed=1))
    c = generate_contacts(GeneratorSpec(count=300, seed=2))

    assert a.contacts == b.contacts and a.person_of == b.person_of
    assert a.contacts != c.contacts
    assert len({x["id"] for x in a.contacts}) == 300


def test_duplicates_are_variants_of_one_person_and_hard_negatives_are_different_people() -> None:
    generated = generate_contacts(GeneratorSpec(count=3_000, seed=5, duplicate_share=0.2, hard_negative_share=0.05))
    kinds = Counter(kind.split(":")[0] for kind in generated.kind_of.values())
    by_person = defaultdict(list)
    for contact in generated.contacts:
        by_person[generated.person_of[contact["id"]]].append(contact)

    assert 0.15 < kinds["duplicate"] / 3_000 < 0.25 and kinds["hard-negative"] > 60
    duplicates = [c for c in generated.contacts if generated.kind_of[c["id"]].startswith("duplicate")]
    for contact in duplicates:
        twins = by_person[generated.person_of[contact["id"]]]
        assert len(twins) >= 2 and len({(t["first_name"], t["last_name"]) for t in twins}) == 1
    variants = {v for c in duplicates for v in generated.kind_of[c["id"]].split(":")[1].split(",")}
    assert {"case", "plus", "gmail_dot", "no_email", "company_suffix", "li_slash", "li_query"} <= variants
    # Two colleagues behind info@ share an address but are different people.
    shared = [c for c in generated.contacts if generated.kind_of[c["id"]] == "hard-negative:shared-role-email"]
    emails = Counter(c["email"] for c in shared)
    pair = next(e for e, n in emails.items() if n >= 2)
    assert pair.startswith("info@")
    assert len({generated.person_of[c["id"]] for c in shared if c["email"] == pair}) >= 2


def test_tie_share_makes_contacts_share_updated_at() -> None:
    generated = generate_contacts(GeneratorSpec(count=1_000, seed=1, tie_share=0.5))
    stamps = Counter(c["updated_at"] for c in generated.contacts)
    assert sum(n for n in stamps.values() if n > 1) > 300
