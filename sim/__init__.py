"""Science-led regional growth: an agent-based model of China's provinces on Mesa."""

from sim.errors import ExperimentError, ModelInvariantError, ResultsError, ScenarioError, SimError
from sim.model import RegionalGrowthModel
from sim.scenario import Scenario, load_scenario

__version__ = "0.1.0"

__all__ = [
    "ExperimentError",
    "ModelInvariantError",
    "RegionalGrowthModel",
    "ResultsError",
    "Scenario",
    "ScenarioError",
    "SimError",
    "__version__",
    "load_scenario",
]
