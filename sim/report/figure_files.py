"""What the report knows of its figures without drawing any (no matplotlib here).

:class:`FigureFile` (a figure written to disk), the report sections that hold figures, how figures
are saved (:data:`SAVE_OPTIONS`), which map figures and bump charts a report has, and
:func:`figure_names`, the names of every figure job in report order: enough to build a report from
figures cached by an earlier build (:class:`sim.report.figures.FigureCache`) without loading matplotlib.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.report.data import ReportData

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class FigureFile:
    """A figure written to disk.

    Attributes:
        name: the file stem (``figures/<name>.png`` and ``.svg``).
        section: the report section it belongs to.
        title: a one-line title.
        caption: how to read it.
        png, svg: the files (``svg`` is None unless SVG was asked for).
    """

    name: str
    section: str
    title: str
    caption: str
    png: Path
    svg: Path | None = None


SECTIONS: dict[str, str] = {
    "inequality": "Inequality between provinces",
    "output": "National output and research",
    "tradeoff": "The trade-off: inequality against output",
    "maps": "Provinces on the map",
    "ranking": "Research-output ranking of provinces",
    "adoption": "Strategy adoption",
}
"""Report sections that hold figures, in order."""


SAVE_OPTIONS: dict[str, bool] = {"svg": False}
"""How :func:`save_figure` saves: ``svg`` True writes an SVG beside each PNG (``sim report --svg``)."""


MAP_KINDS: tuple[tuple[str, str, str, bool], ...] = (
    ("gdp_per_capita_cny", "GDP per capita", "map_gdp_per_capita", False),
    ("gdp_per_capita_cny", "GDP per capita", "map_gdp_per_capita_vs_baseline", True),
    ("research_output", "research output", "map_research_output", False),
    ("research_output", "research output", "map_research_output_vs_baseline", True),
)
"""The map figures: (province column, what it is, file stem, against baseline)."""


RANKING_LIMIT = 8
"""At most this many bump charts (one per scenario) in a report."""


def ranking_groups(data: ReportData) -> list[str]:
    """The groups that get a bump chart (at most :data:`RANKING_LIMIT`; a note says when some do not)."""
    if data.province.empty or "research_output" not in data.province:
        return []
    present = set(data.province["group"].unique())
    groups = [g for g in data.groups if g in present]
    if len(groups) > RANKING_LIMIT:
        note = (f"Ranking charts are drawn for the first {RANKING_LIMIT} of {len(groups)} scenarios "
                "only (one chart each).")
        if note not in data.notes:
            data.notes.append(note)
        groups = groups[:RANKING_LIMIT]
    return groups


FIXED_JOBS: tuple[str, ...] = ("gini", "theil", "gdp", "research", "interior_share", "tradeoff")
"""The figure jobs before the maps, in report order (named after their makers, ``figure_<name>``)."""


def figure_names(data: ReportData) -> list[str]:
    """The names of the figure jobs of :func:`sim.report.figures.figure_jobs`, in the same order."""
    return [*FIXED_JOBS, *(f"maps ({stem})" for _, _, stem, _ in MAP_KINDS),
            *(f"rankings ({g})" for g in ranking_groups(data)), "adoption"]


class FigureCache:
    """Figures already drawn from the same results by the same code, kept in ``<results>/.report-cache/``.

    A figure depends only on the results and the code, so a report built again from unchanged results
    with unchanged code copies its figures from here instead of drawing them again. The key of a
    figure job is the hash of the code (:func:`sim.experiments.identity.code_hash`), the manifest,
    the name, size and modification time of every table part, whether SVG is written, and the job's
    name; entries of any other key are removed when a report is built. Nothing is cached when the
    results folder cannot be written.
    """

    def __init__(self, results: Path, svg: bool) -> None:
        from sim.experiments.identity import code_hash

        self.folder = results / ".report-cache" / "figures"
        digest = hashlib.sha256(code_hash().encode())
        digest.update((results / "manifest.json").read_bytes() if (results / "manifest.json").is_file() else b"")
        for table in ("national", "province", "events", "runs"):
            for part in sorted((results / table).glob("*.parquet")) if (results / table).is_dir() else []:
                stat = part.stat()
                digest.update(f"{table}/{part.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        digest.update(b"svg" if svg else b"png")
        self.base = digest.hexdigest()[:16]

    def _key(self, name: str) -> str:
        return f"{self.base}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"

    def prune(self) -> None:
        """Remove the entries of other results or other code."""
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                if not path.name.startswith(self.base):
                    path.unlink(missing_ok=True)

    def get(self, name: str, folder: Path) -> tuple[list[FigureFile], list[str]] | None:
        """The figures of job ``name`` copied into ``folder`` and the notes it made, or None when not cached."""
        key = self._key(name)
        try:
            entry = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            files = []
            for record in entry["figures"]:
                paths = {}
                for kind in ("png", "svg"):
                    if record[kind] is not None:
                        paths[kind] = folder / record[kind]
                        shutil.copyfile(self.folder / f"{key}-{record[kind]}", paths[kind])
                files.append(FigureFile(record["name"], record["section"], record["title"], record["caption"],
                                        paths["png"], paths.get("svg")))
            return files, list(entry["notes"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, name: str, files: list[FigureFile], notes: list[str]) -> None:
        """Keep the figures of job ``name`` (quietly nothing when the folder cannot be written)."""
        key = self._key(name)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            records = []
            for f in files:
                for path in (f.png, f.svg):
                    if path is not None:
                        shutil.copyfile(path, self.folder / f"{key}-{path.name}")
                records.append({"name": f.name, "section": f.section, "title": f.title, "caption": f.caption,
                                "png": f.png.name, "svg": f.svg.name if f.svg is not None else None})
            temporary = self.folder / f".{key}.json.{os.getpid()}"
            temporary.write_text(json.dumps({"figures": records, "notes": notes}), encoding="utf-8")
            os.replace(temporary, self.folder / f"{key}.json")  # the entry exists only once its files do
        except OSError as exc:
            log.info("figure cache not written (%s)", exc)


def collect_figures(data: ReportData, jobs: list[tuple[str, Any]],
                    results: list[tuple[Any, list[str], str | None]]) -> list[FigureFile]:
    """The figures of ``results`` in job order; notes and failures added to ``data.notes`` (once each)."""
    made: list[FigureFile] = []
    for (name, _), (files, notes, error) in zip(jobs, results, strict=True):
        for note in notes:
            if note not in data.notes:
                data.notes.append(note)
        if error is not None:
            data.notes.append(f"Figure {name} could not be drawn: {error}")
        made.extend(files or [])
    return made
