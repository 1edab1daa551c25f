"""Run the benchmarks, print every figure and write bench/results.json.

    python -m bench.run              # every module (what `make bench` does)
    python -m bench.run banks        # some modules; other modules' rows are kept
    python -m bench.run load         # only the intake load scenario (make bench-load)
    python -m bench.run --quick      # a small smoke run of the harness; writes nothing

A benchmark is a module in :data:`MODULES` with a ``run(context)`` function that
returns :class:`~bench.figures.Figure` rows named ``<module>.<what>``; it starts and
stops whatever it measures. results.json is a list of ``{"name", "value", "unit",
"target", "baseline", "ratio"}`` (plus ``"note"`` when a figure was skipped); the
exit status is 1 only when a module failed to run, never for a missed target.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import platform
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from bench.figures import Context, Figure, add_ratios

#: Name -> module, run in this order.
MODULES = {
    "banks": "bench.banks",
    "autosave": "bench.autosave",
    "leaderboard": "bench.leaderboard",
    "regrade": "bench.regrade",
    "statistics": "bench.statistics",
    "load": "bench.load",
}
RESULTS = Path(__file__).resolve().parent / "results.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"some of: {', '.join(MODULES)}")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument(
        "--output",
        type=Path,
        help="results file (default bench/results.json; none with --quick)",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; use {', '.join(MODULES)}")
    names = args.modules or list(MODULES)
    output = args.output or (None if args.quick else RESULTS)
    # A SIGTERM unwinds like Ctrl-C, so servers and throwaway databases are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # Warnings and errors only: the figures are the output.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")

    print(
        f"bench: {', '.join(names)} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}{' (quick)' if args.quick else ''}",
        flush=True,
    )
    figures: list[Figure] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="quizapp-bench-") as scratch:
        for name in names:
            folder = Path(scratch) / name
            folder.mkdir()
            try:
                module = importlib.import_module(MODULES[name])
                figures += module.run(Context(folder, quick=args.quick))
            except Exception:
                traceback.print_exc()
                print(f"bench: {name} FAILED", flush=True)
                failed.append(name)

    add_ratios(figures)
    print()
    for figure in figures:
        print(figure.line())
    if output is not None and figures:
        write_results(output, figures, replaced=set(names) - set(failed))
        print(f"\nWrote {output}")
    print(summary(figures, failed))
    return 1 if failed else 0


def write_results(path: Path, figures: list[Figure], replaced: set[str]) -> None:
    """Write ``figures``, keeping rows of modules that were not run this time."""
    kept = []
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = []
        kept = [row for row in old if row.get("name", "").split(".")[0] not in replaced]
    rows = kept + [figure.as_json() for figure in figures]
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    scratch.replace(path)


def summary(figures: list[Figure], failed: list[str]) -> str:
    targeted = [f for f in figures if f.target is not None]
    met = sum(1 for f in targeted if f.met)
    missed = [f.name for f in targeted if f.met is False]
    skipped = [f.name for f in figures if f.value is None]
    text = (
        f"summary: {len(figures)} figures; {met} of {len(targeted)} targets met"
        f"{' (missed: ' + ', '.join(missed) + ')' if missed else ''}; "
        f"{len(skipped)} skipped"
        f"{' (' + ', '.join(skipped) + ')' if skipped else ''}"
    )
    if failed:
        text += f"; FAILED modules: {', '.join(failed)}"
    return text


if __name__ == "__main__":
    sys.exit(main())
