"""Figures of the validation (``sim validate``) and sensitivity (``sim sensitivity``) results.

Drawn with matplotlib's object-oriented API (no pyplot, no global backend), written as PNG into a
results folder's ``figures/``. :func:`report_figures` lists the ones a results folder holds, with a
title and a caption, for a report to include.

* ``validation_growth.png``: provinces as points, simulated against observed relative growth of
  GDP per capita (province minus national, %/yr) in the calibration and validation windows;
* ``validation_levels.png``: simulated against observed end-year levels (GDP per capita, SCI
  papers, graduates), log scales;
* ``validation_inequality.png``: the Gini and CV path, observed against the model and both benchmarks;
* ``posterior.png``: the shipped posterior of every estimated parameter over its prior range (both
  estimates: 2012-2019 for projections, 2012-2016 for the out-of-sample test), with 95 % intervals;
* ``sensitivity_indices.png``: Sobol first- and total-order indices (or Morris mu* and sigma) per
  outcome, with confidence intervals.
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.plotting import BLACK, BLUE, DPI, FIGURE_STYLE, GREY, ORANGE, VERMILLION, short_name

logger = logging.getLogger(__name__)

__all__ = [
    "figure_growth",
    "figure_inequality",
    "figure_levels",
    "figure_posterior",
    "figure_sensitivity",
    "report_figures",
    "write_sensitivity_figures",
    "write_validation_figures",
]

STYLE: dict[str, object] = {**FIGURE_STYLE, "legend.fontsize": 8}
"""The report's figure style (:data:`sim.plotting.FIGURE_STYLE`), with smaller legends."""

# series colours: the Okabe-Ito palette of sim.plotting, as in the report
MODEL = BLUE
OBSERVED = BLACK
NATIONAL = GREY
BETA = ORANGE
FIRST_ORDER = BLUE
TOTAL_ORDER = VERMILLION

CAPTIONS: dict[str, tuple[str, str]] = {
    "validation_growth.png": (
        "Hindcast: growth of GDP per capita by province",
        "Each point is a province: its annual growth of GDP per capita minus the national growth (%/yr), "
        "observed (x) against simulated (y, blue) and the beta-convergence benchmark (orange). "
        "The national-rate benchmark is the horizontal line at 0. Points on the diagonal are forecast exactly."),
    "validation_levels.png": (
        "Hindcast: end-year levels by province",
        "Observed against simulated levels in the last year of the hindcast (log scales): GDP per capita "
        "(observed deflated to start-year prices), SCI papers and graduates. R^2 of log levels in each title."),
    "validation_inequality.png": (
        "Hindcast: inequality between provinces",
        "Population-weighted Gini and coefficient of variation of GDP per capita, observed (black) against "
        "the model run from 2012 (blue), the model re-initialised in 2016 (blue, dashed) and the two benchmarks."),
    "posterior.png": (
        "What the data pin down: the estimated parameters",
        "Posterior draws of each estimated parameter (histograms) over its whole prior range (the x axis): "
        "estimated on 2012-2016 and 2016-2019 (blue, what experiments draw from) and on 2012-2016 alone "
        "(orange, the out-of-sample test); the 95 % interval of the first as a bar and its median as a line. "
        "A histogram as wide as the axis means the data do not identify the parameter."),
    "sensitivity_indices.png": (
        "Global sensitivity of the key outcomes",
        "Sobol first-order (S1) and total-order (ST) indices per parameter and outcome with their confidence "
        "intervals (or Morris mu* with its interval and sigma): the share of the outcome's variance each "
        "parameter explains alone (S1) and with its interactions (ST) over the bounds of the experiment."),
}


def figure_growth(provinces: pd.DataFrame, windows: tuple[str, ...] = ("calibration", "validation")) -> Figure:
    """Simulated against observed relative growth of GDP per capita, one panel per window."""
    windows = tuple(w for w in windows if w in set(provinces["window"]))
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(5.2 * max(len(windows), 1), 5.0), layout="constrained")
        axes = fig.subplots(1, max(len(windows), 1), squeeze=False)[0]
        for ax, window in zip(axes, windows, strict=False):
            rows = provinces[provinces["window"] == window]
            obs = 100 * rows["relative_growth_observed"].to_numpy()
            sim = 100 * rows["relative_growth_simulated"].to_numpy()
            beta = 100 * rows["relative_growth_beta"].to_numpy()
            lim = np.nanmax(np.abs(np.concatenate([obs, sim, beta]))) * 1.1
            ax.plot([-lim, lim], [-lim, lim], color=OBSERVED, lw=0.8, ls=":", label="1:1 (perfect forecast)")
            ax.axhline(0.0, color=NATIONAL, lw=1.2, label="national rate (0)")
            ax.scatter(obs, beta, s=18, facecolors="none", edgecolors=BETA, label="beta convergence")
            ax.scatter(obs, sim, s=22, color=MODEL, label="model", zorder=3)
            worst = np.argsort(-np.abs(obs))[:8]
            for i in worst:
                ax.annotate(short_name(str(rows["province"].iloc[i])), (obs[i], sim[i]), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            ax.set_xlabel("observed relative growth (%/yr)")
            ax.set_ylabel("forecast relative growth (%/yr)")
            ax.set_title(window)
            ax.legend(loc="upper left")
        return fig


def figure_levels(provinces: pd.DataFrame, statistics: pd.DataFrame | None = None, window: str = "hindcast") -> Figure:
    """Simulated against observed end-year levels: GDP per capita, SCI papers, graduates (log-log)."""
    rows = provinces[provinces["window"] == window]
    panels = (
        ("GDP per capita (CNY, start-year prices)", "gdp_per_capita_observed_real_cny", "gdp_per_capita_simulated_cny",
         ("gdp_per_capita", "r2_log_level")),
        ("SCI papers", "research_output_observed", "research_output_simulated", ("research_output", "r2_log_level")),
        ("graduates (thousands)", "graduates_observed", "graduates_simulated", ("graduates", "r2_log_level")),
    )
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(13.5, 4.6), layout="constrained")
        axes = fig.subplots(1, 3)
        for ax, (label, obs_col, sim_col, key) in zip(axes, panels, strict=False):
            obs, sim = rows[obs_col].to_numpy(float), rows[sim_col].to_numpy(float)
            low, high = min(obs.min(), sim.min()) / 1.3, max(obs.max(), sim.max()) * 1.3
            ax.plot([low, high], [low, high], color=OBSERVED, lw=0.8, ls=":")
            ax.scatter(obs, sim, s=20, color=MODEL)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlim(low, high)
            ax.set_ylim(low, high)
            ax.set_xlabel("observed")
            ax.set_ylabel("simulated")
            title = label
            if statistics is not None:
                match = statistics[(statistics["window"] == window) & (statistics["variable"] == key[0])
                                   & (statistics["statistic"] == key[1])]
                if len(match):
                    title += f"\nR$^2$ of log levels {float(match['model'].iloc[0]):.2f}"
            ax.set_title(title)
        years = ""
        if len(rows) and statistics is not None:
            w = statistics[statistics["window"] == window]
            if len(w):
                years = f" {int(w['end'].iloc[0])} (run from {int(w['init_year'].iloc[0])})"
        fig.suptitle(f"Provinces in{years}: observed against simulated", fontsize=11, fontweight="bold")
        return fig


def figure_inequality(inequality: pd.DataFrame, window: str = "hindcast", rerun: str | None = "validation") -> Figure:
    """The Gini and CV path: observed, the model, and both benchmarks."""
    rows = inequality[inequality["window"] == window]
    again = inequality[inequality["window"] == rerun] if rerun else inequality.iloc[0:0]
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(11, 4.4), layout="constrained")
        axes = fig.subplots(1, 2)
        for ax, name, label in zip(axes, ("gini", "cv"), ("Gini (population-weighted)", "coefficient of variation"), strict=False):
            ax.plot(rows["year"], rows[f"{name}_observed"], color=OBSERVED, lw=2, marker="o", ms=3, label="observed")
            ax.plot(rows["year"], rows[f"{name}_simulated"], color=MODEL, lw=1.8, label=f"model (from {rows['year'].min()})")
            if len(again):
                ax.plot(again["year"], again[f"{name}_simulated"], color=MODEL, lw=1.5, ls="--",
                        label=f"model (re-initialised {again['year'].min()})")
            ax.plot(rows["year"], rows[f"{name}_national_rate"], color=NATIONAL, lw=1.2, ls="-.", label="national rate")
            ax.plot(rows["year"], rows[f"{name}_beta_convergence"], color=BETA, lw=1.2, ls=":",
                    label="beta convergence")
            ax.set_title(label)
            ax.set_xlabel("year")
        axes[0].legend(loc="lower left")
        fig.suptitle("Inequality of GDP per capita between provinces", fontsize=11, fontweight="bold")
        return fig


def figure_sensitivity(indices: pd.DataFrame, method: str = "sobol") -> Figure:
    """Bars of sensitivity indices: one panel per outcome, parameters on the vertical axis.

    Args:
        indices: the long table of :func:`sim.analysis.sensitivity.analyse` (``outcome, parameter`` and
            ``S1, S1_conf, ST, ST_conf`` for Sobol or ``mu_star, mu_star_conf, sigma`` for Morris).
        method: ``"sobol"`` or ``"morris"``.
    """
    outcomes = list(dict.fromkeys(indices["outcome"]))
    ncols = min(len(outcomes), 2) or 1
    nrows = int(np.ceil(len(outcomes) / ncols)) or 1
    n_params = indices["parameter"].nunique()
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(6.2 * ncols, 0.9 + (0.38 * n_params + 0.9) * nrows), layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax, outcome in zip(axes, outcomes, strict=False):
            rows = indices[indices["outcome"] == outcome]
            params = list(rows["parameter"])
            y = np.arange(len(params))
            if method == "sobol":
                ax.barh(y + 0.2, rows["S1"], height=0.38, xerr=rows["S1_conf"], color=FIRST_ORDER, label="first order S1",
                        error_kw={"lw": 0.8})
                ax.barh(y - 0.2, rows["ST"], height=0.38, xerr=rows["ST_conf"], color=TOTAL_ORDER, label="total order ST",
                        error_kw={"lw": 0.8})
                ax.set_xlabel("Sobol index (share of variance)")
                ax.axvline(0, color="black", lw=0.6)
            else:
                ax.barh(y + 0.2, rows["mu_star"], height=0.38, xerr=rows["mu_star_conf"], color=FIRST_ORDER,
                        label="mu* (mean |elementary effect|)", error_kw={"lw": 0.8})
                ax.barh(y - 0.2, rows["sigma"], height=0.38, color=TOTAL_ORDER, label="sigma (interactions, non-linearity)")
                ax.set_xlabel("Morris elementary effects (outcome units)")
            ax.set_yticks(y, params)
            ax.invert_yaxis()
            ax.set_title(outcome)
        for ax in axes[len(outcomes):]:
            ax.set_visible(False)
        if len(outcomes):
            axes[0].legend(loc="lower right")
        fig.suptitle(f"Sensitivity indices ({'Sobol' if method == 'sobol' else 'Morris'})", fontsize=11,
                     fontweight="bold")
        return fig


def figure_posterior(samples: dict[str, pd.DataFrame] | None = None) -> Figure:
    """Histograms of the posterior draws of every estimated parameter over its prior range.

    Args:
        samples: label -> posterior draws (one column per key path); default the two shipped
            posteriors (``sim.data.load_posterior``), the projection one first.
    """
    from sim.analysis.estimation import ESTIMATED
    from sim.data import load_posterior

    if samples is None:
        samples = {"2012-2019 (projections)": load_posterior("projection"),
                   "2012-2016 (out-of-sample test)": load_posterior("2012-2016")}
    colours = [MODEL, BETA, GREY]
    with mpl.rc_context(STYLE):
        cols = 4
        rows = -(-len(ESTIMATED) // cols)
        fig = Figure(figsize=(12.0, 2.6 * rows + 0.8), layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, parameter in zip(axes, ESTIMATED, strict=False):
            bins = np.linspace(parameter.low, parameter.high, 41)
            first = None
            for (label, draws), colour in zip(samples.items(), colours, strict=False):
                if parameter.key not in draws:
                    continue
                values = draws[parameter.key].to_numpy(float)
                ax.hist(values, bins=bins, color=colour, alpha=0.55, label=label, density=True)
                if first is None:
                    first = values
            if first is not None:
                low, mid, high = np.quantile(first, [0.025, 0.5, 0.975])
                top = ax.get_ylim()[1]
                ax.plot([low, high], [0.96 * top] * 2, color=BLACK, linewidth=3, solid_capstyle="butt")
                ax.axvline(mid, color=BLACK, linewidth=1)
                # as in the estimation's summary: 1 - posterior sd / uniform prior sd
                narrowed = 1.0 - float(np.std(first, ddof=1)) / ((parameter.high - parameter.low) / np.sqrt(12.0))
                ax.set_title(f"{parameter.key.split('.')[-1]}\n{mid:.3g} [{low:.3g}, {high:.3g}]", fontsize=9)
                ax.text(0.98, 0.82, f"prior\nnarrowed\n{100 * narrowed:.0f} %", transform=ax.transAxes,
                        ha="right", va="top", fontsize=7, color=BLACK)
            ax.set_xlim(parameter.low, parameter.high)
            ax.set_yticks([])
        for ax in axes[len(ESTIMATED):]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8, frameon=False)
        fig.suptitle("Posterior of the estimated parameters over their prior ranges", fontsize=11, fontweight="bold")
        return fig


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return path


def write_validation_figures(folder: str | Path, statistics: pd.DataFrame, provinces: pd.DataFrame,
                             inequality: pd.DataFrame) -> list[Path]:
    """Write the three validation figures into ``folder/figures``; returns their paths."""
    figures = Path(folder) / "figures"
    written = [_save(figure_growth(provinces), figures / "validation_growth.png")]
    if "hindcast" in set(provinces["window"]):
        written.append(_save(figure_levels(provinces, statistics), figures / "validation_levels.png"))
        written.append(_save(figure_inequality(inequality), figures / "validation_inequality.png"))
    written.append(_save(figure_posterior(), figures / "posterior.png"))
    return written


def write_sensitivity_figures(folder: str | Path, indices: pd.DataFrame, method: str) -> list[Path]:
    """Write the sensitivity bars into ``folder/figures``; returns their paths."""
    return [_save(figure_sensitivity(indices, method), Path(folder) / "figures" / "sensitivity_indices.png")]


def report_figures(folder: str | Path) -> list[tuple[Path, str, str]]:
    """The validation and sensitivity figures a results folder holds: ``(path, title, caption)``.

    For a report builder: include these when present.
    """
    figures = Path(folder) / "figures"
    return [(figures / name, title, caption) for name, (title, caption) in CAPTIONS.items()
            if (figures / name).is_file()]
