"""``rabble-sim explore``: exit codes, --json fields, the saved counterexample, bounds,
symmetry and bad input."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.cli.test_run import LOCK, RAISES, UNCOPYABLE

Cli = Callable[..., subprocess.CompletedProcess[str]]

SYMMETRIC = (
    LOCK
    + """
symmetric = Scenario("lock-sym", ["s", "a", "b", "c"], start(True), [one_holder], Faults(drop=0.1),
                     symmetry=[["a", "b", "c"]])
"""
)


def test_a_violation_exits_1_with_a_shortest_schedule_that_replays(
    cli: Cli, write_module: Callable[..., Path], tmp_path: Path
) -> None:
    write_module("lock", LOCK)
    done = cli("explore", "lock:bug_no_check", "--depth", "8", "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False and report["exhausted"] is False
    assert report["violation"]["check"] == "one_holder"
    # Two requests delivered and two grants: the shortest way to two holders.
    assert report["step"] == 4 and report["depth"] == 4
    assert {"states", "unique", "seconds"} <= report.keys()
    saved = tmp_path / report["schedule"]
    assert saved.parent == tmp_path / "regressions" / "lock-bug"
    assert len(json.loads(saved.read_text())["events"]) == 4
    replayed = cli("replay", str(saved), "--json")
    assert replayed.returncode == 1
    assert json.loads(replayed.stdout)["reproduced"] is True
    shown = cli("explore", "lock:bug_no_check", "--save-dir", "found")
    assert shown.returncode == 1
    assert "no shorter path leads to a violation" in shown.stdout
    assert list((tmp_path / "found").glob("*.json"))


def test_a_correct_scenario_exits_0_and_says_whether_the_space_was_exhausted(
    cli: Cli, write_module: Callable[..., Path]
) -> None:
    write_module("lock", LOCK)
    whole = cli("explore", "lock:scenario", "--json")
    assert whole.returncode == 0, whole.stderr
    report = json.loads(whole.stdout)
    assert report["ok"] and report["exhausted"] and report["complete"]
    assert report["unique"] <= report["states"]
    assert "violation" not in report
    bounded = cli("explore", "lock:scenario", "--depth", "2")
    assert bounded.returncode == 0
    assert "no violation within 2 steps" in bounded.stdout
    cut = cli("explore", "lock:scenario", "--max-states", "5", "--json")
    assert cut.returncode == 0
    assert json.loads(cut.stdout)["exhausted"] is False
    said = cli("explore", "lock:scenario", "--max-states", "5")
    assert "--max-states cut the search" in said.stdout


def test_symmetry_is_on_when_declared_and_keeps_the_verdict(
    cli: Cli, write_module: Callable[..., Path]
) -> None:
    write_module("lock", SYMMETRIC)
    on = json.loads(cli("explore", "lock:symmetric", "--json").stdout)
    off = json.loads(cli("explore", "lock:symmetric", "--no-symmetry", "--json").stdout)
    assert on["symmetry"] is True and off["symmetry"] is False
    assert on["ok"] and off["ok"] and on["complete"] and off["complete"]
    assert on["unique"] < off["unique"]
    refused = cli("explore", "lock:scenario", "--symmetry")
    assert refused.returncode == 2
    assert "declares no symmetry" in refused.stderr


def test_a_known_bug_exits_0_when_found(
    cli: Cli, write_module: Callable[..., Path], tmp_path: Path
) -> None:
    write_module("lock", LOCK)
    done = cli("explore", "lock:bug_no_check", "--expect", "violation", "--json")
    assert done.returncode == 0
    saved = json.loads((tmp_path / json.loads(done.stdout)["schedule"]).read_text())
    assert saved["expect"] == "violation"
    assert cli("explore", "lock:scenario", "--expect", "violation").returncode == 1


def test_protocol_code_that_raises_is_a_violation(
    cli: Cli, write_module: Callable[..., Path]
) -> None:
    write_module("boom", RAISES)
    done = cli("explore", "boom:scenario", "--json")
    assert done.returncode == 1
    assert "KeyError" in json.loads(done.stdout)["violation"]["message"]


def test_bad_usage_exits_2_with_one_line(cli: Cli, write_module: Callable[..., Path]) -> None:
    write_module("lock", LOCK)
    for args in (
        ["lock:nothing"],
        ["nomodule:scenario"],
        ["lock:scenario", "--order", "sideways"],
        ["lock:scenario", "--depth", "-1"],
        ["lock:scenario", "--max-states", "0"],
    ):
        done = cli("explore", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr


def test_a_process_that_cannot_be_copied_is_a_clear_error(
    cli: Cli, write_module: Callable[..., Path]
) -> None:
    write_module("locked", UNCOPYABLE)
    done = cli("explore", "locked:scenario")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "l::n cannot be copied to explore from two states: its field 'guard'" in done.stderr
    assert "Traceback" not in done.stderr


def test_liveness_runs_the_fair_ending_from_every_state_and_saves_it(
    cli: Cli, tmp_path: Path
) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {"PYTHONPATH": str(root)}
    plain = cli("explore", "protocols.omega:bug_no_self", "--depth", "2", "--json", env=env)
    assert plain.returncode == 0, "never stuck: the heartbeats go on"
    done = cli(
        "explore", "protocols.omega:bug_no_self", "--depth", "2", "--liveness", "--json", env=env
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["violation"]["check"] == "liveness agree_on_smallest"
    saved = json.loads((tmp_path / report["schedule"]).read_text())
    assert saved["liveness_from"] == 1, "the faults stop at once; then the liveness phase"
    replayed = cli("replay", report["schedule"], "--json", env=env)
    assert replayed.returncode == 1 and json.loads(replayed.stdout)["reproduced"] is True


PICKS = """
import attrs
from rabble_sim import CorrelationId, Inputs, Pid, Scenario, message
from rabble_sim.core import get_random


@message("picks.number")
@attrs.frozen
class Number:
    n: int


@attrs.define
class Picker:
    pid: Pid
    number: int = 0

    def init(self, output):
        output.append(get_random(self.pid, 2, CorrelationId(self.pid)))

    def handle(self, msg, from_, cid, output):
        self.number = getattr(msg, "n", 0)


scenario = Scenario(
    "picks", ["a"], lambda node, durable: [Picker(Pid("p", node))],
    inputs=Inputs([Pid("p", "a")], lambda draw: Number(draw.integer(0, 99)), max=1),
)
"""


def test_what_exploration_did_not_try_is_said(cli: Cli, write_module: Callable[..., Path]) -> None:
    """Inputs beyond the 64 of an offer that exploration tries, and random numbers taken
    as 0: no violation, but not "the whole space"."""
    write_module("picks", PICKS)
    done = cli("explore", "picks:scenario")
    assert done.returncode == 0, done.stderr
    assert "not every state within" in done.stdout
    assert "in 2 states an input could be more than the 64" in done.stdout
    assert "random numbers and message delays were taken as 0" in done.stdout
    report = json.loads(cli("explore", "picks:scenario", "--json").stdout)
    assert report["inputs_cut"] == 2 and report["drew"] is True  # before the random value, after
    assert report["ok"] and not report["exhausted"] and not report["complete"]
