"""The hindcast: the 31 provinces from an observed start year, driven by observed R&D, and the
observed panel and windows it is scored on (prices: the national GDP deflator)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.data.national import DEFLATOR_SOURCE, GDP_DEFLATOR, deflator  # noqa: F401  (re-exported)
from sim.scenario import Scenario, load_scenario, set_path, validate_scenario

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------
# Observed data and hindcast runs


@dataclass(frozen=True)
class Window:
    """A comparison window.

    Attributes:
        name: label in the tables (``calibration``, ``validation``...).
        start, end: first and last year compared (growth is over ``end - start`` years).
        init_year: the year the model run was initialised from observed data (``<= start``).
        sample: ``"in"`` when parameters were fitted on it, ``"out"`` otherwise.
    """

    name: str
    start: int
    end: int
    init_year: int
    sample: str = "out"

    @property
    def years(self) -> int:
        """Length of the window in years."""
        return self.end - self.start


CALIBRATION_WINDOW = Window("calibration", 2012, 2016, 2012, "in")
"""The window the calibrated parameters and the beta benchmark are fitted on."""

HINDCAST_VALUES: dict[str, Any] = {
    "investment.observed_rd": True,
    "investment.central_share": 0.0,
    "imitation.enabled": False,
    "strategies.default": "baseline",
}
"""Settings of every hindcast run: observed R&D drives each province (the observed series already
includes the central government's spending in the province, so no separate central pool), business
as usual, no strategy reviews."""


def default_windows(last_year: int | None = None) -> tuple[Window, ...]:
    """The windows ``sim validate`` reports.

    * ``calibration`` 2012-2016, run from 2012 (in sample);
    * ``validation`` 2016-2020, run re-initialised from observed 2016 data (out of sample; the
      benchmarks see the same 2016 data);
    * ``validation_continuous`` 2016-2020 from the run started in 2012 (out of sample);
    * ``hindcast`` 2012 to the last year of the table (2022), run from 2012 (mixed: 2012-2016 in
      sample).
    """
    last = int(observed_panel()["year"].max()) if last_year is None else last_year
    return (
        CALIBRATION_WINDOW,
        Window("validation", 2016, 2020, 2016, "out"),
        Window("validation_continuous", 2016, 2020, 2012, "out"),
        Window("hindcast", 2012, last, 2012, "mixed"),
    )


def observed_panel() -> pd.DataFrame:
    """The history table in model units, one row per province and year.

    Columns: ``province, year, population_m, gdp_cny_bn`` (nominal), ``gdp_per_capita_cny``
    (nominal), ``research_output`` (SCI papers), ``graduates_k``, ``rd_cny_bn`` (nominal).
    """
    from sim.data import load_history

    h = load_history()
    frame = pd.DataFrame({
        "province": h["province"].astype(str),
        "year": h["year"].astype(np.int64),
        "population_m": h["population_10k"] / 100.0,
        "gdp_cny_bn": h["gdp_100m_yuan"] / 10.0,
        "research_output": h["sci_papers"].astype(float),
        "graduates_k": h["graduates_10k"] * 10.0,
        "rd_cny_bn": h["rd_expenditure_100m_yuan"] / 10.0,
    })
    frame["gdp_per_capita_cny"] = 1000.0 * frame["gdp_cny_bn"] / frame["population_m"]
    return frame


def hindcast_scenario(scenario: Scenario | str | None = None, values: Mapping[str, Any] | None = None,
                      start_year: int = 2012, end_year: int = 2022) -> Scenario:
    """The scenario of a hindcast: ``scenario``'s parameters with business as usual, no events,
    :data:`HINDCAST_VALUES`, the years, and then the caller's ``values`` (key path -> value).

    Raises:
        ScenarioError: naming the key path of a bad value.
    """
    if isinstance(scenario, Scenario):
        base, source = scenario, "hindcast"
    else:
        base = load_scenario(scenario)
        source = str(scenario) if scenario is not None else "defaults"
    data = base.model_dump(mode="python")
    data["events"] = []
    data["strategies"] = {"default": "baseline"}  # business as usual everywhere: no assignments
    fixed = {"run.start_year": start_year, "run.end_year": end_year, "run.provinces": "china",
             "investment.target_year": max(start_year, data["investment"]["target_year"]), **HINDCAST_VALUES}
    for key, value in {**fixed, **dict(values or {})}.items():
        set_path(data, key, value, source)
    return validate_scenario(data, source if not values else "values " + ", ".join(values))


def hindcast(scenario: Scenario | str | None = None, *, start_year: int = 2012, end_year: int = 2022,
             seed: int | None = None, values: Mapping[str, Any] | None = None):
    """Run the model from observed ``start_year`` data to ``end_year``, driven by observed R&D.

    The observed R&D (current prices) is deflated to ``start_year`` prices with
    :data:`GDP_DEFLATOR` before it reaches the model, whose money is in start-year prices.

    Args:
        scenario: a :class:`Scenario`, a scenario file or None (the defaults); events are dropped.
        start_year, end_year: the years (2010-2022).
        seed: the model seed (default: the scenario's ``run.seed``).
        values: key path -> value, applied last (Python or numpy values).

    Returns:
        The finished :class:`~sim.model.model.RegionalGrowthModel`.
    """
    from sim.model import RegionalGrowthModel

    cfg = hindcast_scenario(scenario, values, start_year, end_year)
    model = RegionalGrowthModel(cfg, seed=cfg.run.seed if seed is None else seed)
    real_rd = {year: values / deflator(year, start_year) for year, values in model.data.observed_rd.items()}
    # a private copy: model.data comes from a cache shared by every model of this start year
    model.data = dataclasses.replace(model.data, observed_rd=real_rd)
    return model.run()
