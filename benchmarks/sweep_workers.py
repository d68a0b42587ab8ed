"""Seed sweeps on several cores: seeds per second with N workers against one, in one run.

Run from the repository root: ``python benchmarks/sweep_workers.py [--repeat 5]
[--seeds 600] [--workers 2]``. Each measurement is a whole sweep of a correct scenario (so
that every seed runs), timed from the call to the report, the workers' forks included;
the baseline is the same sweep with one worker, measured in the same run, alternating with
the other so that the machine's noise falls on both. Prints one JSON object per scenario
(medians of ``--repeat``, and the ratio of the medians), then a table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rabble_sim.schedule import load_scenario  # noqa: E402
from rabble_sim.search import default_workers, sweep  # noqa: E402

SCENARIOS = ("protocols.omega:scenario", "protocols.votes:scenario", "protocols.vr:scenario")


def seeds_per_second(reference: str, seeds: int, workers: int) -> float:
    scenario = load_scenario(reference)
    started = time.perf_counter()
    report = sweep(scenario, range(seeds), workers=workers)
    seconds = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"{reference} failed seed {report.failure and report.failure.seed}")
    return report.seeds / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=600)
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    rows = []
    for reference in SCENARIOS:
        one: list[float] = []
        many: list[float] = []
        for _ in range(args.repeat):
            one.append(seeds_per_second(reference, args.seeds, 1))
            many.append(seeds_per_second(reference, args.seeds, args.workers))
        row = {
            "figure": "sweep_workers",
            "scenario": reference,
            "seeds": args.seeds,
            "workers": args.workers,
            "one_worker_seeds_per_s": round(statistics.median(one), 1),
            "workers_seeds_per_s": round(statistics.median(many), 1),
            "speedup": round(statistics.median(many) / statistics.median(one), 2),
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    print(f"\n{'scenario':28} {'1 worker':>10} {f'{args.workers} workers':>10} {'speedup':>8}")
    for row in rows:
        print(
            f"{row['scenario']:28} {row['one_worker_seeds_per_s']:>10} "
            f"{row['workers_seeds_per_s']:>10} {row['speedup']:>8}"
        )


if __name__ == "__main__":
    main()
