"""Sample leads and the write ops the engine makes of them (companies first, then their people)."""

from __future__ import annotations

from collections.abc import Sequence

from halosync.contracts import WriteOp
from halosync.model import Company, Lead, Person


def sample_leads(companies: int, people_per_company: int, *, source: str = "apollo") -> list[Lead]:
    leads: list[Lead] = []
    for c in range(companies):
        company = Company(name=f"Acme {c:05d} Ltd", domain=f"acme{c:05d}.example", website=f"https://acme{c:05d}.example",
                          source_id=f"org-{c}")
        for p in range(people_per_company):
            n = c * people_per_company + p
            person = Person(first_name=f"Ada{n}", last_name="Lovelace", title="CTO",
                            email=f"ada{n}@acme{c:05d}.example", phone="+44 20 7946 0000")
            leads.append(Lead(source, f"person-{n}", person, company))
    return leads


def company_ops(leads: Sequence[Lead]) -> list[WriteOp]:
    seen: dict[str, WriteOp] = {}
    for lead in leads:
        assert lead.company is not None and lead.company.source_id is not None
        if lead.company.source_id not in seen:
            seen[lead.company.source_id] = WriteOp(f"c:{lead.company.source_id}", "company", "create",
                                                   lead.company.values(), lead=lead)
    return list(seen.values())


def person_ops(leads: Sequence[Lead], company_ids: dict[str, str]) -> list[WriteOp]:
    """``company_ids``: company source id -> the client's HaloPSA id."""
    ops = []
    for lead in leads:
        assert lead.company is not None and lead.company.source_id is not None
        ops.append(WriteOp(f"p:{lead.source_id}", "person", "create", lead.person.values(),
                           parent_id=company_ids[lead.company.source_id], lead=lead))
    return ops


def batches(ops: Sequence[WriteOp], size: int) -> list[Sequence[WriteOp]]:
    return [ops[i:i + size] for i in range(0, len(ops), size)]
