"""The fresh interpreter of the determinism check (``check_determinism``): runs seeds of
a scenario and writes each run's trace, as plain data, to ``OUT/SEED.json``.

Private: ``python -m rabble_sim.search._determinism_child MODULE:SCENARIO --out DIR
[--strategy S] [--step-timeout T] SEED...``. It exits non-zero, with one line on stderr,
when a run cannot be made at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core import RabbleError
from ..schedule import load_scenario
from ._determinism import traced_run
from ._strategies import STRATEGIES


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="rabble_sim.search._determinism_child")
    parser.add_argument("reference")
    parser.add_argument("seeds", type=int, nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--strategy", choices=STRATEGIES, default="swarm")
    parser.add_argument("--step-timeout", type=float, default=0.0)
    args = parser.parse_args(argv)
    try:
        scenario = load_scenario(args.reference)
        for seed in args.seeds:
            traced = traced_run(scenario, seed, args.strategy, args.step_timeout or None)
            (args.out / f"{seed}.json").write_text(json.dumps(traced), encoding="utf-8")
    except RabbleError as e:
        sys.exit(f"rabble-sim: error: {' '.join(str(e).split())}")


if __name__ == "__main__":
    main(sys.argv[1:])
