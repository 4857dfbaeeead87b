"""Opt-outs that an earlier version of this plugin kept in its own file, read for the operators who have one.

Before halosync's suppression list took plugins' requests (``WebhookContent.suppress``), the webhook parser
recorded each opt-out in ``lusha-opt-outs.json`` under the state directory: the Lusha contact id, and a SHA-256 of
the lower-cased e-mail (never the address). New opt-outs go on the suppression list and this file is never written
again; the e-mail digests cannot be moved onto the list (it stores keyed hashes of the address, which a plain
SHA-256 does not give), so the source keeps reading the file and gives the members it covers the do-not-contact
signal (``person.email_status = "do_not_contact"``, label ``lusha:opted-out``), which ``[suppression]
email_statuses`` acts on. An operator may delete the file once those people are on the list
(``halosyncctl suppress add source_id:lusha:ID``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FILE_NAME = "lusha-opt-outs.json"


def email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().casefold().encode()).hexdigest()


@dataclass
class OptOuts:
    ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)  # email_digest() values

    def covers(self, entity_id: str | None, email: str | None) -> bool:
        return (entity_id is not None and entity_id in self.ids) or (
            email is not None and email_digest(email) in self.emails)


@dataclass
class OptOutStore:
    path: Path

    @classmethod
    def in_dir(cls, state_dir: Path) -> OptOutStore:
        return cls(Path(state_dir) / FILE_NAME)

    def load(self) -> OptOuts:
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return OptOuts()
        except (OSError, ValueError) as exc:
            # Not silently empty: an unreadable list would let opted-out people be synced again.
            raise OSError(f"cannot read the Lusha opt-out list {self.path}: {exc}; restore it from a backup or "
                          "fix its JSON (halosync_lusha refuses to pull without it)") from exc
        return OptOuts({str(i) for i in data.get("ids", ())}, {str(e) for e in data.get("emails", ())})
