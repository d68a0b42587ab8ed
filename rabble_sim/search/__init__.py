"""Search: sweeps over seeds, looking for a run that violates a check."""

from ._sweep import SweepReport as SweepReport, sweep as sweep

__all__ = ["SweepReport", "sweep"]
