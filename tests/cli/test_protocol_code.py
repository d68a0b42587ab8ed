"""Whatever protocol code does (exit, raise anything, hang, ignore interruptions), every
command that runs it reports a violation or an error, never a pass; a real Ctrl-C stops
it and says where it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]
ROOT = Path(__file__).resolve().parents[2]

PROTOCOL = """
import sys, time
import attrs
from rabble_sim import Envelope, Pid, Scenario, message

@message("t.tick")
@attrs.frozen
class Tick:
    n: int

def spin():
    while True:
        pass

def stubborn():
    while True:
        try:
            time.sleep(10)
        except BaseException:
            pass

ACTS = {
    "exit0": lambda: sys.exit(0),
    "exit7": lambda: sys.exit(7),
    "ctrl_c": lambda: (_ for _ in ()).throw(KeyboardInterrupt()),
    "spin": spin,
    "sleep": lambda: time.sleep(600),
    "stubborn": stubborn,
    "nothing": lambda: None,
}

@attrs.define
class Ticker:
    pid: Pid
    act: str

    def init(self, output):
        output.append(Envelope(self.pid, self.pid, Tick(0)))

    def handle(self, msg, from_, cid, output):
        if msg.n == 3:
            ACTS[self.act]()
        output.append(Envelope(self.pid, self.pid, Tick(msg.n + 1)))

def scenario(act, max_steps=50):
    return Scenario(act, ["n"], lambda node, durable: [Ticker(Pid("t", node), act)],
                    max_steps=max_steps)

exit0, exit7, ctrl_c, spin, sleep, stubborn = map(
    scenario, ["exit0", "exit7", "ctrl_c", "spin", "sleep", "stubborn"]
)
forever = scenario("nothing", max_steps=10**9)
"""


@pytest.fixture
def protocol(write_module: Callable[..., Path]) -> None:
    write_module("proto", PROTOCOL)


@pytest.mark.usefixtures("protocol")
@pytest.mark.parametrize(
    ("name", "raised"),
    [("exit0", "SystemExit(0)"), ("exit7", "SystemExit(7)"), ("ctrl_c", "KeyboardInterrupt()")],
)
def test_an_exit_raised_by_handle_is_a_violation_not_a_pass(
    cli: Cli, name: str, raised: str, tmp_path: Path
) -> None:
    done = cli("run", f"proto:{name}", "--seeds", "2", "--json")
    assert done.returncode == 1, (done.stdout, done.stderr)
    report = json.loads(done.stdout)
    assert report["ok"] is False and report["step"] == 4
    assert report["violation"]["check"] == "exception in handle of t::n"
    assert report["violation"]["message"] == f"{raised} while handling Tick"
    replayed = cli("replay", report["schedule"], "--json")
    assert replayed.returncode == 1 and json.loads(replayed.stdout)["reproduced"] is True


@pytest.mark.usefixtures("protocol")
def test_a_handle_that_never_returns_is_a_saved_and_replayable_step_timeout(cli: Cli) -> None:
    for name in ("spin", "sleep"):
        done = cli("run", f"proto:{name}", "--seed", "0", "--step-timeout", "0.5", "--json")
        assert done.returncode == 1, done.stderr
        report = json.loads(done.stdout)
        assert report["violation"]["check"] == "step timeout"
        assert report["violation"]["message"] == "handle of t::n on Tick ran for more than 0.5 s"
        assert report["step"] == 4
        replayed = cli("replay", report["schedule"], "--step-timeout", "0.5")
        assert replayed.returncode == 1
        assert "(reproduced), step 4: step timeout" in replayed.stdout
        assert "ran for more than 0.5 s" in replayed.stdout
        debugged = cli(
            "debug", report["schedule"], "--plain", "--step-timeout", "0.5",
            input_="next\nnext\nnext\nnext\nquit\n",
        )  # fmt: skip
        assert "violation step timeout: handle of t::n on Tick" in debugged.stdout
    shrunk = cli("shrink", report["schedule"], "--step-timeout", "0.5")
    assert shrunk.returncode == 0 and "not shrunk" in shrunk.stderr


@pytest.mark.usefixtures("protocol")
def test_a_handle_that_swallows_every_interruption_still_ends_the_command(cli: Cli) -> None:
    started = time.monotonic()
    done = cli("run", "proto:stubborn", "--seed", "0", "--step-timeout", "0.5")
    assert done.returncode == 1
    assert "ignored every interruption" in done.stderr
    assert time.monotonic() - started < 30


@pytest.mark.usefixtures("protocol")
def test_max_steps_overrides_the_scenarios_bound(cli: Cli) -> None:
    done = cli("run", "proto:forever", "--seeds", "3", "--max-steps", "40", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["steps"] == 3 * 40


AS_IN_A_TERMINAL = """
import runpy, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job ignores it
sys.argv = sys.argv[1:]
runpy.run_module("rabble_sim.cli", run_name="__main__")
"""


def interrupted(cwd: Path, *args: str) -> str:
    """The last line ``rabble-sim ARGS`` prints when a real Ctrl-C stops it after 2.5 s, in
    ``cwd`` (the project's own protocols importable), once it exited 130 for it."""
    child = subprocess.Popen(
        [sys.executable, "-c", AS_IN_A_TERMINAL, "rabble-sim", *args],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    time.sleep(2.5)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130, err
    return err.strip().splitlines()[-1]


@pytest.mark.usefixtures("protocol")
def test_a_real_ctrl_c_stops_a_run_and_says_where_it_was(tmp_path: Path) -> None:
    for name, where in [("forever", "between two steps|in handle of t::n on Tick"),
                        ("sleep", "in handle of t::n on Tick")]:  # fmt: skip
        line = interrupted(tmp_path, "run", f"proto:{name}", "--seeds", "5", "--workers", "1")
        assert line.startswith("rabble-sim: interrupted at step "), line
        assert " of seed 0, " in line
        assert any(w in line for w in where.split("|")), line
        assert not (tmp_path / "regressions").exists(), "nothing saved: no verdict"


@pytest.mark.usefixtures("protocol")
def test_explore_reports_what_protocol_code_does_as_a_violation(cli: Cli) -> None:
    for name in ("exit0", "exit7", "ctrl_c"):
        done = cli("explore", f"proto:{name}", "--json")
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        assert json.loads(done.stdout)["violation"]["check"] == "exception in handle of t::n"
    for name in ("spin", "sleep"):
        done = cli("explore", f"proto:{name}", "--step-timeout", "0.5", "--json")
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        report = json.loads(done.stdout)
        assert report["violation"]["check"] == "step timeout"
        assert report["violation"]["message"] == "handle of t::n on Tick ran for more than 0.5 s"
        assert report["step"] == 4
        replayed = cli("replay", report["schedule"], "--step-timeout", "0.5")
        assert replayed.returncode == 1
    started = time.monotonic()
    done = cli("explore", "proto:stubborn", "--step-timeout", "0.5")
    assert done.returncode == 1
    assert "ignored every interruption" in done.stderr
    assert time.monotonic() - started < 30


def test_a_real_ctrl_c_stops_an_exploration_and_says_how_far_it_got(tmp_path: Path) -> None:
    line = interrupted(tmp_path, "explore", "protocols.echo:scenario", "--depth", "9")
    assert line.startswith("rabble-sim: interrupted after "), line
    assert line.endswith("): no verdict"), line
    assert not (tmp_path / "regressions").exists(), "nothing saved: no verdict"
