"""Speed of one model run and how its cost grows with the number of regions.

Prints figures; asserts nothing. Usage::

    python benchmarks/run.py [--repeats 30]

* median wall time of one standard run (31 provinces, 2022-2050, with recording and the
  national/province tables built), and of the model alone (no DataFrames);
* time per region-year at 31, 310 and 3,100 synthetic regions (2022-2032).
"""

from __future__ import annotations

import argparse
import statistics
import time

from sim import RegionalGrowthModel, load_scenario


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    baseline = load_scenario("scenarios/baseline.toml")
    RegionalGrowthModel(baseline).run()  # warm caches (data tables, imports)

    def full_run():
        model = RegionalGrowthModel(baseline, seed=1).run()
        model.national_frame()
        model.province_frame()
        model.events_frame()

    def model_only():
        RegionalGrowthModel(baseline, seed=1).run()

    full = timed(full_run, args.repeats)
    bare = timed(model_only, args.repeats)
    print(f"standard run, 31 provinces 2022-2050, with tables: median {1000 * statistics.median(full):.1f} ms "
          f"(min {1000 * min(full):.1f} ms, {args.repeats} repeats)")
    print(f"standard run, model only:                        median {1000 * statistics.median(bare):.1f} ms")
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


if __name__ == "__main__":
    main()
