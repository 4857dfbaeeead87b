"""The ``[plugins.halopsa]`` table: its declaration (for validation and ``config show``) and its typed form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from halosync.plugin import REQUIRED, Field, PluginConfigSpec
from halosync_halopsa.templates import DEFAULT_FIELDS, RESERVED, HaloObject, Template, check_template

NAME = "halopsa"
DEFAULT_LIMIT, DEFAULT_WINDOW = 300, 300.0  # HaloPSA's documented hosted limit: 300 per rolling 5 minutes
BUDGET_KEYS = ("requests_per_window", "window_seconds")
PAGE_CAP = 100  # HaloPSA answers at most 100 rows a page, whatever page_size asks for
_OBJECT_NAMES: tuple[HaloObject, ...] = ("client", "user", "opportunity")


def _check_tables(value: Any, *, custom: bool) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not isinstance(value, dict):
        return [("", "must be a table of tables: [plugins.halopsa.fields.client] ...")]
    for obj, table in value.items():
        if obj not in _OBJECT_NAMES:
            problems.append((obj, f"unknown HaloPSA object; use one of {', '.join(_OBJECT_NAMES)}"))
            continue
        if not isinstance(table, dict):
            problems.append((obj, "must be a table of FIELD = \"template\""))
            continue
        for name, template in table.items():
            if custom and not name.startswith("CF"):
                problems.append((f"{obj}.{name}", "HaloPSA custom field names start with CF (e.g. CFApolloId); "
                                                  "use the field's name, not its label"))
            elif not custom and name in RESERVED:
                problems.append((f"{obj}.{name}", "is set by halosync itself and cannot be mapped"))
            elif template == "" and not custom:
                continue  # removes a default mapping
            elif (reason := check_template(obj, template)) is not None:
                problems.append((f"{obj}.{name}", reason))
    return problems


def _check_fields(value: Any) -> list[tuple[str, str]]:
    return _check_tables(value, custom=False)


def _check_custom_fields(value: Any) -> list[tuple[str, str]]:
    return _check_tables(value, custom=True)


SPEC = PluginConfigSpec(NAME, help="HaloPSA: where leads are written (Clients, Users, Opportunities)", fields={
    "base_url": Field(str, REQUIRED, "your instance, e.g. https://example.halopsa.com", url=True),
    "tenant": Field(str, "", "tenant name of a hosted instance (sent as ?tenant= to the token endpoint)"),
    "auth_url": Field(str, "", "authorisation server; default: discovered through /api/authinfo", url=True),
    "client_id": Field(str, REQUIRED, "Configuration > Integrations > HaloPSA API > View Applications: Client ID"),
    "client_secret": Field(str, REQUIRED, "the application's Client Secret", secret=True),
    "scope": Field(str, "all", "OAuth scopes, space separated (e.g. \"edit:customers edit:crm\")"),
    "requests_per_window": Field(int, DEFAULT_LIMIT, "requests halosync may send per rolling window; when not set, "
                                 "learned from the instance's 429 text", minimum=1),
    "window_seconds": Field(float, DEFAULT_WINDOW, "the rolling window's length, seconds; when not set, learned "
                            "from the instance's 429 text", minimum=1),
    "batch_size": Field(int, 100, "objects per POST", minimum=1, maximum=100),
    "page_size": Field(int, PAGE_CAP, "records per page when listing; HaloPSA answers at most 100, so larger "
                       "values are sent as 100", minimum=10, maximum=5000),
    "mirror_full_refresh": Field(float, 86_400.0, "seconds between full listings for the mirror; the listings in "
                                 "between only see new records", minimum=0),
    "max_in_flight": Field(int, 1, "requests on the wire at once (more only helps a slow instance with budget "
                                   "to spare; several may all be refused at a 429)", minimum=1, maximum=8),
    "timeout": Field(float, 30.0, "seconds one HaloPSA request may take", minimum=0.1),
    "max_retries": Field(int, 6, "retries of one request (429, 5xx, timeouts, connect errors)", minimum=0,
                         maximum=20),
    "retry_base": Field(float, 1.0, "first retry delay ceiling, seconds (doubles, full jitter)", minimum=0),
    "retry_cap": Field(float, 60.0, "longest retry delay, seconds", minimum=0),
    "create_opportunity": Field(bool, False, "also create an Opportunity for every new lead"),
    "opportunity_tickettype_id": Field(int, 0, "ticket type of created opportunities (needed with "
                                               "create_opportunity)", minimum=0),
    "default_site_id": Field(int, 0, "site for a person without a company (0: such a person is refused)", minimum=0),
    "fields": Field(dict, {}, "per object (client, user, opportunity): HaloPSA field = \"template\" (or a "
                              "constant number/true/false, set on create)",
                    check=_check_fields),
    "custom_fields": Field(dict, {}, "per object: CFName = \"template\"", check=_check_custom_fields),
    "webhook_username": Field(str, "", "Basic credentials HaloPSA's webhooks send", secret=True),
    "webhook_password": Field(str, "", "", secret=True),
    "webhook_token": Field(str, "", "Bearer token HaloPSA's webhooks send", secret=True),
})


@dataclass(frozen=True)
class HaloSettings:
    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    tenant: str = ""
    auth_url: str = ""
    scope: str = "all"
    requests_per_window: int = DEFAULT_LIMIT
    window_seconds: float = DEFAULT_WINDOW
    batch_size: int = 100
    page_size: int = PAGE_CAP
    mirror_full_refresh: float = 86_400.0
    max_in_flight: int = 1
    timeout: float = 30.0
    max_retries: int = 6
    retry_base: float = 1.0
    retry_cap: float = 60.0
    create_opportunity: bool = False
    opportunity_tickettype_id: int = 0
    default_site_id: int = 0
    fields: Mapping[str, Mapping[str, Template]] = field(default_factory=dict)
    custom_fields: Mapping[str, Mapping[str, Template]] = field(default_factory=dict)
    webhook_username: str = field(default="", repr=False)
    webhook_password: str = field(default="", repr=False)
    webhook_token: str = field(default="", repr=False)
    # Which of BUDGET_KEYS the operator set (the plugin passes the config's origins); None: those that differ
    # from HaloPSA's documented default count as set (settings built in code, without a config file).
    configured: frozenset[str] | None = None

    def __post_init__(self) -> None:
        # Never ask for more rows than HaloPSA answers: an instance that counts pages by the size asked for
        # would otherwise skip rows 100-999 of every page of 1000 it cut to 100.
        object.__setattr__(self, "page_size", min(self.page_size, PAGE_CAP))

    @classmethod
    def from_table(cls, table: Mapping[str, Any], configured: frozenset[str] | None = None) -> HaloSettings:
        known = set(cls.__dataclass_fields__) - {"configured"}
        return cls(**{k: v for k, v in table.items() if k in known}, configured=configured)

    def configured_budget(self) -> frozenset[str]:
        """The budget keys whose values the operator chose (they override what the instance says)."""
        if self.configured is not None:
            return self.configured & set(BUDGET_KEYS)
        defaults = {"requests_per_window": DEFAULT_LIMIT, "window_seconds": DEFAULT_WINDOW}
        return frozenset(k for k in BUDGET_KEYS if getattr(self, k) != defaults[k])

    def templates(self, obj: HaloObject) -> dict[str, Template]:
        """The effective mapping for ``obj``: defaults, overridden by the configuration (``""`` removes)."""
        merged: dict[str, Template] = {**DEFAULT_FIELDS[obj], **self.fields.get(obj, {})}
        return {k: v for k, v in merged.items() if v != ""}

    def custom_templates(self, obj: HaloObject) -> dict[str, Template]:
        return dict(self.custom_fields.get(obj, {}))
