"""``halosyncctl trace QUERY``: the lineage of one lead (by email, source id or sink id); exit 1 when nothing
matches."""

from __future__ import annotations

from typing import Any

from halosync.cli.ctl_commands import Session, add_command, answer, pairs, table, when


def register(sub: Any) -> None:
    p = add_command(sub, "trace", "lineage of one lead: source record, match decision, every write attempt, sink ids",
                    "Show what happened to a lead: its source record, the match decision and rule, every write "
                    "attempt with its outcome, and the sink ids. Exit 1 when nothing matches.")
    p.add_argument("query", metavar="QUERY",
                   help="an email address (plus tags and case do not matter), a source id (123 or apollo:123), or "
                        "a sink id (61, or halopsa:user:61 / halopsa:client:61 to say which record)")
    p.set_defaults(handler=handle)


def render(session: Session, found: dict[str, Any]) -> None:
    out = session.console
    leads = found.get("leads", [])
    records = sorted({r for lead in leads for r in lead.get("matched_by", []) if not r.startswith(("email", "source"))})
    if len(records) > 1:
        out.print(f"{found.get('query')!s} names {len(records)} different records: {', '.join(records)}; "
                  "ask for one as SINK:KIND:ID (e.g. halopsa:user:61, halopsa:client:61)")
        out.print()
    for lead in leads:
        staged = lead.get("staged") or {}
        person, company = staged.get("person") or {}, staged.get("company") or {}
        out.print(f"[bold]{lead.get('source')}:{lead.get('source_id')}[/bold]  {person.get('name') or ''} "
                  f"<{person.get('email') or '-'}>  {company.get('name') or ''} {company.get('domain') or ''}")
        out.print(pairs(None, {"found as": "; ".join(lead.get("matched_by") or []) or None,
                               "state": staged.get("state"), "revision": staged.get("revision"),
                               "staged": when(staged.get("staged_at")), "rule": staged.get("rule")}))
        out.print(table("lineage", ["when", "stage", "what"],
                        [[when(e.get("at")), e.get("stage"), e.get("summary") or e.get("detail")]
                         for e in lead.get("events", [])]))
        if lead.get("writes"):
            out.print(table("writes", ["outbox", "sink", "kind", "action", "state", "attempts", "last error"],
                            [[w.get("id"), w.get("sink"), w.get("kind"), w.get("action"), w.get("state"),
                              w.get("attempts"), w.get("last_error")] for w in lead["writes"]]))
        if lead.get("links"):
            out.print(table("links", ["sink", "kind", "sink id", "merged"],
                            [[ln.get("sink"), ln.get("kind"), ln.get("sink_id"), ln.get("merged")]
                             for ln in lead["links"]]))
        for opp in lead.get("opportunities", []):
            out.print(f"opportunity in {opp.get('sink')}: {opp.get('sink_id') or 'not written yet'} "
                      f"({opp.get('state')}, outbox {opp.get('outbox_id')}, planned by {opp.get('planned_by')})")
        for dead in lead.get("dead_letters", []):
            out.print(f"dead letter {dead.get('id')} ({dead.get('stage')}): {dead.get('reason')}")
        out.print()


def handle(session: Session) -> int:
    return answer(session, "trace", {"query": session.args.query}, render)
