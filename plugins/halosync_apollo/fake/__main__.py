"""``python -m halosync_apollo.fake``: run the fake Apollo until interrupted; print the base URL on stdout."""

from __future__ import annotations

from halosync.plugin import fake_arguments, serve_until_interrupted
from halosync_apollo.fake.app import FakeApollo
from halosync_apollo.fake.generator import GeneratorSpec
from halosync_apollo.fake.limits import DEFAULT_LIMITS, PLANS, UNLIMITED, Limits


def main(argv: list[str] | None = None) -> None:
    parser = fake_arguments("python -m halosync_apollo.fake", __doc__)
    parser.add_argument("--api-key", action="append", dest="api_keys",
                        help="accepted key (repeatable; default: test-key)")
    parser.add_argument("--contacts", type=int, default=0, help="generate this many contacts at start")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duplicate-share", type=float, default=GeneratorSpec.duplicate_share)
    parser.add_argument("--unthrottled", action="store_true", help="no quotas (default: 200/min, 600/h, 6000/day)")
    parser.add_argument("--limits", metavar="MIN,HOUR,DAY", help='quotas of contacts/search, e.g. "20,600,6000" '
                        '(an empty part: no limit for that window)')
    parser.add_argument("--daily-spelling", choices=("daily", "24-hour", "both"), default="both")
    parser.add_argument("--no-retry-after", action="store_true", help="429 answers without Retry-After (pre-2026)")
    parser.add_argument("--plan", choices=sorted(PLANS), help="quotas of contacts/search as on this Apollo plan")
    parser.add_argument("--tie-order", choices=("shuffled", "id"), default="shuffled",
                        help="order of contacts sharing a sort value: random per request (default) or by id")
    parser.add_argument("--ignore-range", action="store_true", help="accept and ignore contact_updated_at_range")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API answer")
    args = parser.parse_args(argv)
    fake = FakeApollo(args.api_keys or ["test-key"], default_limits=UNLIMITED if args.unthrottled else DEFAULT_LIMITS,
                      daily_spelling=args.daily_spelling, retry_after=not args.no_retry_after, latency=args.latency,
                      tie_order=args.tie_order, seed=args.seed)
    fake.book.honour_range = not args.ignore_range
    if args.plan:
        fake.set_limits("contacts/search", PLANS[args.plan])
    if args.limits:
        parts = [int(p) if p.strip() else None for p in [*args.limits.split(","), "", ""][:3]]
        fake.set_limits("contacts/search", Limits(parts[0], parts[1], parts[2]))
    if args.contacts:
        fake.generate(GeneratorSpec(count=args.contacts, seed=args.seed, duplicate_share=args.duplicate_share))
    serve_until_interrupted(fake, args.host, args.port)


if __name__ == "__main__":
    main()
