"""Speed of one model run and how its cost grows with the number of regions.

Prints figures; asserts nothing. Usage::

    python benchmarks/run.py [--repeats 30] [--skip-large] [--large-repeats 3]

* median wall time (and CPU time of this process) of one standard run (31 provinces, 2022-2050)
  with its tables built (national, province, events DataFrames), of the model alone, and of the
  model without Mesa's DataCollector reading its end-year national row (a sensitivity run);
* the same for a trivial Mesa model measured in the same process (31 agents whose step adds a
  random number, a DataCollector of one reporter, 28 steps): a yardstick of how fast this machine
  runs Python and Mesa at the moment (shared machines vary), so the ratio is comparable across runs;
* time per region-year at 31, 310 and 3,100 synthetic regions (2022-2032);
* a 3,100-region synthetic run of 2022-2050 (median of ``--large-repeats``, 3): set-up, years,
  province table, total.
"""

from __future__ import annotations

import argparse
import statistics
import time

import mesa

from sim import RegionalGrowthModel, load_scenario


class _Walker(mesa.Agent):
    def __init__(self, model: mesa.Model) -> None:
        super().__init__(model)
        self.wealth = 1.0

    def step(self) -> None:
        self.wealth += self.model.rng.random()


class TrivialModel(mesa.Model):
    """The yardstick: 31 agents, one random draw each a step, one model reporter."""

    def __init__(self, n: int = 31, seed: int = 1) -> None:
        super().__init__(seed=seed)
        for _ in range(n):
            _Walker(self)
        self.datacollector = mesa.DataCollector(model_reporters={"wealth": lambda m: sum(a.wealth for a in m.agents)})
        self.datacollector.collect(self)

    def step(self) -> None:
        self.agents.shuffle_do("step")
        self.datacollector.collect(self)


def timed(fn, repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def line(label: str, walls: list[float], cpus: list[float]) -> str:
    return (f"{label:<52} median {1000 * statistics.median(walls):6.1f} ms (min {1000 * min(walls):6.1f} ms; "
            f"CPU median {1000 * statistics.median(cpus):6.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--skip-large", action="store_true", help="leave out the 3,100-region 2022-2050 run")
    parser.add_argument("--large-repeats", type=int, default=3, help="repeats of the 3,100-region run (median)")
    args = parser.parse_args()
    baseline = load_scenario("scenarios/baseline.toml")
    RegionalGrowthModel(baseline, seed=1).run()  # warm caches (data tables, imports)

    def full_run():
        model = RegionalGrowthModel(baseline, seed=1).run()
        model.national_frame()
        model.province_frame()
        model.events_frame()

    def model_only():
        RegionalGrowthModel(baseline, seed=1).run()

    def end_year_row():  # what a sensitivity or calibration run does (ModelEvaluator)
        RegionalGrowthModel(baseline, seed=1, datacollector=False).run().national_row()

    def trivial():
        model = TrivialModel()
        for _ in range(28):
            model.step()

    trivial()
    # interleaved, so that a change of the machine's speed affects all three alike
    results: dict[str, tuple[list[float], list[float]]] = {key: ([], []) for key in ("full", "bare", "row", "trivial")}
    for _ in range(args.repeats):
        for key, fn in (("full", full_run), ("bare", model_only), ("row", end_year_row), ("trivial", trivial)):
            walls, cpus = timed(fn, 1)
            results[key][0].extend(walls)
            results[key][1].extend(cpus)
    print(f"{args.repeats} repeats of each, interleaved")
    print(line("standard run, 31 provinces 2022-2050, with tables", *results["full"]))
    print(line("standard run, model only", *results["bare"]))
    print(line("standard run, no DataCollector, end-year row only", *results["row"]))
    print(line("trivial Mesa model (31 agents, 28 steps)", *results["trivial"]))
    trivial_ms = statistics.median(results["trivial"][0])
    print(f"ratios to the trivial model: with tables {statistics.median(results['full'][0]) / trivial_ms:.1f}x, "
          f"model only {statistics.median(results['bare'][0]) / trivial_ms:.1f}x, "
          f"end-year row only {statistics.median(results['row'][0]) / trivial_ms:.1f}x")
    print()
    print(f"{'regions':>8} {'init s':>8} {'run s':>8} {'us per region-year':>20}")
    for n in (31, 310, 3100):
        scenario = load_scenario(None, [f'run.provinces="synthetic:{n}"', "run.end_year=2032"])
        repeats = max(1, min(args.repeats, 3000 // n))
        inits, runs = [], []
        for r in range(repeats):
            start = time.perf_counter()
            model = RegionalGrowthModel(scenario, seed=r)
            middle = time.perf_counter()
            model.run()
            model.province_frame()
            inits.append(middle - start)
            runs.append(time.perf_counter() - middle)
        years = scenario.run.end_year - scenario.run.start_year
        per = 1e6 * statistics.median(runs) / (n * years)
        print(f"{n:>8} {statistics.median(inits):>8.3f} {statistics.median(runs):>8.3f} {per:>20.1f}")
    if not args.skip_large:
        print()
        scenario = load_scenario(None, ['run.provinces="synthetic:3100"', "run.end_year=2050"])
        parts: dict[str, list[float]] = {"set-up": [], "28 years": [], "province table": [], "total": [], "CPU": []}
        for _ in range(args.large_repeats):
            start, cpu = time.perf_counter(), time.process_time()
            model = RegionalGrowthModel(scenario, seed=1)
            built = time.perf_counter()
            model.run()
            ran = time.perf_counter()
            model.province_frame()
            done = time.perf_counter()
            del model
            for key, value in zip(parts, (built - start, ran - built, done - ran, done - start,
                                          time.process_time() - cpu), strict=True):
                parts[key].append(value)
        figures = ", ".join(f"{key} {statistics.median(values):.2f} s" for key, values in parts.items())
        print(f"3,100 regions 2022-2050, median of {args.large_repeats}: {figures} (total min {min(parts['total']):.2f} s)")


if __name__ == "__main__":
    main()
