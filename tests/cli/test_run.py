"""``rabble-sim run``: exit codes, --json fields, saved schedules, and bad input."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]

LOCK = """
import attrs
from rabble_sim import Envelope, Faults, Pid, Scenario, message

@message("t.take")
@attrs.frozen
class Take:
    pass

@message("t.given")
@attrs.frozen
class Given:
    pass

@attrs.define
class Server:
    pid: Pid
    careful: bool
    given: bool = False

    def handle(self, msg, from_, cid, output):
        if isinstance(msg, Take) and (not self.given or not self.careful):
            self.given = True
            output.append(Envelope(from_, self.pid, Given()))

@attrs.define
class Client:
    pid: Pid
    holding: bool = False

    def init(self, output):
        output.append(Envelope(Pid("server", "s"), self.pid, Take()))

    def handle(self, msg, from_, cid, output):
        self.holding = True

def one_holder(view):
    holders = [p for p, proc in view.processes.items() if getattr(proc, "holding", False)]
    assert len(holders) <= 1, f"two holders: {sorted(map(str, holders))}"

def start(careful):
    def build(node, durable):
        return [Server(Pid("server", "s"), careful)] if node == "s" else [Client(Pid("c", node))]
    return build

scenario = Scenario("lock", ["s", "a", "b"], start(True), [one_holder], Faults(drop=0.1))
bug_no_check = Scenario("lock-bug", ["s", "a", "b"], start(False), [one_holder])
"""

RAISES = """
import attrs
from rabble_sim import Envelope, Pid, Scenario, message

@message("t.poke")
@attrs.frozen
class Poke:
    pass

@attrs.define
class Boom:
    pid: Pid

    def init(self, output):
        output.append(Envelope(self.pid, self.pid, Poke()))

    def handle(self, msg, from_, cid, output):
        raise KeyError("no such key")

scenario = Scenario("boom", ["n"], lambda node, durable: [Boom(Pid("boom", node))])
"""


def test_a_bug_is_found_saved_and_replays(
    cli: Cli, write_module: Callable[..., Path], tmp_path: Path
) -> None:
    write_module("lock", LOCK)
    done = cli("run", "lock:bug_no_check", "--seeds", "50", "--save-dir", "saved", "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert report["violation"]["check"] == "one_holder"
    assert "two holders" in report["violation"]["message"]
    saved = tmp_path / report["schedule"]
    assert saved.parent == tmp_path / "saved"
    schedule = json.loads(saved.read_text())
    assert schedule["scenario"] == "lock:bug_no_check"
    assert schedule["violation"]["check"] == "one_holder"
    assert len(schedule["events"]) == report["step"]
    replayed = cli("replay", str(saved), "--json")
    assert replayed.returncode == 1
    assert json.loads(replayed.stdout)["reproduced"] is True


def test_the_default_save_dir_is_regressions_by_scenario_name(
    cli: Cli, write_module: Callable[..., Path], tmp_path: Path
) -> None:
    write_module("lock", LOCK)
    done = cli("run", "lock:bug_no_check", "--seeds", "50")
    assert done.returncode == 1
    saved = list((tmp_path / "regressions" / "lock-bug").glob("*.json"))
    assert len(saved) == 1
    assert str(saved[0].relative_to(tmp_path)) in done.stdout
    # The same failure, found again, is saved once.
    assert cli("run", "lock:bug_no_check", "--seeds", "50").returncode == 1
    assert len(list((tmp_path / "regressions" / "lock-bug").glob("*.json"))) == 1


@pytest.mark.parametrize("command", ["run", "check"])
def test_a_known_bug_exits_0_when_found_and_is_kept_under_schedules(
    cli: Cli, write_module: Callable[..., Path], tmp_path: Path, command: str
) -> None:
    write_module("lock", LOCK)
    done = cli(command, "lock:bug_no_check", "--expect", "violation", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["expect"] == "violation" and report["violation"]["check"] == "one_holder"
    (saved,) = (tmp_path / "schedules" / "lock-bug").glob("*.json")
    assert json.loads(saved.read_text())["expect"] == "violation"
    assert not (tmp_path / "regressions").exists()
    # The demonstration replays as a pass while the bug is there.
    assert cli("replay", str(saved)).returncode == 1  # replay reports the violation itself
    missed = cli(command, "lock:scenario", "--expect", "violation", "--seed", "1")
    assert missed.returncode == 1
    assert "the known bug was not found" in missed.stdout


def test_a_correct_scenario_passes_with_a_summary(
    cli: Cli, write_module: Callable[..., Path]
) -> None:
    write_module("lock", LOCK)
    done = cli("run", "lock:scenario", "--seeds", "200")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no violation in 200 seeds" in done.stdout
    assert "steps/s" in done.stdout and "deliver" in done.stdout


def test_json_fields_and_digest_do_not_depend_on_the_hash_seed(
    cli: Cli, write_module: Callable[..., Path]
) -> None:
    write_module("lock", LOCK)
    runs = [
        json.loads(cli("run", "lock:scenario", "--seed", "7", "--json", hash_seed=h).stdout)
        for h in "12"
    ]
    assert runs[0]["trace_digest"] == runs[1]["trace_digest"]
    assert runs[0]["ok"] is True and runs[0]["seeds"] == 1 and runs[0]["steps"] > 0
    other = json.loads(cli("run", "lock:scenario", "--seed", "8", "--json").stdout)
    assert other["trace_digest"] != runs[0]["trace_digest"]


def test_an_exception_in_handle_is_a_violation_naming_the_step(
    cli: Cli, write_module: Callable[..., Path]
) -> None:
    write_module("boom", RAISES)
    done = cli("run", "boom:scenario", "--seed", "0")
    assert done.returncode == 1
    assert "step 1" in done.stdout
    assert "exception in handle of boom::n" in done.stdout
    assert "KeyError" in done.stdout  # the user's traceback is shown
    report = json.loads(cli("run", "boom:scenario", "--seed", "0", "--json").stdout)
    assert report["step"] == 1 and "KeyError('no such key')" in report["violation"]["message"]


def test_bad_references_exit_2_with_one_line(cli: Cli, write_module: Callable[..., Path]) -> None:
    write_module("lock", LOCK)
    cases = {
        "no_such_module:scenario": "no such module",
        "lock:nothing": "lock:nothing does not exist; scenarios there: bug_no_check, scenario",
        "lock:Take": "is not a Scenario",
        "lock": "is not MODULE:SCENARIO",
    }
    for reference, reason in cases.items():
        done = cli("run", reference)
        assert done.returncode == 2, reference
        assert done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and reason in lines[0], done.stderr
        assert "Traceback" not in done.stderr


def test_a_module_that_fails_to_import_is_a_usage_error(
    cli: Cli, write_module: Callable[..., Path]
) -> None:
    write_module("broken", "def oops(:\n")
    done = cli("run", "broken:scenario")
    assert done.returncode == 2
    assert "cannot import module 'broken': SyntaxError" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_options_exit_2(cli: Cli) -> None:
    done = cli("run", "x:y", "--seeds", "0")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1


PRINTS_AND_BREAKS = """
import attrs
from rabble_sim import Envelope, Pid, Scenario, message

print("hello from the protocol")

@message("t.loop")
@attrs.frozen
class Loop:
    items: list

@attrs.define
class Sender:
    pid: Pid

    def init(self, output):
        items = []
        items.append(items)  # a message that contains itself
        output.append(Envelope(self.pid, self.pid, Loop(items)))

    def handle(self, msg, from_, cid, output):
        pass

cyclic = Scenario("cyclic", ["n"], lambda node, durable: [Sender(Pid("s", node))])
"""


def test_more_bad_input_is_one_line_and_exit_2(
    cli: Cli, write_module: Callable[..., Path], tmp_path: Path
) -> None:
    write_module("lock", LOCK)
    write_module("weird", PRINTS_AND_BREAKS)
    write_module("exits", "import sys\nsys.exit(0)\n")
    write_module("badfields", LOCK + "\nbad = Scenario('x', {'a', 'b'}, start(True))\n")
    (tmp_path / "afile").write_text("")
    cases = [
        (("run", "lock:bug_no_check", "--save-dir", "afile/sub"), "cannot save the schedule"),
        (("run", "exits:x"), "cannot import module 'exits': SystemExit"),
        (("run", "badfields:bad"), "Scenario.nodes must be a list or tuple of names, not a set"),
    ]
    for args, reason in cases:
        done = cli(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and reason in lines[0], (args, done.stderr)


def test_run_shrinks_before_saving_and_every_strategy_finds_the_bug(
    cli: Cli, write_module: Callable[..., Path], tmp_path: Path
) -> None:
    write_module("lock", LOCK)
    for strategy in ("random", "swarm", "pct", "hypothesis"):
        done = cli(
            "run", "lock:bug_no_check", "--strategy", strategy, "--save-dir", strategy, "--json"
        )
        assert done.returncode == 1, (strategy, done.stderr)
        report = json.loads(done.stdout)
        assert report["strategy"] == strategy
        assert report["shrunk"]["to"] == 4 <= report["shrunk"]["from"]
        saved = json.loads((tmp_path / report["schedule"]).read_text())
        assert len(saved["events"]) == 4
    unshrunk = json.loads(cli("run", "lock:bug_no_check", "--no-shrink", "--json").stdout)
    assert unshrunk["shrunk"]["from"] == unshrunk["shrunk"]["to"]


def test_swarm_is_the_default_and_reports_its_fault_mixes(
    cli: Cli, write_module: Callable[..., Path]
) -> None:
    write_module("lock", LOCK)
    done = cli("run", "lock:scenario", "--seeds", "50")
    assert done.returncode == 0
    assert "swarm · seeds 50" in done.stdout
    assert "fault mixes: drop in" in done.stdout and "of 50 seeds" in done.stdout


def test_check_finds_shrinks_and_saves(
    cli: Cli, write_module: Callable[..., Path], tmp_path: Path
) -> None:
    write_module("lock", LOCK)
    done = cli("check", "lock:bug_no_check", "--examples", "50", "--seed", "1", "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["strategy"] == "hypothesis" and report["violation"]["check"] == "one_holder"
    assert cli("replay", str(tmp_path / report["schedule"])).returncode == 1
    assert cli("check", "lock:scenario", "--examples", "20", "--seed", "1").returncode == 0


def test_shrink_writes_a_shorter_schedule_that_still_fails(
    cli: Cli, write_module: Callable[..., Path], tmp_path: Path
) -> None:
    write_module("lock", LOCK)
    done = cli(
        "run", "lock:bug_no_check", "--no-shrink", "--seed", "3", "--save-dir", "raw", "--json"
    )
    raw = tmp_path / json.loads(done.stdout)["schedule"]
    shrunk = cli("shrink", str(raw), "-o", "small.json")
    assert shrunk.returncode == 0, shrunk.stderr
    assert "to 4 events" in shrunk.stdout
    assert len(json.loads((tmp_path / "small.json").read_text())["events"]) == 4
    assert cli("replay", "small.json").returncode == 1
    printed = cli("shrink", str(raw))
    assert json.loads(printed.stdout)["format"] == "rabble-sim/schedule@1"


NOISY = """
import attrs
from rabble_sim import Envelope, Pid, Scenario, message

@message("t.bump")
@attrs.frozen
class Bump:
    pass

@attrs.define
class Node:
    pid: Pid
    bumps: int = 0

    def init(self, output):
        for _ in range(20):  # noise: messages to itself, which the violation does not need
            output.append(Envelope(self.pid, self.pid, Bump()))
        if self.pid.node != "s":
            for _ in range(3):
                output.append(Envelope(Pid("n", "s"), self.pid, Bump()))

    def handle(self, msg, from_, cid, output):
        if from_ != self.pid:
            self.bumps += 1

def few_bumps(view):
    server = view.processes[Pid("n", "s")]
    assert server.bumps < 4, f"{server.bumps} bumps by step {view.step}"

scenario = Scenario("noisy", ["s", "a", "b"], lambda node, durable: [Node(Pid("n", node))],
                    [few_bumps])
"""


def test_run_reports_the_violation_of_the_schedule_it_saved(
    cli: Cli, write_module: Callable[..., Path], tmp_path: Path
) -> None:
    write_module("noisy", NOISY)
    report = json.loads(cli("run", "noisy:scenario", "--seed", "1", "--json").stdout)
    saved = json.loads((tmp_path / report["schedule"]).read_text())
    assert report["violation"]["message"] == saved["violation"]["message"] == "4 bumps by step 4"
    assert report["step"] == saved["violation"]["step"] == len(saved["events"]) == 4
    found = report["found"]
    assert found["step"] == report["found_at_step"] > 4, "the run that found it was longer"
    assert found["message"] == f"4 bumps by step {found['step']}"
    assert report["shrunk"] == {"from": found["step"], "to": 4}
    done = cli("run", "noisy:scenario", "--seed", "1")
    assert "violation with seed 1, step 4: few_bumps\n  4 bumps by step 4\n" in done.stdout
    assert (
        f"shrunk to 4 steps from the {found['step']} of the run that found it "
        f"(which failed at step {found['step']})"
    ) in done.stdout
    assert f"the run that found it: few_bumps: {found['message']}" in done.stdout


ONE_PROCESS = """
import attrs
from rabble_sim import Pid, Scenario

@attrs.define
class Lonely:
    pid: Pid

    def handle(self, msg, from_, cid, output):
        pass

scenario = Scenario("lonely", ["n"], lambda node, durable: Lonely(Pid("l", node)))
"""


def test_a_start_that_returns_one_process_is_a_definition_error_and_saves_nothing(
    cli: Cli, write_module: Callable[..., Path], tmp_path: Path
) -> None:
    write_module("lonely", ONE_PROCESS)
    for command in ("run", "check"):
        done = cli(command, "lonely:scenario")
        assert done.returncode == 2, done.stdout
        assert "start('n') of scenario 'lonely' returned Lonely(pid=Pid('l', 'n')), not a list" in (
            done.stderr
        )
        assert not (tmp_path / "regressions").exists()


BAD_CHECKS = """
import attrs
from rabble_sim import Pid, Scenario

def one(view):
    pass

start = lambda node, durable: []
bare = Scenario("bare", ["n"], start, invariants=one)
"""


def test_scenario_definitions_name_the_item_that_is_wrong(
    cli: Cli, write_module: Callable[..., Path]
) -> None:
    cases = {
        "invariants=[one, 42]": "Scenario.invariants[1] is 42 (an int), not a function of a View",
        "invariants=one(None)": "Scenario.invariants is a list of functions of a View, or one such "
        "function, not None (a NoneType)",
        "clients='n'": "Scenario.clients is a list of node names, not 'n' (a str)",
        "preconditions={int: one}": "Scenario.preconditions[int] is <function one",
    }
    for i, (argument, reason) in enumerate(cases.items()):
        write_module(f"bad{i}", BAD_CHECKS + f"bad = Scenario('bad', ['n'], start, {argument})\n")
        done = cli("run", f"bad{i}:bad")
        assert done.returncode == 2 and reason in done.stderr, (argument, done.stderr)
    write_module("bare", BAD_CHECKS)
    assert cli("run", "bare:bare", "--seeds", "3").returncode == 0, "one function is accepted"


UNCOPYABLE = """
import threading
import attrs
from rabble_sim import Envelope, Pid, Scenario, message

@message("t.poke")
@attrs.frozen
class Poke:
    pass

class Locked:
    def __init__(self, pid):
        self.pid = pid
        self.count = 0
        self.guard = threading.Lock()

    def init(self, output):
        output.append(Envelope(self.pid, self.pid, Poke()))

    def handle(self, msg, from_, cid, output):
        self.count += 1

def counts_up(before, after, msg, outputs):
    assert after.count == before.count + 1

scenario = Scenario("locked", ["n"], lambda node, durable: [Locked(Pid("l", node))],
                    postconditions={Poke: [counts_up]})
"""


def test_postconditions_on_state_that_cannot_be_copied_name_the_field(
    cli: Cli, write_module: Callable[..., Path], tmp_path: Path
) -> None:
    write_module("locked", UNCOPYABLE)
    done = cli("run", "locked:scenario")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "l::n cannot be copied for its postconditions: its field 'guard' holds" in done.stderr
    assert "process state must be plain data" in done.stderr
    assert not (tmp_path / "regressions").exists()


def test_an_internal_error_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rabble_sim.cli import _run, cli as command_line
    from rabble_sim.core import RabbleInternalError

    def broken(*args: object, **kwargs: object) -> None:
        raise RabbleInternalError("the engine lost track")

    monkeypatch.setattr(_run, "load_scenario", broken)
    with pytest.raises(SystemExit) as exited:
        command_line.main(["run", "protocols.echo:scenario"])
    assert exited.value.code == 3
    assert "internal error: RabbleInternalError: the engine lost track" in capsys.readouterr().err
