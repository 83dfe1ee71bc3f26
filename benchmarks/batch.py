"""Batch runner figures, side by side with their peers: prints figures and ratios, asserts nothing.

Every case runs in a fresh Python process (so that its peak memory is its own), on this machine's
cores; the figures printed first say how busy the machine was. Usage::

    python benchmarks/batch.py                  # everything below except the two long cases
    python benchmarks/batch.py --large          # also 100,000 short runs (memory; about 10-20 min on 2 cores)
    python benchmarks/batch.py --sobol          # also Sobol N=1024 over 10 parameters (22,528 runs, minutes)
    python benchmarks/batch.py --quick          # smaller batches, for a quick look
    python benchmarks/batch.py --case ours --kind short --runs 1000 --workers 2   # one case, JSON

Sections:

1. Throughput against ``mesa.batch_run`` (the same model, the same runs, the same number of
   processes, end to end: pool start-up included): ``sim batch`` recording what ``batch_run``
   records (the national table, one row per step) and recording every table; short runs (8
   synthetic regions, 2022-2025: the model takes a few ms, so the runner's own costs show) and
   standard runs (31 provinces, 2022-2050).
2. 2 workers against 1, end to end, on the 210-run strategy comparison
   (``experiments/strategy_comparison.toml``): *cold* in a fresh process (the pool starts), and
   *warm* (a second batch in the same process: the pool of the session is reused).
3. Peak memory of the driving process from 1,000 to 10,000 short runs (and 100,000 with
   ``--large``), ``sim batch`` and ``mesa.batch_run``; the largest worker's peak beside it.
4. With ``--sobol``: ``sim sensitivity``'s path (Sobol, second order, N = 1024 over 10 parameters:
   22,528 runs of the baseline 2022-2050) on all cores: wall time and runs per second.
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
STRATEGY = ROOT / "experiments" / "strategy_comparison.toml"
SENSITIVITY = ROOT / "experiments" / "sensitivity.toml"
SHORT_SCENARIO = 'name = "short"\n[run]\nprovinces = "synthetic:8"\nstart_year = 2022\nend_year = 2025\n'
TENTH_PARAMETER = ("economy.savings_rate", 0.3, 0.5)
"""Added to the nine parameters of experiments/sensitivity.toml for the Sobol case."""


# --------------------------------------------------------------------------------------
# Measuring a process and its workers


def peak_rss_mb() -> float:
    """Peak resident set size of this process, MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _proc_fields(pid: int) -> tuple[float, float]:
    """CPU seconds and peak RSS (MB) of a live process, from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(stat[11]) + int(stat[12])) / ticks
    hwm = next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM")), 0.0)
    return cpu, hwm


def pool_figures() -> tuple[float, float]:
    """CPU seconds and largest peak RSS of the live workers of the session's pool (``sim batch``)."""
    from sim.experiments.pool import pool_info

    info = pool_info() or {"pids": []}
    figures = [_proc_fields(pid) for pid in info["pids"]]
    return sum(f[0] for f in figures), max((f[1] for f in figures), default=0.0)


def finished_children() -> tuple[float, float]:
    """CPU seconds and largest peak RSS of this process's finished children (``mesa.batch_run``'s pool)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------------------
# Cases (each in its own process)


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
    """``run_batch`` (what ``sim batch`` runs) on an experiment of ``runs`` runs of one scenario."""
    sys.path.insert(0, str(ROOT))
    from sim.experiments.batch import run_batch

    folder = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        experiment = write_experiment(folder, kind, runs, tables)
        started = time.monotonic()
        result = run_batch(experiment, workers=workers, out=folder / "results", progress=False)
        elapsed = time.monotonic() - started
        assert result.ok and result.runs_run == runs
        files = sum(1 for _ in (folder / "results" / "runs").glob("part-*.parquet"))
        worker_cpu, worker_peak = pool_figures()
        return {"case": "ours", "kind": kind, "runs": runs, "workers": workers, "tables": tables,
                "files_per_table": files, "run_s": result.run_s, "elapsed_s": elapsed,
                "startup_s": result.startup_s, "compact_s": result.compact_s,
                "runs_per_s": runs / result.run_s, "runs_per_s_end_to_end": runs / elapsed,
                "cpu_ms_per_run": 1000 * (own_cpu() + worker_cpu) / runs, "peak_rss_mb": peak_rss_mb(),
                "worker_peak_rss_mb": worker_peak}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def case_mesa(kind: str, runs: int, workers: int, tables: str = "all") -> dict:
    """``mesa.batch_run`` on the same model, runs and number of processes, collecting every step."""
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
    children_cpu, children_peak = finished_children()
    return {"case": "mesa", "kind": kind, "runs": runs, "workers": workers, "elapsed_s": elapsed,
            "runs_per_s_end_to_end": runs / elapsed, "rows_in_memory": len(rows),
            "cpu_ms_per_run": 1000 * (own_cpu() + children_cpu) / runs, "peak_rss_mb": peak_rss_mb(),
            "worker_peak_rss_mb": children_peak}


def case_strategy(workers: int) -> dict:
    """The 210-run strategy comparison end to end, twice in one process: cold (pool starts), then warm."""
    sys.path.insert(0, str(ROOT))
    from sim.experiments.batch import run_batch

    folder = Path(tempfile.mkdtemp(prefix="bench-strategy-"))
    figures: dict = {"case": "strategy", "workers": workers}
    try:
        for label in ("cold", "warm"):
            started = time.monotonic()
            result = run_batch(STRATEGY, workers=workers, out=folder / label, progress=False)
            elapsed = time.monotonic() - started
            assert result.ok
            figures[label] = {"elapsed_s": elapsed, "run_s": result.run_s, "startup_s": result.startup_s,
                              "compact_s": result.compact_s, "runs": result.runs_total,
                              "files_per_table": sum(1 for _ in (folder / label / "runs").glob("part-*.parquet"))}
        return figures
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def case_sobol(workers: int, samples: int) -> dict:
    """Sobol (second order) over the ten parameters, through ``run_sensitivity`` on a process pool."""
    sys.path.insert(0, str(ROOT))
    import dataclasses

    from sim.analysis.sensitivity import run_sensitivity
    from sim.analysis.sensitivity_files import load_sensitivity

    spec, evaluator, experiment = load_sensitivity(SENSITIVITY)
    spec = dataclasses.replace(spec, parameters=(*spec.parameters, TENTH_PARAMETER), samples=samples,
                               second_order=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-sobol-"))
    try:
        started = time.monotonic()
        result = run_sensitivity(spec, evaluator, scenario=experiment.scenarios[0], replicates=experiment.replicates,
                                 out=folder / "sobol", executor="process", workers=workers or None, figures=False)
        elapsed = time.monotonic() - started
        assert result.failed.empty and not result.indices.empty
        worker_cpu, _peak = pool_figures()
        return {"case": "sobol", "parameters": len(spec.parameters), "samples": samples, "runs": spec.runs_total,
                "workers": workers or os.cpu_count(), "elapsed_s": elapsed, "runs_per_s": spec.runs_total / elapsed,
                "cpu_ms_per_run": 1000 * (own_cpu() + worker_cpu) / spec.runs_total}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_case(*args: str) -> dict:
    """Run one case in a fresh interpreter and return its figures."""
    command = [sys.executable, __file__, "--case", *args]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------
# The report


def throughput(args: argparse.Namespace) -> None:
    print(f"1. Throughput against mesa.batch_run: same model, same runs, {args.workers} processes, end to end "
          "(pool start-up included)")
    for kind, runs in (("short", args.short_runs), ("standard", args.standard_runs)):
        mesa = run_case("mesa", kind, str(runs), str(args.workers))
        lean = run_case("ours", kind, str(runs), str(args.workers), "national")
        full = run_case("ours", kind, str(runs), str(args.workers), "all")
        what = "8 synthetic regions, 2022-2025" if kind == "short" else "31 provinces, 2022-2050"
        print(f"  {runs:,} {kind} runs ({what}):")
        print(f"    mesa.batch_run (national reporters in memory) {mesa['runs_per_s_end_to_end']:8.1f} runs/s "
              f"({mesa['elapsed_s']:.2f} s, {mesa['cpu_ms_per_run']:.1f} CPU ms/run)")
        for label, f in (("national table only", lean), ("every table", full)):
            print(f"    sim batch, {label:<19} {f['runs_per_s_end_to_end']:14.1f} runs/s ({f['elapsed_s']:.2f} s, "
                  f"{f['cpu_ms_per_run']:.1f} CPU ms/run, {f['files_per_table']} file(s) per table)"
                  f"  ratio {f['runs_per_s_end_to_end'] / mesa['runs_per_s_end_to_end']:.2f}x")


def scaling(args: argparse.Namespace) -> None:
    print("\n2. 2 workers against 1, end to end, strategy comparison (7 scenarios x 30 replicates = 210 runs)")
    figures = {w: run_case("strategy", str(w)) for w in (1, 2)}
    for w, f in figures.items():
        for label in ("cold", "warm"):
            g = f[label]
            print(f"  {w} worker(s), {label}: {g['elapsed_s']:6.2f} s end to end ({g['runs'] / g['elapsed_s']:5.1f} "
                  f"runs/s; start-up {g['startup_s']:.2f} s, runs {g['run_s']:.2f} s, final compaction "
                  f"{g['compact_s']:.2f} s, {g['files_per_table']} files per table)")
    for label, note in (("cold", "fresh process: the pool starts"), ("warm", "pool of the session reused")):
        print(f"  speed-up 2 vs 1 worker, {label} ({note}): "
              f"{figures[1][label]['elapsed_s'] / figures[2][label]['elapsed_s']:.2f}x")


def memory(args: argparse.Namespace) -> None:
    sizes = [1000, 3000] if args.quick else [1000, 10_000]
    if args.large:
        sizes.append(100_000)
    print(f"\n3. Peak memory of the driving process, short runs, {args.workers} workers")
    ours = {n: run_case("ours", "short", str(n), str(args.workers)) for n in sizes}
    mesa = {n: run_case("mesa", "short", str(n), str(args.workers)) for n in sizes if n <= 10_000}
    for n in sizes:
        f = ours[n]
        line = (f"  {n:>7,} runs: sim batch {f['peak_rss_mb']:6.1f} MB (largest worker {f['worker_peak_rss_mb']:.0f} MB, "
                f"{f['runs_per_s_end_to_end']:.0f} runs/s, {f['files_per_table']} files per table)")
        if n in mesa:
            m = mesa[n]
            line += (f"; mesa.batch_run {m['peak_rss_mb']:6.1f} MB (largest worker {m['worker_peak_rss_mb']:.0f} MB, "
                     f"{m['rows_in_memory']:,} rows in memory); ratio ours/mesa {f['peak_rss_mb'] / m['peak_rss_mb']:.2f}")
        print(line)
    first, last = sizes[0], sizes[-1]
    print(f"  sim batch {last:,} / {first:,} runs: {ours[last]['peak_rss_mb'] / ours[first]['peak_rss_mb']:.2f}x")
    top = max(n for n in mesa)
    print(f"  mesa.batch_run {top:,} / {first:,} runs: {mesa[top]['peak_rss_mb'] / mesa[first]['peak_rss_mb']:.2f}x")
    if not args.large:
        print("  (100,000 runs: --large; it takes about 10-20 minutes on 2 cores)")


def sobol(args: argparse.Namespace) -> None:
    if not args.sobol:
        print("\n4. Sobol N=1024 over 10 parameters (22,528 runs): --sobol (minutes on 2 cores)")
        return
    f = run_case("sobol", "0", str(args.sobol_samples))
    print(f"\n4. Sobol, second order, N={f['samples']} over {f['parameters']} parameters ({f['runs']:,} runs of the "
          f"baseline 2022-2050) on {f['workers']} workers: {f['elapsed_s']:.0f} s ({f['runs_per_s']:.0f} runs/s, "
          f"{f['cpu_ms_per_run']:.1f} CPU ms/run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="smaller batches")
    parser.add_argument("--large", action="store_true", help="also 100,000 short runs (memory)")
    parser.add_argument("--sobol", action="store_true", help="also Sobol N=1024 over 10 parameters")
    parser.add_argument("--sobol-samples", type=int, default=1024)
    args = parser.parse_args()
    if args.case:
        case, *rest = args.case
        if case == "ours":
            figures = case_ours(rest[0], int(rest[1]), int(rest[2]), *rest[3:])
        elif case == "mesa":
            figures = case_mesa(rest[0], int(rest[1]), int(rest[2]))
        elif case == "strategy":
            figures = case_strategy(int(rest[0]))
        else:
            figures = case_sobol(int(rest[0]), int(rest[1]))
        print(json.dumps(figures))
        return
    args.short_runs = 1000 if args.quick else 2000
    args.standard_runs = 40 if args.quick else 100
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f} "
          "(other processes share the cores: compare CPU ms/run too)\n")
    throughput(args)
    scaling(args)
    memory(args)
    sobol(args)
    print(f"\nload average at end {os.getloadavg()[0]:.1f}")
    print("Note: sim batch writes its tables as Parquet (compacted into a few files per table) for every run; "
          "mesa.batch_run keeps the model reporters of every step in memory.")


if __name__ == "__main__":
    main()
