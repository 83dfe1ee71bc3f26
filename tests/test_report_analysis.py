"""Reports of validation and sensitivity folders: figures and statistics, one self-contained page."""

from __future__ import annotations

import json
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sim.errors import ResultsError  # noqa: E402
from sim.report import build_report  # noqa: E402
from sim.report.analysis import build_analysis_report  # noqa: E402


def analysis_folder(tmp_path, kind, figure, table_name, table):
    folder = tmp_path / kind
    (folder / "figures").mkdir(parents=True)
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    fig.savefig(folder / "figures" / figure)
    plt.close(fig)
    table.to_csv(folder / table_name, index=False)
    (folder / "manifest.json").write_text(json.dumps({"kind": kind, "created": "2026-01-01", "git_commit": "abc"}))
    return folder


def test_validation_folder_report(tmp_path):
    table = pd.DataFrame({"window": ["calibration"], "statistic": ["rmse_relative_growth"], "model": [0.02357]})
    folder = analysis_folder(tmp_path, "validation", "validation_growth.png", "statistics.csv", table)
    out = build_report(folder)
    assert out == folder / "report"
    page = (out / "report.html").read_text()
    assert "Validation against observed data" in page and "data:image/png;base64," in page
    assert "Hindcast: growth of GDP per capita by province" in page  # the caption of the figure
    assert "0.02357" in page and "abc" in page  # statistics and provenance
    markdown = (out / "report.md").read_text()
    assert "figures/validation_growth.png" in markdown and (out / "figures" / "validation_growth.png").is_file()


def test_sensitivity_folder_report_via_cli(tmp_path):
    table = pd.DataFrame({"outcome": ["gini"], "parameter": ["economy.catch_up_rate"], "S1": [0.55], "ST": [0.57]})
    folder = analysis_folder(tmp_path, "sensitivity", "sensitivity_indices.png", "indices.csv", table)
    proc = subprocess.run([sys.executable, "-m", "sim", "report", str(folder), "--out", str(tmp_path / "rep")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "rep" / "report.html").read_text()
    assert "Global sensitivity analysis" in page and "economy.catch_up_rate" in page


def test_folder_without_figures_is_refused(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"kind": "validation"}))
    with pytest.raises(ResultsError, match="holds no figures"):
        build_analysis_report(folder)
