"""``rabble-sim mutants``: a planted bug the checks see is killed; one they cannot see
survives and is shown as its diff; a scenario that fails unmutated is refused."""

from __future__ import annotations

import json
from pathlib import Path

from rabble_sim.search._mutants import mutants_of

from .conftest import Cli

COUNTER = '''
"""A process that counts its timeouts up to three."""

from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, Scenario, View, start_timer


@attrs.define
class Counter:
    pid: Pid
    count: int = 0

    def init(self, output: list[Envelope]) -> None:
        output.append(start_timer(self.pid, 10, CorrelationId(self.pid, 1)))

    def handle(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if self.count < 3:
            self.count += 1
            output.append(start_timer(self.pid, 10, CorrelationId(self.pid, 1)))


def at_most_three(view: View) -> None:
    for proc in view.processes.values():
        assert proc.count <= 3, f"counted to {proc.count}"


def start(node: str, durable: Any) -> list[Counter]:
    return [Counter(Pid("counter", node))]


scenario = Scenario("counter", ["a"], start, invariants=[at_most_three], max_steps=20)
'''


def test_mutants_kills_what_the_checks_see_and_shows_what_they_do_not(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / "counter.py").write_text(COUNTER)
    done = cli("mutants", "counter:scenario", "counter.py", "--seeds", "3", "--json")
    assert done.returncode == 1, done.stderr  # some survived
    report = json.loads(done.stdout)
    assert report["killed"] + report["survived"] + report["errors"] == report["mutants"]
    assert report["killed"] >= 2 and 0 < report["score"] < 1
    survivors = {s["description"]: s for s in report["survivors"]}
    # Counting to three is never checked: a counter that never counts goes unseen.
    deleted = survivors["deleted: self.count += 1"]
    assert "-            self.count += 1\n+            pass\n" in deleted["diff"]
    assert "flip < -> <=" not in survivors, "counting to four breaks at_most_three"


def test_mutants_names_each_mutation_by_its_exact_span(tmp_path: Path) -> None:
    path = tmp_path / "counter.py"
    path.write_text(COUNTER)
    described = [m.description for m in mutants_of(path)]
    assert "flip < -> <=" in described and "flip <= -> <" in described
    assert "constant 3 -> 4" in described and "constant 10 -> 11" in described
    assert all(not d.startswith("deleted: COUNTER") for d in described)
    for mutant in mutants_of(path):
        changed = [line for line in mutant.diff.splitlines() if line.startswith(("-", "+"))]
        assert len(changed) == 4, mutant.diff  # the two file names, one line out, one in


def test_a_scenario_that_fails_unmutated_is_refused(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        COUNTER.replace("assert proc.count <= 3", "assert proc.count <= 1")
    )
    done = cli("mutants", "bad:scenario", "bad.py", "--seeds", "2")
    assert done.returncode == 2
    assert "fails before any mutation" in done.stderr and "Traceback" not in done.stderr
