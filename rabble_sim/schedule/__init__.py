"""Schedule files: save a run, load and validate a file, replay it against today's code."""

from ._format import FORMAT as FORMAT
from ._format import Schedule as Schedule
from ._format import load as load
from ._format import loads as loads
from ._reference import load_scenario as load_scenario
from ._replay import ReplayResult as ReplayResult
from ._replay import replay as replay

__all__ = ["FORMAT", "ReplayResult", "Schedule", "load", "load_scenario", "loads", "replay"]
