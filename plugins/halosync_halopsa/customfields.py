"""Custom fields: configured by name (``CFApolloId = "{source_id}"``), resolved to FieldInfo ids at start.

HaloPSA writes custom fields as ``customfields: [{"id": <FieldInfo id>, "value": ...}]`` and an update replaces
the record's whole array, so every write carries every configured field (and, on an update, the record's other
custom fields as they stand). FieldInfo answers ``{id, name, label, type, usage, ...}``; the codes for ``usage``
(which entity a field belongs to) and ``type`` are not documented, so the ones below are what instances show and
a code outside them only warns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from halosync.plugin import CheckResult, WriteOp
from halosync_halopsa.templates import HaloObject, Template, context, render

FIELD_USAGE: dict[HaloObject, int] = {"opportunity": 1, "client": 2, "user": 3}
ENTITY_LABEL: dict[HaloObject, str] = {"opportunity": "Tickets (Opportunities)", "client": "Clients",
                                       "user": "Users"}
TEXT_TYPES = frozenset({0, 1})  # single-line text, memo
WHERE = "Configuration > Custom Objects > Custom Fields"


class CustomFields:
    def __init__(self, configured: Mapping[HaloObject, Mapping[str, Template]]) -> None:
        self.configured = {obj: dict(fields) for obj, fields in configured.items() if fields}
        self.ids: dict[HaloObject, dict[str, int]] = {}
        self.definitions: list[dict[str, Any]] = []

    @property
    def wanted(self) -> bool:
        return bool(self.configured)

    def resolve(self, definitions: Sequence[Mapping[str, Any]]) -> list[CheckResult]:
        """Map configured names to ids; one check result per configured field."""
        self.definitions = [dict(d) for d in definitions]
        by_name = {str(d.get("name", "")).lower(): d for d in self.definitions}
        results: list[CheckResult] = []
        self.ids = {}
        for obj, fields in self.configured.items():
            for name in fields:
                key = f"plugins.halopsa.custom_fields.{obj}.{name}"
                found = by_name.get(name.lower())
                if found is None:
                    results.append(CheckResult(
                        f"halopsa.custom_field.{name}", "fail",
                        f"{key}: HaloPSA has no custom field named {name}",
                        f"create it in {WHERE}: entity {ENTITY_LABEL[obj]}, type Text, name {name.removeprefix('CF')} "
                        f"(HaloPSA adds the CF prefix), or correct the name in the configuration"))
                    continue
                self.ids.setdefault(obj, {})[name] = int(found["id"])
                results.append(self._fit(obj, name, key, found))
        return results

    def _fit(self, obj: HaloObject, name: str, key: str, found: Mapping[str, Any]) -> CheckResult:
        usage, kind = found.get("usage"), found.get("type")
        check = f"halopsa.custom_field.{name}"
        if usage in FIELD_USAGE.values() and usage != FIELD_USAGE[obj]:
            other = next(label for o, label in ENTITY_LABEL.items() if FIELD_USAGE[o] == usage)
            return CheckResult(check, "fail", f"{key}: {name} belongs to {other}, not {ENTITY_LABEL[obj]}",
                               f"create a field for {ENTITY_LABEL[obj]} in {WHERE}, or move the mapping to "
                               f"custom_fields.{next(o for o in FIELD_USAGE if FIELD_USAGE[o] == usage)}")
        if usage not in FIELD_USAGE.values():
            return CheckResult(check, "warn", f"{key}: {name} (id {found['id']}) has usage code {usage!r}, which "
                               f"halosync does not know", f"check in {WHERE} that it is on {ENTITY_LABEL[obj]}")
        if kind not in TEXT_TYPES:
            return CheckResult(check, "warn", f"{key}: {name} has type code {kind!r}, not text; HaloPSA may refuse "
                               "text values", f"make it a Text field in {WHERE}")
        return CheckResult(check, "pass", f"{key}: {name} is field {found['id']} on {ENTITY_LABEL[obj]}")

    def values(self, obj: HaloObject, op: WriteOp) -> list[dict[str, Any]]:
        """Every configured, resolved field of ``obj`` with its value for ``op`` (empty values included: the
        array is written whole, and an empty value keeps the field as it would be without halosync)."""
        ctx = context(op)
        templates = self.configured.get(obj, {})
        return [{"id": field_id, "value": render(t, ctx) if isinstance(t := templates[name], str) else t}
                for name, field_id in self.ids.get(obj, {}).items()]

    def others(self, obj: HaloObject) -> bool:
        """Whether ``obj`` has custom fields halosync does not write, whose values an update must carry along."""
        ours = set(self.ids.get(obj, {}).values())
        return any(d.get("usage") == FIELD_USAGE[obj] and int(d["id"]) not in ours for d in self.definitions)


def merged(current: Sequence[Mapping[str, Any]], ours: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A record's custom fields as they stand, with ours replacing theirs (empty values of ours keep theirs)."""
    values = {int(v["id"]): {"id": int(v["id"]), "value": v.get("value")} for v in current if "id" in v}
    for v in ours:
        if v.get("value") not in (None, "") or int(v["id"]) not in values:
            values[int(v["id"])] = {"id": int(v["id"]), "value": v.get("value")}
    return list(values.values())
