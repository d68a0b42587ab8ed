"""Bug finding: for every ``bug_`` scenario in ``protocols/`` and every strategy, whether the
bug is found within a budget, the median time to find it, and how short the shrunk schedule
is against the shortest known.

Run from the repository root: ``python benchmarks/bug_finding.py [--trials 5]``. Prints one
JSON object per (scenario, strategy) and a table. Each trial starts from another seed (for
Hypothesis: another Hypothesis seed), so the median is over independent searches; the
shortest known schedule is the shortest any trial of any strategy shrank to.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rabble_sim.schedule import Schedule, shrink
from rabble_sim.search import SEARCHES, sweep
from rabble_sim.search._check import check
from rabble_sim.sim import RunResult, Scenario

PROTOCOLS = (
    "protocols.echo", "protocols.omega", "protocols.sets", "protocols.vr", "protocols.lease",
    "protocols.votes", "protocols.checkquorum", "protocols.election", "protocols.lock",
)  # fmt: skip
SEED_BUDGET = 1000
EXAMPLE_BUDGET = 200


def bug_scenarios(protocols: tuple[str, ...] = PROTOCOLS) -> list[tuple[str, Scenario]]:
    """Every ``bug_`` scenario of ``protocols``, as (``MODULE:NAME``, scenario)."""
    found = []
    for module_name in protocols:
        module = importlib.import_module(module_name)
        for name in sorted(vars(module)):
            value = getattr(module, name)
            if name.startswith("bug_") and isinstance(value, Scenario):
                found.append((f"{module_name}:{name}", value))
    return found


def search(scenario: Scenario, strategy: str, trial: int) -> RunResult | None:
    if strategy == "hypothesis":
        return check(scenario, examples=EXAMPLE_BUDGET, seed=trial).failure
    first = trial * SEED_BUDGET
    return sweep(scenario, range(first, first + SEED_BUDGET), strategy=strategy).failure


def measure(reference: str, scenario: Scenario, strategy: str, trials: int) -> dict[str, object]:
    seconds, lengths, found = [], [], 0
    for trial in range(trials):
        started = time.perf_counter()
        failure = search(scenario, strategy, trial)
        seconds.append(time.perf_counter() - started)
        if failure is None:
            continue
        found += 1
        schedule = Schedule.from_run(failure, reference)
        lengths.append(len(shrink(schedule, scenario).schedule.events))
    return {
        "figure": "bug_finding",
        "scenario": reference,
        "strategy": strategy,
        "found": found,
        "trials": trials,
        "median_seconds_to_find": round(statistics.median(seconds), 3),
        "median_shrunk_length": statistics.median(lengths) if lengths else None,
        "shortest_shrunk_length": min(lengths) if lengths else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--strategies", default=",".join([*SEARCHES, "hypothesis"]))
    args = parser.parse_args()
    rows = [
        measure(reference, scenario, strategy, args.trials)
        for reference, scenario in bug_scenarios()
        for strategy in args.strategies.split(",")
    ]
    shortest: dict[str, int] = {}
    for row in rows:
        length = row["shortest_shrunk_length"]
        if isinstance(length, int | float):
            ref = str(row["scenario"])
            shortest[ref] = min(shortest.get(ref, int(length)), int(length))
    for row in rows:
        median = row["median_shrunk_length"]
        best = shortest.get(str(row["scenario"]))
        row["shrunk_over_shortest"] = round(float(median) / best, 2) if median and best else None  # type: ignore[arg-type]
        print(json.dumps(row), flush=True)
    print()
    head = f"{'scenario':<52}{'strategy':<12}{'found':>7}{'median s':>10}{'shrunk':>8}{'/best':>7}"
    print(head)
    for row in rows:
        found = f"{row['found']}/{row['trials']}"
        print(
            f"{row['scenario']!s:<52}{row['strategy']!s:<12}{found:>7}"
            f"{row['median_seconds_to_find']!s:>10}{row['median_shrunk_length']!s:>8}"
            f"{row['shrunk_over_shortest']!s:>7}"
        )


if __name__ == "__main__":
    main()
