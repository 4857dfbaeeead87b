"""``halosyncctl suppress add|remove|list``: the suppression list (issue 16). A suppressed person is never created
or updated in any sink; queued writes for them are cancelled when they are added."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from halosync.cli.ctl_commands import Session, add_command, answer, table, when

ENTRY_HELP = ('email:ADDRESS, domain:DOMAIN (or @DOMAIN), linkedin:URL, source_id:SOURCE:ID; a bare e-mail address '
              'or LinkedIn URL is recognised as such')


def register(sub: Any) -> None:
    p = add_command(sub, "suppress", "the suppression list: people never created or updated in any sink",
                    "Manage the suppression list. Entries are kept as keyed hashes; leads they match are recorded "
                    "with rule 'suppressed' (see trace) and counted in the totals, and never reach a sink.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add entries (cancels writes already queued for them)")
    add.add_argument("entries", nargs="+", metavar="ENTRY", help=ENTRY_HELP)
    add.add_argument("--reason", help="why (shown by list)")
    remove = actions.add_parser("remove", help="remove entries (a full sync stages their records again)")
    remove.add_argument("entries", nargs="+", metavar="ENTRY", help=ENTRY_HELP)
    listing = actions.add_parser("list", help="show the list (a forgotten person's entry shows no value)")
    listing.add_argument("--limit", type=int, default=1000, help="entries shown (default 1000)")
    p.set_defaults(handler=handle)


def print_change(console: Console, result: dict[str, Any]) -> None:
    if "removed" in result:
        console.print(f"{result['removed']} entr(ies) removed; run `halosyncctl sync --full` so that "
                              "their records are staged again")
    else:
        console.print(f"{result['added']} entr(ies) added (already there: not counted); "
                              f"{result['cancelled']} queued write(s) cancelled")


def print_list(console: Console, result: dict[str, Any]) -> None:
    console.print(table(f"suppression list ({result['total']} entries)",
                                ["id", "kind", "value", "origin", "reason", "added"],
                                [[e["id"], e["kind"], _value(e), e["origin"], e["reason"], when(e["created_at"])]
                                 for e in result["entries"]]))


def _value(entry: dict[str, Any]) -> str:
    return str(entry["value"]) if entry["value"] is not None else "(forgotten: hash only)"


def handle(session: Session) -> int:
    args = session.args
    if args.action == "list":
        return answer(session, "suppress.list", {"limit": args.limit}, lambda s, r: print_list(s.console, r))
    params: dict[str, Any] = {"entries": list(args.entries)}
    if args.action == "add" and args.reason:
        params["reason"] = args.reason
    return answer(session, f"suppress.{args.action}", params, lambda s, r: print_change(s.console, r))
