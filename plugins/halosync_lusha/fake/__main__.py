"""``python -m halosync_lusha.fake``: run the fake Lusha until interrupted; print the base URL on stdout."""

from __future__ import annotations

import argparse
import contextlib
import sys
from functools import partial

import trio

from halosync.plugin import serve
from halosync_lusha.fake.app import PLANS, FakeLusha
from halosync_lusha.plans import UNLIMITED


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m halosync_lusha.fake", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
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
    with contextlib.suppress(KeyboardInterrupt):
        trio.run(_run, fake, args.host, args.port)


async def _run(fake: FakeLusha, host: str, port: int) -> None:
    async with trio.open_nursery() as nursery:
        url = await nursery.start(partial(serve, fake, host, port))
        sys.stdout.write(url + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
