"""Run the benchmarks and print one table: ``python -m tests.bench [--quick] [NAME ...]``.

Each ``tests/bench/bench_*.py`` module defines ``TITLE`` and ``def run(quick: bool) -> list[Row]``; a row is
``(metric, value, unit, target)``. Benchmarks measure and report; they never fail on a number.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import time

from rich.console import Console
from rich.table import Table

import tests.bench as package

Row = tuple[str, float | int | str, str, str]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("names", nargs="*", help="only these benchmarks (module names without bench_)")
    args = parser.parse_args()
    table = Table(title="halosync benchmarks")
    for column in ("benchmark", "metric", "value", "unit", "target"):
        table.add_column(column)
    console = Console()
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.name.startswith("bench_") or (args.names and info.name[6:] not in args.names):
            continue
        module = importlib.import_module(f"tests.bench.{info.name}")
        console.print(f"running {info.name} ...")
        started = time.perf_counter()
        rows: list[Row] = module.run(args.quick)
        for metric, value, unit, target in rows:
            shown = f"{value:,.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}" if isinstance(
                value, int) else value
            table.add_row(module.TITLE, metric, shown, unit, target)
        console.print(f"  done in {time.perf_counter() - started:.1f} s")
    console.print(table)


if __name__ == "__main__":
    main()
