"""``python -m halosync_lusha.fake``: run the fake Lusha until interrupted; print the base URL on stdout."""

from __future__ import annotations

from halosync.plugin import fake_arguments, serve_until_interrupted
from halosync_lusha.fake.app import PLANS, FakeLusha
from halosync_lusha.plans import UNLIMITED


def main(argv: list[str] | None = None) -> None:
    parser = fake_arguments("python -m halosync_lusha.fake", __doc__)
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--plan", choices=sorted(PLANS), help="quotas of this Lusha plan (default: none)")
    parser.add_argument("--list", dest="list_id", default="L1", help="id of the contact list served")
    parser.add_argument("--members", type=int, default=100, help="members generated into the list")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--order", choices=("churn", "request", "fixed"), default="churn",
                        help="when the list order is shuffled: on membership change, every request, never")
    args = parser.parse_args(argv)
    fake = FakeLusha(seed=args.seed, order=args.order)
    fake.add_key(args.api_key, args.plan or UNLIMITED)
    fake.create_list(args.list_id, args.members)
    serve_until_interrupted(fake, args.host, args.port)


if __name__ == "__main__":
    main()
