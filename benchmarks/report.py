"""Speed of ``sim report`` on the 210-run strategy comparison.

Prints figures; asserts nothing. Usage::

    python benchmarks/report.py [--results DIR] [--repeats 5] [--cold]

Runs ``python -m sim report DIR --out <temporary folder>`` as a whole process ``--repeats`` times
after one warm-up (the warm-up computes and caches the validation scorecard in DIR, as a user's
first build does) and prints the median, minimum and maximum wall time, and the median CPU time of
the process and its figure workers. By default the figures come from the figure cache the warm-up
filled (a build from unchanged results); ``--cold`` adds ``--redraw``, so that every run draws every
figure as a first build does. On a busy machine the CPU time is the figure to compare. DIR defaults
to ``results/strategy_comparison``; when it holds no results, ``sim batch
experiments/strategy_comparison.toml`` is run first to make them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, children included) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results" / "strategy_comparison")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="draw every figure in every run (sim report --redraw)")
    args = parser.parse_args()
    if not (args.results / "manifest.json").is_file():
        print(f"{args.results}: no results yet; running the strategy comparison first")
        subprocess.run([sys.executable, "-m", "sim", "batch", "experiments/strategy_comparison.toml", "--out",
                        str(args.results)], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "sim", "report", str(args.results), "--out", os.path.join(tmp, "report")]
        if args.cold:
            command.append("--redraw")
        run(command)  # warm-up: file caches, and the scorecard of this code computed once and cached
        times = [run(command) for _ in range(args.repeats)]
    walls = [w for w, _ in times]
    cpus = [c for _, c in times]
    build = "cold: every figure drawn" if args.cold else "figures from the cache"
    print(f"sim report {args.results} ({build}; {args.repeats} runs after a warm-up, {os.cpu_count()} CPUs): "
          f"median {statistics.median(walls):.2f} s wall (min {min(walls):.2f}, max {max(walls):.2f}); "
          f"median {statistics.median(cpus):.2f} s CPU")


if __name__ == "__main__":
    main()
