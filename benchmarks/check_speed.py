"""How fast ``check`` (Hypothesis) finds and shrinks every reference bug, against ``run``.

Run from the repository root: ``python benchmarks/check_speed.py [--trials 5]``. For every
``bug_`` scenario of the bundled protocols, each trial searches once with Hypothesis
(``check``, another Hypothesis seed each trial, an empty example database) and once with a
seed sweep (``run``'s swarm strategy, from another first seed each trial), in the same
interpreter, alternating. Each search is timed to the failure it finds, then its failure is
shrunk by delta debugging within the command line's default budget (``rabble-sim check
--shrink-seconds``), as the commands do. Prints one JSON object per scenario and a table of
medians; the targets are those of issue 14: Omega's ``bug_round_not_persisted`` found in
under 5 s, and every bug found and shrunk in under 10 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bug_finding import bug_scenarios

from rabble_sim.cli._run import CHECK_SHRINK_SECONDS
from rabble_sim.schedule import Schedule, shrink
from rabble_sim.search import sweep
from rabble_sim.search._check import check
from rabble_sim.sim import RunResult, Scenario

PROTOCOLS = ("protocols.echo", "protocols.omega", "protocols.sets", "protocols.vr")
SEED_BUDGET = 1000
EXAMPLE_BUDGET = 1000


def search(scenario: Scenario, how: str, trial: int) -> RunResult | None:
    if how == "check":
        return check(scenario, examples=EXAMPLE_BUDGET, seed=trial, shrink=False).failure
    first = trial * SEED_BUDGET
    return sweep(scenario, range(first, first + SEED_BUDGET)).failure


def one(reference: str, scenario: Scenario, how: str, trial: int) -> tuple[float, float] | None:
    """Seconds to find the bug, and to find and shrink it; None if not found."""
    started = time.perf_counter()
    failure = search(scenario, how, trial)
    found = time.perf_counter() - started
    if failure is None:
        return None
    schedule = Schedule.from_run(failure, reference)
    shrink(schedule, scenario, seconds=CHECK_SHRINK_SECONDS)
    return found, time.perf_counter() - started


def measure(reference: str, scenario: Scenario, trials: int) -> dict[str, object]:
    times: dict[str, list[tuple[float, float]]] = {"check": [], "run": []}
    missed = {"check": 0, "run": 0}
    for trial in range(trials):
        for how in ("check", "run"):
            got = one(reference, scenario, how, trial)
            if got is None:
                missed[how] += 1
            else:
                times[how].append(got)
    row: dict[str, object] = {"scenario": reference, "trials": trials}
    for how, pairs in times.items():
        row[f"{how}_found"] = trials - missed[how]
        row[f"{how}_find_s"] = _median([f for f, _ in pairs])
        row[f"{how}_find_and_shrink_s"] = _median([t for _, t in pairs])
    return row


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--only", default="", help="a substring of the scenarios to measure")
    args = parser.parse_args()
    rows = [
        measure(reference, scenario, args.trials)
        for reference, scenario in bug_scenarios(PROTOCOLS)
        if args.only in reference
    ]
    for row in rows:
        print(json.dumps(row))
    worst = max((r["check_find_and_shrink_s"] or 0.0) for r in rows)  # type: ignore[type-var]
    print(json.dumps({"figure": "check_worst_find_and_shrink_s", "seconds": worst}))
    print()
    print(f"{'scenario':<48}{'check: found':>13}{'find s':>8}{'+shrink s':>10}"
          f"{'run: found':>12}{'find s':>8}{'+shrink s':>10}")  # fmt: skip
    for r in rows:
        print(
            f"{r['scenario']!s:<48}{r['check_found']!s:>13}{r['check_find_s']!s:>8}"
            f"{r['check_find_and_shrink_s']!s:>10}{r['run_found']!s:>12}{r['run_find_s']!s:>8}"
            f"{r['run_find_and_shrink_s']!s:>10}"
        )


if __name__ == "__main__":
    main()
