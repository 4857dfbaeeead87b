"""``python -m halosync_halopsa.fake [--port 0] [--rate 300/300] ...``: run the fake HaloPSA until interrupted.

Prints its base URL (``http://127.0.0.1:PORT``) as the first line on stdout, then serves. ``GET /_fake/stats``
answers the request counters; ``POST /_fake/seed`` and ``POST /_fake/settings`` change it while it runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import trio

from halosync_halopsa.fake.app import seed, serve_fake
from halosync_halopsa.fake.state import FakeHalo, FakeSettings


def parse_rate(text: str) -> tuple[int, float]:
    requests, _, seconds = text.partition("/")
    try:
        return int(requests), float(seconds or 300)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--rate takes REQUESTS/SECONDS, e.g. 300/300, not {text!r}") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m halosync_halopsa.fake", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--rate", type=parse_rate, default=(300, 300.0), help="REQUESTS/SECONDS (default 300/300)")
    parser.add_argument("--client-id", default=FakeSettings.client_id)
    parser.add_argument("--client-secret", default=FakeSettings.client_secret)
    parser.add_argument("--tenant", default="", help="require ?tenant= on the token endpoint (hosted instance)")
    parser.add_argument("--token-lifetime", type=float, default=3600.0, help="seconds a token lasts")
    parser.add_argument("--post-answer", choices=("array", "first"), default="array",
                        help="what a multi-item POST answers: every object, or the first only")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of requests answered 500")
    parser.add_argument("--hang-rate", type=float, default=0.0, help="share of requests never answered")
    parser.add_argument("--lost-rate", type=float, default=0.0,
                        help="share of requests carried out whose answer never arrives")
    parser.add_argument("--slow-rate", type=float, default=0.0,
                        help="share of POSTs carried out whose answer is held back --slow-seconds")
    parser.add_argument("--slow-seconds", type=float, default=2.0)
    parser.add_argument("--seed-file", type=Path, help="JSON seed: {clients: [{name, users: [...]}], fields: [...]}")
    args = parser.parse_args(argv)
    settings = FakeSettings(
        client_id=args.client_id, client_secret=args.client_secret, tenant=args.tenant,
        rate_limit=args.rate[0], rate_window=args.rate[1], token_lifetime=args.token_lifetime,
        post_answer=args.post_answer, latency=args.latency, error_rate=args.error_rate, hang_rate=args.hang_rate,
        lost_rate=args.lost_rate, slow_rate=args.slow_rate, slow_seconds=args.slow_seconds,
    )
    halo = FakeHalo(settings)
    if args.seed_file:
        seed(halo, json.loads(args.seed_file.read_text(encoding="utf-8")))

    async def run() -> None:
        async with trio.open_nursery() as nursery:
            url = await nursery.start(serve_fake, halo, args.host, args.port)
            print(url, flush=True)

    try:
        trio.run(run)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
