"""Batch runner figures: throughput by workers, peak memory by batch size, against mesa.batch_run.

Prints figures; asserts nothing. Every case runs in a fresh Python process (so that peak memory
is that case's alone); peak memory is the maximum resident set size (``ru_maxrss``) of the process
that drives the batch (the parent of the worker processes); the largest worker's peak is shown
too (mesa 3.3 keeps every model alive in ``mesa.Agent._ids``, mesa issue #3179, so its pool
workers grow with the runs they did; ``sim batch`` releases them). Usage::

    python benchmarks/batch.py                      # everything (about 8 minutes on 2 cores)
    python benchmarks/batch.py --quick              # smaller batches
    python benchmarks/batch.py --case ours --kind short --runs 1000 --workers 2   # one case, JSON

Cases:

* throughput: ``--standard-runs`` standard runs (baseline, 31 provinces, 2022-2050) on a process
  pool with 1 and 2 workers; runs per second while running (pool already started) and end to end
  (``sim batch`` as a user sees it: start-up, runs, summary);
* memory: 1,000 and 10,000 short runs (8 synthetic regions, 2022-2025) on 2 workers: the
  parent's peak RSS, and its ratio;
* mesa: the same runs (same model, same scenario, same number of runs, 2 processes) through
  ``mesa.batch_run`` with data collected every step; throughput and peak-memory ratios, against
  ``sim batch`` recording every table and recording only ``national`` (closest to what
  ``batch_run`` keeps: the model reporters, one row per step).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
SHORT_SCENARIO = """name = "short"
[run]
provinces = "synthetic:8"
start_year = 2022
end_year = 2025
"""


def peak_rss_mb() -> float:
    """Peak resident set size of this process, MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_peak_rss_mb() -> float:
    """Largest peak RSS among this process's finished children (the worker processes), MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (the workers), seconds."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def write_experiment(folder: Path, kind: str, runs: int, tables: str = "all") -> Path:
    if kind == "short":
        (folder / "short.toml").write_text(SHORT_SCENARIO)
        scenario = "short.toml"
    else:
        scenario = str(BASELINE)
    path = folder / f"{kind}-{runs}.toml"
    record = '[record]\ntables = ["national"]\n' if tables == "national" else ""
    path.write_text(f'name = "{kind}"\nscenarios = ["{scenario}"]\nreplicates = {runs}\nseed = 1\n{record}')
    return path


def case_ours(kind: str, runs: int, workers: int, tables: str = "all") -> dict:
    sys.path.insert(0, str(ROOT))
    from sim.experiments.batch import run_batch

    folder = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        experiment = write_experiment(folder, kind, runs, tables)
        result = run_batch(experiment, workers=workers, out=folder / "results", progress=False)
        assert result.ok and result.runs_run == runs
        parts = sum(1 for _ in (folder / "results" / "runs").iterdir())
        return {"case": "ours", "kind": kind, "runs": runs, "workers": workers, "tables": tables,
                "parts_per_table": parts,
                "run_s": result.run_s, "elapsed_s": result.elapsed_s, "startup_s": result.startup_s,
                "runs_per_s": runs / result.run_s, "runs_per_s_end_to_end": runs / result.elapsed_s,
                "cpu_ms_per_run": 1000 * cpu_seconds() / runs, "peak_rss_mb": peak_rss_mb(),
                "worker_peak_rss_mb": worker_peak_rss_mb()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def case_mesa(kind: str, runs: int, workers: int, tables: str = "all") -> dict:
    sys.path.insert(0, str(ROOT))
    from mesa.batchrunner import batch_run  # note: sets the start method to spawn, globally, on import

    from sim.model import RegionalGrowthModel

    if kind == "short":
        parameters = {"run__provinces": "synthetic:8", "run__start_year": 2022, "run__end_year": 2025,
                      "seed": range(runs)}
    else:
        parameters = {"scenario": str(BASELINE), "seed": range(runs)}
    started = time.monotonic()
    rows = batch_run(RegionalGrowthModel, parameters, number_processes=workers, iterations=1,
                     data_collection_period=1, max_steps=1000, display_progress=False)
    elapsed = time.monotonic() - started
    assert len({row["RunId"] for row in rows}) == runs
    return {"case": "mesa", "kind": kind, "runs": runs, "workers": workers, "elapsed_s": elapsed,
            "runs_per_s_end_to_end": runs / elapsed, "rows_in_memory": len(rows),
            "cpu_ms_per_run": 1000 * cpu_seconds() / runs, "peak_rss_mb": peak_rss_mb(),
            "worker_peak_rss_mb": worker_peak_rss_mb()}


def run_case(case: str, kind: str, runs: int, workers: int, tables: str = "all") -> dict:
    """Run one case in a fresh interpreter and return its figures."""
    command = [sys.executable, __file__, "--case", case, "--kind", kind, "--runs", str(runs),
               "--workers", str(workers), "--tables", tables]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["ours", "mesa"], help="run one case in this process and print JSON")
    parser.add_argument("--kind", choices=["short", "standard"], default="short")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tables", choices=["all", "national"], default="all",
                        help="what sim batch records: all tables, or only national (like mesa's model reporters)")
    parser.add_argument("--standard-runs", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="1,000 and 3,000 short runs instead of 1,000 and 10,000")
    args = parser.parse_args()
    if args.case:
        figures = (case_ours if args.case == "ours" else case_mesa)(args.kind, args.runs, args.workers, args.tables)
        print(json.dumps(figures))
        return

    small, large = (1000, 3000) if args.quick else (1000, 10_000)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average at start "
          f"{os.getloadavg()[0]:.1f} (other processes share the cores: compare CPU ms/run too)\n")

    print(f"Throughput: {args.standard_runs} standard runs (baseline, 31 provinces, 2022-2050), process pool")
    by_workers = {w: run_case("ours", "standard", args.standard_runs, w) for w in (1, 2)}
    for w, f in by_workers.items():
        print(f"  {w} worker(s): {f['runs_per_s']:6.1f} runs/s while running ({f['run_s']:.2f} s), "
              f"{f['runs_per_s_end_to_end']:6.1f} runs/s end to end ({f['elapsed_s']:.2f} s, "
              f"pool start {f['startup_s']:.2f} s), {f['cpu_ms_per_run']:.1f} CPU ms/run")
    print(f"  speed-up 2 vs 1 worker: {by_workers[2]['runs_per_s'] / by_workers[1]['runs_per_s']:.2f}x while running, "
          f"{by_workers[2]['runs_per_s_end_to_end'] / by_workers[1]['runs_per_s_end_to_end']:.2f}x end to end")
    mesa_standard = run_case("mesa", "standard", args.standard_runs, 2)
    print(f"  mesa.batch_run, 2 processes: {mesa_standard['runs_per_s_end_to_end']:6.1f} runs/s end to end "
          f"({mesa_standard['elapsed_s']:.2f} s), {mesa_standard['cpu_ms_per_run']:.1f} CPU ms/run")

    print("\nMemory: short runs (8 synthetic regions, 2022-2025), 2 workers; peak RSS of the driving process")
    ours = {n: run_case("ours", "short", n, 2) for n in (small, large)}
    for n, f in ours.items():
        print(f"  sim batch   {n:>6} runs: peak {f['peak_rss_mb']:6.1f} MB (workers {f['worker_peak_rss_mb']:.0f} MB), "
              f"{f['runs_per_s']:6.1f} runs/s while "
              f"running, {f['runs_per_s_end_to_end']:6.1f} runs/s end to end, {f['cpu_ms_per_run']:.1f} CPU ms/run, "
              f"{f['parts_per_table']} parts per table")
    print(f"  ratio {large:,} / {small:,} runs: {ours[large]['peak_rss_mb'] / ours[small]['peak_rss_mb']:.2f}x")
    mesa = {n: run_case("mesa", "short", n, 2) for n in (small, large)}
    for n, f in mesa.items():
        print(f"  mesa.batch_run {n:>6} runs: peak {f['peak_rss_mb']:6.1f} MB (workers {f['worker_peak_rss_mb']:.0f} MB), "
              f"{f['runs_per_s_end_to_end']:6.1f} runs/s end to end, {f['cpu_ms_per_run']:.1f} CPU ms/run, "
              f"{f['rows_in_memory']:,} rows held in memory")
    print(f"  ratio {large:,} / {small:,} runs: {mesa[large]['peak_rss_mb'] / mesa[small]['peak_rss_mb']:.2f}x")

    lean = {n: run_case("ours", "short", n, 2, "national") for n in (small, large)}
    for n, f in lean.items():
        print(f"  sim batch, national table only, {n:>6} runs: peak {f['peak_rss_mb']:6.1f} MB "
              f"(workers {f['worker_peak_rss_mb']:.0f} MB), "
              f"{f['runs_per_s_end_to_end']:6.1f} runs/s end to end, {f['cpu_ms_per_run']:.1f} CPU ms/run")

    print("\nsim batch against mesa.batch_run (same model, same runs, 2 processes; ratios ours/mesa)")
    for n in (small, large):
        print(f"  {n:>6} short runs, all tables:    throughput ratio "
              f"{ours[n]['runs_per_s_end_to_end'] / mesa[n]['runs_per_s_end_to_end']:.2f}, "
              f"peak-memory ratio {ours[n]['peak_rss_mb'] / mesa[n]['peak_rss_mb']:.2f}")
        print(f"  {n:>6} short runs, national only: throughput ratio "
              f"{lean[n]['runs_per_s_end_to_end'] / mesa[n]['runs_per_s_end_to_end']:.2f}, "
              f"peak-memory ratio {lean[n]['peak_rss_mb'] / mesa[n]['peak_rss_mb']:.2f}")
    print(f"  {args.standard_runs:>6} standard runs: throughput ratio (ours/mesa, end to end) "
          f"{by_workers[2]['runs_per_s_end_to_end'] / mesa_standard['runs_per_s_end_to_end']:.2f}, "
          f"peak-memory ratio {by_workers[2]['peak_rss_mb'] / mesa_standard['peak_rss_mb']:.2f}")
    print(f"\nload average at end {os.getloadavg()[0]:.1f}")
    print("Note: sim batch writes national, province and events tables (Parquet) for every run; "
          "mesa.batch_run keeps only the model reporters, in memory.")


if __name__ == "__main__":
    main()
