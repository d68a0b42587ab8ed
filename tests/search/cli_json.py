"""What ``rabble-sim run --json`` prints and saves for a known bug, without its timings: the
report two ways of running the same sweep must agree on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_json(
    reference: str, seeds: int, save_dir: Path, *options: str
) -> tuple[dict[str, object], dict[str, object]]:
    """``run REFERENCE --seeds SEEDS --json OPTIONS`` from the project's root, which must find
    a violation: its JSON report without the timings, and the schedule it saved."""
    done = subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", "run", reference, "--seeds", str(seeds),
         "--save-dir", str(save_dir), "--json", *options],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    saved = json.loads(Path(str(data.pop("schedule"))).read_text())
    for timing in ("seconds", "steps_per_second"):
        data.pop(timing)
    return data, saved
