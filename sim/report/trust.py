"""The trust section of a report: the validation scorecard and, with parameter draws, what drives each effect.

**Scorecard.** The scorecard of ``sim validate`` (:func:`sim.analysis.scorecard.scorecard`): every
hindcast target with its value, rule and pass or fail. It is the scorecard of the code that builds
the report: computed when the report is built, with the parameters ``sim validate`` uses, and cached
in the results folder as ``scorecard-<code hash>.json`` (the hash of :func:`sim.experiments.identity.code_hash`,
the one the manifest records), so that the next build of the same code reads it back. When the code
differs from the code that made the results, the section says so. ``sim report --scorecard FILE``
reads a scorecard written by ``sim validate --json FILE`` instead (the section says it was read,
not computed); ``--no-scorecard`` leaves it out (the section says so).

**Drivers.** With parameter draws (an ``[uncertainty]`` experiment), for each comparison with
baseline and each of the Gini, real GDP and research output: the per-draw effect (the end-year
relative difference, mean over the seeds of the draw) and its Spearman rank correlation with each
drawn parameter. The parameters with the largest absolute correlations are said in words and listed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.errors import ResultsError

if TYPE_CHECKING:
    from sim.report.data import ReportData

log = logging.getLogger(__name__)

CACHE_PREFIX = "scorecard-"
"""Cache files in a results folder: ``scorecard-<first 16 hex digits of the code hash>.json``."""

DRIVER_METRICS: dict[str, str] = {"gini": "the Gini", "gdp_real_cny_bn": "real GDP",
                                  "research_output": "research output"}
"""Effects whose drivers are reported."""

TOP_DRIVERS = 3
"""How many parameters are named per comparison and metric."""


@dataclass
class Trust:
    """What the trust section shows.

    Attributes:
        scorecard: the scorecard as ``sim validate --json`` writes it (None when left out or failed).
        source: how it was obtained, in words (computed now, read from the cache, read from a file).
        code_hash: the code hash the scorecard belongs to (None when read from a file).
        results_code_hash: the code hash in the results' manifest.
        problem: why there is no scorecard, when there is none.
        drivers: one row per comparison, metric and parameter (see :func:`parameter_drivers`).
    """

    scorecard: dict[str, Any] | None
    source: str
    code_hash: str | None = None
    results_code_hash: str | None = None
    problem: str = ""
    drivers: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def same_code(self) -> bool | None:
        """Whether the scorecard's code is the code that made the results (None when unknown)."""
        if self.code_hash is None or self.results_code_hash is None:
            return None
        return self.code_hash == self.results_code_hash


def cache_path(folder: Path, code_hash: str) -> Path:
    return folder / f"{CACHE_PREFIX}{code_hash.removeprefix('sha256:')[:16]}.json"


def read_scorecard_file(path: Path) -> dict[str, Any]:
    """A scorecard written by ``sim validate --json``.

    Raises:
        ResultsError: one line, when the file cannot be read or is not a scorecard.
    """
    try:
        card = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ResultsError(f"--scorecard {path}: cannot read it as JSON ({exc})") from None
    targets = card.get("targets") if isinstance(card, dict) else None
    if not isinstance(targets, list) or not all(
            isinstance(t, dict) and {"name", "value", "rule", "passed"} <= set(t) for t in targets):
        raise ResultsError(f"--scorecard {path}: targets: expected a list of objects with name, value, rule and "
                           "passed, as `sim validate --json FILE` writes")
    return card


def compute_scorecard() -> dict[str, Any]:
    """The scorecard of the current code with ``sim validate``'s parameters (the Hefei case test too
    when pysyncon is installed)."""
    from sim.analysis.scorecard import scorecard

    try:
        return scorecard().to_dict()
    except ImportError as exc:  # the synthetic control needs pysyncon
        card = scorecard(hefei=False).to_dict()
        card["note"] = f"Hefei case test left out: {exc}"
        return card


def scorecard_for(folder: Path, manifest: dict[str, Any], scorecard: Path | bool | None = None) -> Trust:
    """The scorecard for a report of ``folder``.

    Args:
        scorecard: a file written by ``sim validate --json`` to read; False to leave the scorecard out;
            None (default) to compute it for the current code, or read it from the cache.
    """
    from sim.experiments.identity import code_hash

    results_hash = manifest.get("code_hash")
    if scorecard is False:
        return Trust(None, "left out (`--no-scorecard`)", results_code_hash=results_hash,
                     problem="The scorecard was left out of this report (`sim report --no-scorecard`); "
                             "`sim validate` prints it.")
    if isinstance(scorecard, (str, Path)):
        card = read_scorecard_file(Path(scorecard))
        return Trust(card, f"read from `{scorecard}` (as given with `--scorecard`; not checked against the code)",
                     results_code_hash=results_hash)
    current = code_hash()
    cache = cache_path(folder, current)
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached.get("code_hash") == current and isinstance(cached.get("scorecard"), dict):
            return Trust(cached["scorecard"], f"computed for this code on {cached.get('computed', '?')} and read "
                         f"from the cache `{cache.name}` in the results folder", current, results_hash)
    except (OSError, ValueError, AttributeError):
        pass
    try:
        card = compute_scorecard()
    except Exception as exc:  # the report must not be lost because the hindcast failed
        log.warning("scorecard failed: %s", exc, exc_info=True)
        return Trust(None, "failed", current, results_hash,
                     problem=f"The scorecard could not be computed ({type(exc).__name__}: {exc}); run `sim validate`.")
    computed = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        cache.write_text(json.dumps({"code_hash": current, "computed": computed, "scorecard": card}, indent=1,
                                    default=float) + "\n", encoding="utf-8")
        where = f"; cached as `{cache.name}` in the results folder"
        for old in folder.glob(f"{CACHE_PREFIX}*.json"):  # the scorecards of other code are not read again
            if old != cache:
                old.unlink(missing_ok=True)
    except OSError as exc:
        where = f"; not cached ({exc.strerror or exc})"
    return Trust(card, f"computed for this code when the report was built ({computed}){where}", current,
                 results_hash)


# --------------------------------------------------------------------------------------------------
# drivers


def parameter_drivers(data: ReportData) -> pd.DataFrame:
    """Spearman rank correlation of each per-draw effect with each drawn parameter.

    One row per (group, reference, metric, parameter): ``rho`` and ``draws`` (the draws with a
    paired effect). Empty without parameter draws.
    """
    columns = ["group", "reference", "metric", "parameter", "rho", "draws"]
    if not data.has_draws or not data.parameter_columns:
        return pd.DataFrame(columns=columns)
    national = data.national
    last = national.groupby("run_id")["year"].transform("max")
    end = national[national["year"] == last]
    keys = ["draw", "replicate"] if "replicate" in end else ["draw"]
    params = end.drop_duplicates("draw").set_index("draw")[data.parameter_columns].astype(float)
    rows = []
    for group in data.groups:
        reference = data.reference.get(group)
        if reference is None or reference == group:
            continue
        own = end[end["group"] == group].set_index(keys)
        ref = end[end["group"] == reference].set_index(keys)
        common = own.index.intersection(ref.index)
        if len(common) == 0:
            continue
        for metric in DRIVER_METRICS:
            if metric not in end:
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                relative = own.loc[common, metric].astype(float) / ref.loc[common, metric].astype(float) - 1.0
            per_draw = relative.groupby(level="draw").mean()
            if per_draw.size < 3 or per_draw.nunique() < 2:
                continue
            ranks = per_draw.rank()
            for parameter in data.parameter_columns:
                values = params.loc[per_draw.index, parameter]
                rho = float(ranks.corr(values.rank())) if values.nunique() > 1 else float("nan")
                rows.append({"group": group, "reference": reference, "metric": metric, "parameter": parameter,
                             "rho": rho, "draws": int(per_draw.size)})
    return pd.DataFrame(rows, columns=columns)


def parameter_label(column: str) -> str:
    """``economy__catch_up_rate`` -> ``economy.catch_up_rate``."""
    return column.replace("__", ".")


def driver_sentences(drivers: pd.DataFrame) -> list[str]:
    """One sentence per comparison: the parameters that move each effect most, with the direction."""
    if drivers.empty:
        return []
    out = []
    for (group, reference), rows in drivers.groupby(["group", "reference"], sort=False):
        parts = []
        for metric, name in DRIVER_METRICS.items():
            chosen = rows[(rows["metric"] == metric) & rows["rho"].notna()]
            if chosen.empty:
                continue
            top = chosen.reindex(chosen["rho"].abs().sort_values(ascending=False).index).head(TOP_DRIVERS)
            named = [f"{parameter_label(r.parameter)} (ρ {r.rho:+.2f})".replace("-", "−")
                     for r in top.itertuples() if abs(r.rho) >= 0.3]
            if named:
                parts.append(f"on {name} by {', '.join(named)}")
            else:
                parts.append(f"on {name} by no single parameter (every |ρ| < 0.3)")
        if parts:
            draws = int(rows["draws"].max())
            out.append(f"{group} against {reference}: the effect is driven " + "; ".join(parts)
                       + f" (Spearman ρ over {draws} draws; ρ > 0: a higher value, a larger effect).")
    return out


def driver_table(drivers: pd.DataFrame) -> pd.DataFrame:
    """The top parameters per comparison and metric, for the pages."""
    if drivers.empty:
        return pd.DataFrame()
    rows = []
    for (group, reference, metric), chosen in drivers.groupby(["group", "reference", "metric"], sort=False):
        chosen = chosen[chosen["rho"].notna()]
        top = chosen.reindex(chosen["rho"].abs().sort_values(ascending=False).index).head(TOP_DRIVERS)
        for rank, r in enumerate(top.itertuples(), start=1):
            rows.append({"comparison": f"{group} − {reference}", "effect on": DRIVER_METRICS[metric], "rank": rank,
                         "parameter": parameter_label(r.parameter),
                         "Spearman ρ": f"{r.rho:+.2f}".replace("-", "−"), "draws": r.draws})
    return pd.DataFrame(rows)
