"""The validation's outputs: the headline table, the text printed by ``sim validate`` and the results folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.hindcast import DEFLATOR_SOURCE, GDP_DEFLATOR, HINDCAST_VALUES
from sim.analysis.validation import ValidationResult

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------
# Terminal table and results folder

SUMMARY_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("gdp_per_capita", "r2_log_relative_level", "GDP pc: R2 of log relative level", "{:.3f}"),
    ("gdp_per_capita", "r2_log_level", "GDP pc: R2 of log level (real)", "{:.3f}"),
    ("gdp_per_capita", "spearman_growth", "GDP pc: Spearman of growth", "{:.2f}"),
    ("gdp_per_capita", "rmse_relative_growth", "GDP pc: RMSE of relative growth", "{:.4f}"),
    ("gdp_per_capita", "rmse_annual_relative_growth", "GDP pc: RMSE of annual rel. growth", "{:.4f}"),
    ("gdp_per_capita", "national_real_growth", "GDP pc: national real growth", "{:.4f}"),
    ("research_output", "r2_log_level", "papers: R2 of log level", "{:.3f}"),
    ("research_output", "spearman_growth", "papers: Spearman of growth", "{:.2f}"),
    ("research_output", "rmse_relative_growth", "papers: RMSE of relative growth", "{:.4f}"),
    ("research_output", "national_growth", "papers: national growth", "{:.4f}"),
    ("graduates", "r2_log_level", "graduates: R2 of log level", "{:.3f}"),
    ("graduates", "spearman_growth", "graduates: Spearman of growth", "{:.2f}"),
    ("graduates", "rmse_relative_growth", "graduates: RMSE of relative growth", "{:.4f}"),
    ("inequality", "gini_end", "Gini, end year", "{:.4f}"),
    ("inequality", "rmse_gini_path", "Gini path: RMSE", "{:.4f}"),
    ("inequality", "cv_end", "CV, end year", "{:.4f}"),
    ("inequality", "rmse_cv_path", "CV path: RMSE", "{:.4f}"),
)
"""Rows of the terminal table: variable, statistic, label, format."""


def summary_table(statistics: pd.DataFrame) -> pd.DataFrame:
    """The terminal table: one row per window and key statistic, values formatted as text.

    Columns: ``window``, ``statistic``, ``model``, ``observed``, ``national rate``, ``beta conv.``,
    ``skill/national``, ``skill/beta`` (skill = 1 - MSE(model) / MSE(benchmark), for RMSE rows).
    """
    rows = []
    for window, frame in statistics.groupby("window", sort=False):
        first = frame.iloc[0]
        sample = {"in": "in sample", "out": "out of sample"}.get(first["sample"], f"{first['sample']} sample")
        label = f"{window} {int(first['start'])}-{int(first['end'])} ({sample})"
        for variable, statistic, text, fmt in SUMMARY_ROWS:
            match = frame[(frame["variable"] == variable) & (frame["statistic"] == statistic)]
            if match.empty:
                continue
            row = match.iloc[0]

            def cell(value: float, form: str = fmt) -> str:
                return "" if pd.isna(value) else form.format(value)

            rows.append({"window": label, "statistic": text, "model": cell(row["model"]),
                         "observed": cell(row["observed"]), "national rate": cell(row["national_rate"]),
                         "beta conv.": cell(row["beta_convergence"]),
                         "skill/national": cell(row["skill_vs_national_rate"], "{:+.2f}"),
                         "skill/beta": cell(row["skill_vs_beta_convergence"], "{:+.2f}")})
            label = ""
    return pd.DataFrame(rows)


def format_validation(result: ValidationResult) -> str:
    """The statistics of a validation as a terminal table, with a header that says what was done."""
    beta = result.beta
    header = [
        "Hindcast of the 31 provinces: initialised from sim/data/history.csv, driven by observed provincial R&D",
        "(deflated to start-year prices with the World Bank GDP deflator); relative growth = province minus national.",
        f"Benchmarks: national rate (relative growth 0); beta convergence fitted on {beta.start_year}-{beta.end_year} "
        f"(slope {beta.slope:+.4f}/yr, R2 {beta.r_squared:.3f}).",
        "skill = 1 - MSE(model)/MSE(benchmark): > 0 beats the benchmark.",
        "",
    ]
    table = summary_table(result.statistics)
    columns = list(table.columns)
    widths = {c: max(len(c), *(len(v) for v in table[c])) for c in columns}
    left = {"window", "statistic"}

    def line(values: dict[str, str]) -> str:
        return "  ".join(values[c].ljust(widths[c]) if c in left else values[c].rjust(widths[c]) for c in columns)

    body = [line({c: c for c in columns})]
    for _, row in table.iterrows():
        if row["window"]:
            body.append("")
        body.append(line(row.to_dict()))
    return "\n".join(header + body)


def write_results(folder: str | Path, result: ValidationResult, calibration: Any = None,
                  extra_manifest: dict[str, Any] | None = None, figures: bool = True) -> Path:
    """Write a validation results folder.

    Layout::

        manifest.json            kind "validation": scenario, windows, deflator, benchmark, calibration
        statistics.csv/.parquet  every statistic (see ValidationResult.statistics)
        provinces.csv/.parquet   per window and province, observed and simulated
        inequality.csv/.parquet  per window and year, the Gini and CV paths
        calibration.csv          the fitted parameters (with --calibrate)
        national/, province/     the hindcast runs' tables (part-init<year>.parquet)
        figures/*.png            see sim.analysis.figures

    Raises:
        FileExistsError: when ``folder`` exists and is not empty.
    """
    from sim.experiments.store import provenance, write_manifest, write_part

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} already exists and is not empty")
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in (("statistics", result.statistics), ("provinces", result.provinces),
                        ("inequality", result.inequality)):
        frame.to_csv(folder / f"{name}.csv", index=False)
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    for init, model in result.runs.items():
        for table, frame in (("national", model.national_frame()), ("province", model.province_frame())):
            frame.insert(0, "init_year", init)
            if "province" in frame:
                frame["province"] = frame["province"].astype(str)
            write_part(folder, table, f"init{init}", frame)
    manifest: dict[str, Any] = {
        "kind": "validation",
        "scenario": result.scenario.model_dump(mode="json"),
        "hindcast_values": dict(HINDCAST_VALUES),
        "windows": [{"name": n, "start": int(a), "end": int(b), "init_year": int(i), "sample": smp}
                    for n, a, b, i, smp in result.statistics[["window", "start", "end", "init_year", "sample"]]
                    .drop_duplicates().itertuples(index=False)],
        "deflator": {"index_2015_100": GDP_DEFLATOR, "source": DEFLATOR_SOURCE},
        "beta_benchmark": result.beta._asdict(),
        **provenance(),
    }
    if calibration is not None:
        manifest["calibration"] = calibration.to_dict()
        calibration.table().to_csv(folder / "calibration.csv", index=False)
        calibration.moments_table().to_csv(folder / "calibration_moments.csv", index=False)
    manifest.update(extra_manifest or {})
    write_manifest(folder, manifest)
    if figures:
        from sim.analysis.figures import write_validation_figures

        write_validation_figures(folder, result.statistics, result.provinces, result.inequality)
    return folder
