"""The pytest plugin: --rabble-seeds and the rabble_sweep fixture, in a real pytest run."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TESTS = """
import attrs
from rabble_sim import Envelope, Pid, Scenario, message

@message("plugin.hello")
@attrs.frozen
class Hello:
    pass

@attrs.define
class Greeter:
    pid: Pid
    greeted: int = 0

    def init(self, output):
        output.append(Envelope(Pid("g", "b" if self.pid.node == "a" else "a"), self.pid, Hello()))

    def handle(self, msg, from_, cid, output):
        self.greeted += 1

def at_most_one_greeting(view):
    assert sum(p.greeted for p in view.processes.values()) <= LIMIT, "too many greetings"

LIMIT = {limit}
start = lambda node, durable: [Greeter(Pid("g", node))]
scenario = Scenario("greet", ["a", "b"], start, [at_most_one_greeting])

def test_greet(rabble_sweep, rabble_seeds):
    report = rabble_sweep(scenario, reference="test_greet:scenario")
    assert report.seeds == rabble_seeds
"""


def test_a_passing_scenario_runs_the_requested_seeds(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_greet=TESTS.format(limit=2))
    result = pytester.runpytest("--rabble-seeds", "7", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_violation_fails_the_test_and_saves_a_replayable_schedule(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_greet=TESTS.format(limit=1))
    result = pytester.runpytest("--rabble-seeds", "3", "--rabble-save-dir", "saved")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*greet: seed 0, step 2: at_most_one_greeting: too many greetings*"]
    )
    saved = list(Path(pytester.path, "saved").glob("*.json"))
    assert len(saved) == 1
    result.stdout.fnmatch_lines([f"*rabble-sim replay saved/{saved[0].name}*"])
