"""``halosyncctl alerts [--test RECEIVER]``: firing and pending alerts, active silences and the state of each
receiver; or one test notification to a receiver, to check its setup.

Exit 1 while an alert fires (silenced or not), so a script can ask "is anything wrong?"; with ``--test``, exit 1
when the test notification could not be delivered."""

from __future__ import annotations

from typing import Any

from halosync.cli.ctl_commands import Session, add_command, answer, table, when


def register(sub: Any) -> None:
    p = add_command(sub, "alerts", "firing and pending alerts, silences and receivers (exit 1 while one fires)")
    p.add_argument("--test", metavar="RECEIVER",
                   help="send one test notification to RECEIVER now (a halopsa receiver opens a ticket)")
    p.set_defaults(handler=handle)


def render(session: Session, listed: dict[str, Any]) -> None:
    alerts = listed.get("alerts", [])
    columns = ["state", "severity", "alert", "value", "since", "silenced by"]
    session.console.print(table(f"{len(alerts)} alert(s)", columns,
                                [[a.get("state"), a.get("severity"), a.get("key"), a.get("value"),
                                  when(a.get("started_at") or a.get("pending_since")), a.get("silenced_by")]
                                 for a in alerts]))
    silences = listed.get("silences", [])
    if silences:
        session.console.print(table(f"{len(silences)} silence(s)", ["id", "matchers", "expires", "by", "comment"],
                                    [[s.get("id"), s.get("matchers"), when(s.get("expires_at")), s.get("created_by"),
                                      s.get("comment")] for s in silences]))
    receivers = listed.get("receivers", {})
    session.console.print(table("receivers", ["receiver", "state", "last error"],
                                [[name, r.get("state"), r.get("last_error")] for name, r in receivers.items()]))


def render_test(session: Session, outcome: dict[str, Any]) -> None:
    name = outcome.get("receiver")
    session.console.print(f"test notification to {name}: delivered" if outcome.get("ok")
                          else f"test notification to {name} failed: {outcome.get('error')}")


def handle(session: Session) -> int:
    if session.args.test:
        return answer(session, "alerts.test", {"receiver": session.args.test}, render_test,
                      lambda outcome: 0 if outcome.get("ok") else 1)
    return answer(session, "alerts.list", {}, render,
                  lambda listed: 1 if any(a.get("state") == "firing" for a in listed.get("alerts", [])) else 0)
