"""halosync's public plugin API: everything a plugin may import, in one place.

A plugin imports from ``halosync.plugin`` only (plus the standard library and its own third-party dependencies)::

    from halosync.plugin import PluginConfigSpec, PluginHost, Source, SourcePage, hookimpl

The names in ``__all__`` are the stable API: they keep their meaning, and are not renamed or removed, within a major
version of halosync (a module listed, such as ``secrets``, is stable in the names the built-in plugins use). Every
other module of ``halosync`` is internal and may change in any release. docs/plugins.md is the plugin author's
guide: the hooks, the semantics of every contract method, the provider toolkit, the conformance kit
(``halosync.testing``).

The surface, by what it is for:

- hooks: ``hookimpl`` (decorate hook implementations), ``PluginHost`` (what registration hooks receive);
- contracts (``halosync.contracts``): ``Source``, ``Sink``, ``Matcher``, ``Alerter``, ``WebhookVerifier``,
  ``WebhookParser`` and the data types they take and return;
- leads (``halosync.model``): ``Lead``, ``Person``, ``Company`` and their canonical field names;
- matching: ``LeadKeys``, ``Candidate``, ``CompanyIdentity``, ``Decision``, the built-in ``RuleMatcher``, and the
  normalised keys leads are matched on (``email_key``, ``linkedin_key``, ``domain_key``, ...);
- errors: the ``ProviderError`` family the daemon retries or reports, ``LeadError``, ``PluginError``;
- configuration: ``PluginConfigSpec``, ``Field``, ``REQUIRED``, ``check_provider_url``;
- secrets and metrics: the ``secrets`` module (``resolve``, ``register``, ``redact``) and ``metrics`` (provider
  request and quota metrics: ``observe_provider_request``, ``set_rate_limit_remaining``);
- the provider toolkit: quota headers (``HeaderQuota``, ``WindowHeaders``, ``parse_retry_after``), the rolling
  window limiter, backoff, the circuit breaker, Standard Webhooks verification, ``log_request`` (one debug line
  per provider exchange: method, route, status, time, budget left; never a URL, header or body), ``Sender`` (a
  client's send loop: quota waits, bounded retries, 429 handling, the request log) and ``json_of``;
- the fake-server base (ASGI on hypercorn): ``serve``, ``Request``, ``read_request``, ``respond``, ``lifespan``,
  and for a fake's command line ``fake_arguments`` and ``serve_until_interrupted``;
- alert delivery helpers: ``render``, ``fingerprint``, ``LogAlerter``; ``replace_text`` for small state files.
"""

from __future__ import annotations

from halosync import metrics, secrets
from halosync._markers import ENTRY_POINT_GROUP, PROJECT, hookimpl, hookspec
from halosync.alerts import render
from halosync.alerts.evaluator import fingerprint
from halosync.alerts.log_alerter import LogAlerter
from halosync.config.loader import check_provider_url
from halosync.config.schema import REQUIRED, Field, PluginConfigSpec
from halosync.contracts import (
    Alert,
    Alerter,
    CandidateIndex,
    CheckResult,
    CheckStatus,
    EntityKind,
    ForgetResult,
    ForgettingSink,
    LeadEvent,
    Matcher,
    MirrorPage,
    RateWindow,
    Rejected,
    Sink,
    SinkRecord,
    Source,
    SourcePage,
    Suppression,
    Verification,
    WebhookContent,
    WebhookParser,
    WebhookRequest,
    WebhookVerifier,
    WriteOp,
    WriteResult,
)
from halosync.engine.matching import Candidate, CompanyIdentity, Decision, LeadKeys
from halosync.engine.normalize import (
    company_name_key,
    domain_key,
    email_key,
    is_role_address,
    linkedin_key,
    person_name_key,
)
from halosync.engine.rules import RuleMatcher
from halosync.errors import (
    AuthError,
    HalosyncError,
    IncompletePull,
    LeadError,
    PermissionDenied,
    PluginError,
    ProviderError,
    RateLimited,
    RecordRejected,
    TransientProviderError,
)
from halosync.metrics import observe_provider_request, set_rate_limit_remaining
from halosync.model import COMPANY_FIELDS, PERSON_FIELDS, Company, Lead, Person
from halosync.plugin.host import PluginHost
from halosync.provider.asgi import (
    ASGIApp,
    Receive,
    Request,
    Scope,
    Send,
    fake_arguments,
    lifespan,
    read_request,
    respond,
    serve,
    serve_until_interrupted,
)
from halosync.provider.backoff import exponential, full_jitter
from halosync.provider.circuit import CircuitBreaker, CircuitOpen
from halosync.provider.quota import HeaderQuota, WindowHeaders, parse_retry_after
from halosync.provider.requests import log_request
from halosync.provider.rolling import RollingWindowLimiter, SharedRollingWindowLimiter
from halosync.provider.sending import Sender, json_of
from halosync.provider.shared import SharedBudgets, SharedQuotas
from halosync.statefile import replace_text
from halosync.webhooks.standard import TOLERANCE_SECONDS, SecretFormatError, StandardWebhookVerifier, decode_secret

__all__ = [  # grouped by purpose in the docstring above
    "COMPANY_FIELDS",
    "ENTRY_POINT_GROUP",
    "PERSON_FIELDS",
    "PROJECT",
    "REQUIRED",
    "TOLERANCE_SECONDS",
    "ASGIApp",
    "Alert",
    "Alerter",
    "AuthError",
    "Candidate",
    "CandidateIndex",
    "CheckResult",
    "CheckStatus",
    "CircuitBreaker",
    "CircuitOpen",
    "Company",
    "CompanyIdentity",
    "Decision",
    "EntityKind",
    "Field",
    "ForgetResult",
    "ForgettingSink",
    "HalosyncError",
    "HeaderQuota",
    "IncompletePull",
    "Lead",
    "LeadError",
    "LeadEvent",
    "LeadKeys",
    "LogAlerter",
    "Matcher",
    "MirrorPage",
    "PermissionDenied",
    "Person",
    "PluginConfigSpec",
    "PluginError",
    "PluginHost",
    "ProviderError",
    "RateLimited",
    "RateWindow",
    "Receive",
    "RecordRejected",
    "Rejected",
    "Request",
    "RollingWindowLimiter",
    "RuleMatcher",
    "Scope",
    "SecretFormatError",
    "Send",
    "Sender",
    "SharedBudgets",
    "SharedQuotas",
    "SharedRollingWindowLimiter",
    "Sink",
    "SinkRecord",
    "Source",
    "SourcePage",
    "StandardWebhookVerifier",
    "Suppression",
    "TransientProviderError",
    "Verification",
    "WebhookContent",
    "WebhookParser",
    "WebhookRequest",
    "WebhookVerifier",
    "WindowHeaders",
    "WriteOp",
    "WriteResult",
    "check_provider_url",
    "company_name_key",
    "decode_secret",
    "domain_key",
    "email_key",
    "exponential",
    "fake_arguments",
    "fingerprint",
    "full_jitter",
    "hookimpl",
    "hookspec",
    "is_role_address",
    "json_of",
    "lifespan",
    "linkedin_key",
    "log_request",
    "metrics",
    "observe_provider_request",
    "parse_retry_after",
    "person_name_key",
    "read_request",
    "render",
    "replace_text",
    "respond",
    "secrets",
    "serve",
    "serve_until_interrupted",
    "set_rate_limit_remaining",
]
