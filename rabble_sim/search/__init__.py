"""Search: seed sweeps under a strategy, Hypothesis-driven search with shrinking,
exhaustive exploration, and the determinism self-check."""

from typing import TYPE_CHECKING

from ._determinism import (
    DeterminismReport as DeterminismReport,
    TraceDifference as TraceDifference,
    check_determinism as check_determinism,
)
from ._explore import (
    DEFAULT_MAX_STATES as DEFAULT_MAX_STATES,
    explore as explore,
    fingerprint as fingerprint,
)
from ._explore_report import ExploreReport as ExploreReport, Progress as Progress
from ._fingerprint import Fingerprints as Fingerprints
from ._guided import Guide as Guide, default_coverage as default_coverage
from ._saving import fail_with_schedule as fail_with_schedule, save_failure as save_failure
from ._strategies import (
    SEARCHES as SEARCHES,
    STRATEGIES as STRATEGIES,
    chooser_for as chooser_for,
)
from ._sweep import SweepReport as SweepReport, sweep as sweep
from ._workers import (
    SweepInterrupted as SweepInterrupted,
    WorkerDied as WorkerDied,
    default_workers as default_workers,
)

__all__ = [
    "DEFAULT_MAX_STATES",
    "SEARCHES",
    "STRATEGIES",
    "CheckReport",
    "DeterminismReport",
    "ExploreReport",
    "Fingerprints",
    "Guide",
    "Progress",
    "SweepInterrupted",
    "SweepReport",
    "TraceDifference",
    "WorkerDied",
    "check",
    "check_determinism",
    "chooser_for",
    "default_coverage",
    "default_workers",
    "explore",
    "fail_with_schedule",
    "fingerprint",
    "runs",
    "save_failure",
    "sweep",
]


if TYPE_CHECKING:  # typed for a type checker; imported on first use at run time
    from ._check import CheckReport as CheckReport, check as check, runs as runs


def __getattr__(name: str) -> object:
    # check() imports Hypothesis: only when it is asked for.
    if name in ("check", "CheckReport", "runs"):
        from . import _check  # noqa: PLC0415

        return getattr(_check, name)
    raise AttributeError(f"module 'rabble_sim.search' has no attribute {name!r}")
