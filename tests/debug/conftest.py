"""Shared by the debugger's tests: sessions on the curated schedules, and outside tools."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rabble_sim.debug import DebugSession

ROOT = Path(__file__).resolve().parents[2]
SCHEDULES = ROOT / "schedules"
WALKTHROUGH = SCHEDULES / "omega" / "leader-change-under-partition.json"
"""300 steps, no violation: a partition, a heal, leader changes."""
ROUND_BUG = SCHEDULES / "omega" / "round-not-persisted.json"
"""Fails its liveness check at its last step, after a crash and a restart."""
SHARED_CACHE = SCHEDULES / "echo" / "shared-cache.json"
"""A short schedule that fails an invariant."""


@pytest.fixture
def walkthrough() -> DebugSession:
    return DebugSession.open(WALKTHROUGH, snapshot_every=16)


@pytest.fixture
def round_bug() -> DebugSession:
    return DebugSession.open(ROUND_BUG, snapshot_every=16)


@pytest.fixture
def shared_cache() -> DebugSession:
    return DebugSession.open(SHARED_CACHE)


def require_tool(name: str) -> str:
    """The path of an outside program the test needs. Missing, the test skips, unless
    ``RABBLE_SIM_REQUIRE_TOOLS`` is set (as ``.ci/run`` does): then it fails."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("RABBLE_SIM_REQUIRE_TOOLS"):
            pytest.fail(f"{name} is required (RABBLE_SIM_REQUIRE_TOOLS is set) but not found")
        pytest.skip(f"{name} is not installed (.ci/run installs it)")
    return path
