"""The pytest plugin: --rabble-seeds and the rabble_sweep fixture, in a real pytest run."""

from __future__ import annotations

import json
import subprocess
import sys
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
    for strategy in ("random", "pct"):
        pytester.runpytest("--rabble-seeds", "7", "--rabble-strategy", strategy).assert_outcomes(
            passed=1
        )


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


COUNTER = """
import attrs
from rabble_sim import Envelope, Pid, Scenario, message

LIMIT = {limit}

@message("plugin.bump")
@attrs.frozen
class Bump:
    by: int

@attrs.define
class Counter:
    pid: Pid
    total: int = 0

    def init(self, output):
        if self.pid.node == "a":
            for by in (1, 2, 3):
                output.append(Envelope(Pid("counter", "b"), self.pid, Bump(by)))

    def handle(self, msg, from_, cid, output):
        self.total += msg.by

def below_limit(view):
    for proc in view.processes.values():
        assert proc.total <= LIMIT, f"total {{proc.total}} is over {{LIMIT}}"

start = lambda node, durable: [Counter(Pid("counter", node))]
scenario = Scenario("counter", ["a", "b"], start, [below_limit])
"""


def saved_schedule(pytester: pytest.Pytester, folder: str, *, expect: str | None = None) -> Path:
    """Find the counter bug with the real command line and keep its schedule in ``folder``."""
    pytester.makepyfile(counter=COUNTER.format(limit=4))
    command = ["run", "counter:scenario", "--save-dir", folder, "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", *command],
        cwd=pytester.path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    path = Path(pytester.path, json.loads(done.stdout)["schedule"])
    if expect is not None:
        data = json.loads(path.read_text())
        data["expect"] = expect
        path.write_text(json.dumps(data))
    return path


def test_a_regression_fails_while_the_bug_is_there_and_passes_once_fixed(
    pytester: pytest.Pytester,
) -> None:
    path = saved_schedule(pytester, "regressions/counter")
    result = pytester.runpytest("regressions")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{path.name}*violation still occurs at step*below_limit*"])
    result.stdout.fnmatch_lines(["*>> *deliver #*counter::a -> counter::b: plugin.bump(by=*"])
    pytester.makepyfile(counter=COUNTER.format(limit=6))  # the fix
    pytester.runpytest("regressions").assert_outcomes(passed=1)


def test_a_known_bug_demonstration_passes_only_while_it_reproduces(
    pytester: pytest.Pytester,
) -> None:
    saved_schedule(pytester, "schedules/demo", expect="violation")
    pytester.runpytest("schedules").assert_outcomes(passed=1)
    pytester.makepyfile(counter=COUNTER.format(limit=6))
    result = pytester.runpytest("schedules")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*this known bug no longer reproduces: the replay found no violation*"]
    )


def test_a_broken_schedule_file_is_a_failure_that_names_the_problem(
    pytester: pytest.Pytester,
) -> None:
    folder = pytester.mkdir("regressions")
    (folder / "broken.json").write_text('{"format": "rabble-sim/schedule@1", "events": [')
    (folder / "notes.txt").write_text("not collected")
    result = pytester.runpytest("regressions")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*broken.json: not valid JSON*"])


def test_json_files_elsewhere_are_not_collected(pytester: pytest.Pytester) -> None:
    pytester.mkdir("data").joinpath("x.json").write_text("{}")
    pytester.runpytest("data").assert_outcomes()
