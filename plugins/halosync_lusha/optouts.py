"""The people who opted out through Lusha's contact opt-out webhook, remembered by this plugin.

The webhook parser records an opt-out here (the Lusha contact id, and a SHA-256 of the lower-cased e-mail when the
event carries one, never the address itself); the source reads it at every poll and gives such a member's lead
the do-not-contact signal (``person.email_status = "do_not_contact"``, label ``lusha:opted-out``), which halosync's
suppression list (issue 16, ``[suppression] email_statuses``) acts on: the lead is written to no sink, now or when
the contact is edited in Lusha later. The file is small JSON under the daemon's state directory, replaced
atomically.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loguru import logger

from halosync.plugin import replace_text

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

    def add(self, entity_id: str | None, email: str | None) -> bool:
        """Remember one opt-out; False when it was already known."""
        current = self.load()
        if current.covers(entity_id, email) and (email is None or email_digest(email) in current.emails):
            return False
        if entity_id:
            current.ids.add(entity_id)
        if email:
            current.emails.add(email_digest(email))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        replace_text(self.path, json.dumps({"ids": sorted(current.ids), "emails": sorted(current.emails)}))
        logger.info("lusha: contact {} opted out; it will not be synced again", entity_id or "(by e-mail)")
        return True
