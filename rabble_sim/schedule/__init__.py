"""Schedule files: save a run, load and validate a file, replay it, shrink it."""

from ._format import (
    FORMAT as FORMAT,
    Schedule as Schedule,
    check_against as check_against,
    check_tags as check_tags,
    load as load,
    loads as loads,
)
from ._match import DIVERGENCES_SHOWN as DIVERGENCES_SHOWN, Divergence as Divergence
from ._reference import load_reference as load_reference, load_scenario as load_scenario
from ._replay import ReplayResult as ReplayResult, replay as replay, replay_events as replay_events
from ._shrink import ShrinkResult as ShrinkResult, shrink as shrink

__all__ = [
    "DIVERGENCES_SHOWN",
    "FORMAT",
    "Divergence",
    "ReplayResult",
    "Schedule",
    "ShrinkResult",
    "check_against",
    "check_tags",
    "load",
    "load_reference",
    "load_scenario",
    "loads",
    "replay",
    "replay_events",
    "shrink",
]
