"""``python -m halosync_files.fake VENDOR ROWS PATH [--hostile]``: write a fake vendor export (.csv or .xlsx)."""

from __future__ import annotations

import argparse
from pathlib import Path

from halosync_files.fake.generator import HOSTILE, LAYOUTS, Hostile, people, write_csv, write_xlsx


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m halosync_files.fake", description=__doc__)
    parser.add_argument("vendor", choices=sorted(LAYOUTS))
    parser.add_argument("rows", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--hostile", action="store_true", help="BOM, ';', title line, blank lines, quoted newlines")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    hostile = HOSTILE if args.hostile else Hostile()
    write = write_xlsx if args.path.suffix.lower() == ".xlsx" else write_csv
    write(args.path, args.vendor, people(args.rows, seed=args.seed), hostile)
    print(f"wrote {args.rows} {args.vendor} rows to {args.path}")


if __name__ == "__main__":
    main()
