"""Science-led regional growth: an agent-based model of China's provinces on Mesa.

The public API::

    from sim import RegionalGrowthModel, load_scenario, run_scenario      # one run
    from sim import load_experiment, run_batch                           # many runs
    from sim import build_report                                         # figures and report.html

Everything but the errors is imported on first use (the model and Mesa too), so that
``import sim`` stays light.
"""

from sim.errors import ExperimentError, ModelInvariantError, ResultsError, ScenarioError, SimError

__version__ = "0.1.0"

_LAZY = {
    # the model (and Mesa) load on first use, so that commands that only read results start fast
    "RunResult": ("sim.experiments.single", "RunResult"),
    "run_scenario": ("sim.experiments.single", "run_scenario"),
    "RegionalGrowthModel": ("sim.model", "RegionalGrowthModel"),
    "Scenario": ("sim.scenario", "Scenario"),
    "load_scenario": ("sim.scenario", "load_scenario"),
    "run_batch": ("sim.experiments.batch", "run_batch"),
    "load_experiment": ("sim.experiments.spec", "load_experiment"),
    "build_report": ("sim.report", "build_report"),
}

__all__ = [
    "ExperimentError",
    "ModelInvariantError",
    "RegionalGrowthModel",
    "ResultsError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SimError",
    "__version__",
    "build_report",
    "load_experiment",
    "load_scenario",
    "run_batch",
    "run_scenario",
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
