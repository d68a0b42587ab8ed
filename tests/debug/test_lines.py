"""The line mode: commands in, the step, its event and what changed out; from Python and
from the real ``rabble-sim debug --plain``."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from rabble_sim.debug import DebugSession, LineDebugger
from rabble_sim.schedule import Schedule, load
from rabble_sim.sim import Partition, RandomChooser, run
from tests.sim.cluster import EVERYTHING

from .conftest import ROOT, ROUND_BUG, SHARED_CACHE, WALKTHROUGH


def transcript(session: DebugSession, *commands: str) -> list[str]:
    out = io.StringIO()
    LineDebugger(session, out).run(commands)
    return out.getvalue().splitlines()


def test_next_prints_the_step_its_sends_and_what_changed(walkthrough: DebugSession) -> None:
    lines = transcript(walkthrough, "next")
    assert lines[0] == "schedule of protocols.omega:scenario: 300 steps, no violation"
    step1 = lines.index("step 1/300 timeout #0 at omega::a (cid omega::a)")
    after = lines[step1 + 1 :]
    assert "  sent omega::a -> omega::b: omega.heartbeat(round=1)" in after
    assert any(
        line.startswith("  changed omega::a: ") and "round: 0 -> 1" in line for line in after
    )


def test_goto_back_state_diff_and_pending(walkthrough: DebugSession) -> None:
    lines = transcript(
        walkthrough, "goto 5", "back", "state omega::b", "diff omega::b", "pending", "quit", "next"
    )
    assert any(line.startswith("step 5/300 deliver #4") for line in lines)
    assert any(line.startswith("step 4/300 ") for line in lines)
    state_at = lines.index("omega::b: {")
    assert '  "leader": "b",' in lines[state_at:]
    assert any(line.startswith("at 100 ms: ") and "in flight" in line for line in lines)
    assert any(line.startswith("  timer #") for line in lines)
    assert not any(line.startswith("step 5/300") for line in lines[state_at:]), "after quit"


def test_breakpoints_continue_and_reverse(round_bug: DebugSession) -> None:
    crash = next(s for s in round_bug.steps if s.kind == "crash")
    lines = transcript(round_bug, "break kind crash", "break", "continue", "stopped")
    assert lines.count("breakpoint 1: kind crash") == 2, "added, then listed"
    assert f"step {crash.number}/{round_bug.last} crash {crash.event.node}" in lines
    assert f"  stopped omega::{crash.event.node}" in lines
    assert round_bug.step == crash.number
    lines = transcript(round_bug, "delete 2", "delete 1", "continue", "reverse")
    assert "error: there is no breakpoint 2 (see: break)" in lines
    assert "deleted breakpoint 1: kind crash" in lines
    assert any(line.startswith("  violation liveness agree_on_smallest") for line in lines)
    # reverse, with no breakpoint left, goes back to the start: four processes start there.
    assert lines[-9] == "step 0/367 start"
    assert lines[-4:] == [f"  started omega::{n}" for n in "abcd"]


def test_bad_commands_say_what_is_wrong_and_carry_on(walkthrough: DebugSession) -> None:
    lines = transcript(
        walkthrough, "jump", "goto x", "goto 400", "state x::y", "break kind boom", "back", "next"
    )
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == [
        "error: unknown command 'jump' (try: help)",
        "error: goto N: 'x' is not a step number",
        "error: there is no step 400: the steps are 0 to 300",
        "error: no process x::y in this schedule "
        "(there are omega::a, omega::b, omega::c, omega::d)",
        "error: unknown event kind 'boom': one of deliver, drop, duplicate, timeout, crash, "
        "restart, partition, heal, input, drift, jump, lose_disk, corrupt_disk",
    ]
    assert lines[-8:] == [
        "already at the start (step 0)",
        "step 1/300 timeout #0 at omega::a (cid omega::a)",
        "  sent omega::a -> rabble::executor::a: rabble.persist(data=1)",
        "  sent omega::a -> omega::b: omega.heartbeat(round=1)",
        "  sent omega::a -> omega::c: omega.heartbeat(round=1)",
        "  sent omega::a -> omega::d: omega.heartbeat(round=1)",
        "  sent omega::a -> rabble::executor::a: rabble.start_timer(ms=120) (cid omega::a)",
        '  changed omega::a: leader: null -> "a"; period: 100 -> 120; round: 0 -> 1',
    ]


def run_cli(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", "debug", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_the_plain_command_reads_commands_from_stdin() -> None:
    done = run_cli(str(ROUND_BUG), "--plain", stdin="break violation\ncontinue\nquit\n")
    assert done.returncode == 0, done.stderr
    assert "breakpoint violation" in done.stdout
    assert "  violation liveness agree_on_smallest: not true 300 steps" in done.stdout


def test_without_a_terminal_debug_falls_back_to_lines_and_stops_at_end_of_input() -> None:
    done = run_cli(str(WALKTHROUGH), "--at", "12", stdin="next\n")
    assert done.returncode == 0, done.stderr
    assert "step 12/300 " in done.stdout and "step 13/300 " in done.stdout


def test_a_broken_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "rabble-sim/schedule@1", "events": [')
    done = run_cli(str(broken), "--plain", stdin="")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "broken.json" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_violation_that_no_longer_occurs_is_called_so() -> None:
    from protocols.echo import scenario as fixed

    recorded = DebugSession.open(SHARED_CACHE).schedule
    lines = transcript(DebugSession(recorded, fixed))
    check = recorded.violation["check"]  # type: ignore[index]
    assert lines[0].endswith(f"no violation: the recorded one ({check}) no longer occurs")


def test_starting_past_the_last_step_is_refused() -> None:
    done = run_cli(str(WALKTHROUGH), "--at", "301", stdin="")
    assert done.returncode == 2
    assert done.stderr == ("rabble-sim: error: there is no step 301: the steps are 0 to 300\n")


def test_enabled_take_and_save_branch_off_the_schedule(
    shared_cache: DebugSession, tmp_path: Path
) -> None:
    saved = tmp_path / "branch.json"
    lines = transcript(
        shared_cache, "goto 1", "enabled", "take 0", "take 2", "enabled", f"save {saved}"
    )
    listed = lines.index("14 enabled after step 1 (take N; * is the schedule's next step):")
    assert lines[listed + 1 : listed + 3] == [
        '      0 deliver #0 client::c1 -> echo::server: echo.request(n=1, payload="client::c1/1")',
        '  *   1 deliver #4 client::c3 -> echo::server: echo.request(n=1, payload="client::c3/1")',
    ]
    assert lines[listed + 15 : listed + 17] == [
        "branched at step 1: 2 steps now",
        'step 2/2 deliver #0 client::c1 -> echo::server: echo.request(n=1, payload="client::c1/1")',
    ]
    third = lines.index("branched at step 2: 3 steps now")
    assert lines[third + 1].startswith("step 3/3 deliver #7 echo::server -> client::c1: ")
    assert any(
        line.startswith("  violation postcondition replies_match_requests: client::c1 accepted")
        for line in lines[third:]
    )
    assert lines[-2:] == [
        "error: step 3 failed (postcondition replies_match_requests): the run ends there, so "
        "nothing is enabled; go back a step to branch before it",
        f"saved the branch (3 steps) to {saved}",
    ]
    assert load(saved).violation["step"] == 3  # type: ignore[index]


def test_take_and_save_say_what_is_wrong(shared_cache: DebugSession) -> None:
    lines = transcript(shared_cache, "take", "take one", "take 14", "save", "show")
    assert [line for line in lines if line.startswith("error: ")] == [
        "error: take needs the number of an enabled event (see: enabled)",
        "error: take N: 'one' is not an enabled event's number",
        "error: there is no enabled event 14: they are 0 to 13",
        "error: save needs a file or a folder to write the schedule to",
    ]
    assert shared_cache.branched_at is None


def test_pending_shows_the_links_cut_and_the_clocks_that_drifted() -> None:
    result = run(EVERYTHING, RandomChooser(0), max_steps=300)
    session = DebugSession(Schedule.from_run(result, "tests.sim.cluster:EVERYTHING"), EVERYTHING)
    cuts = [s for s in session.steps if isinstance(s.event, Partition) and s.event.one_way]
    event = cuts[0].event
    assert isinstance(event, Partition)
    lines = transcript(session, f"goto {cuts[0].number}", "pending")
    (cut,) = [line for line in lines if line.startswith("  cut: ")]
    deaf = event.groups[0]
    links = [tuple(link.split(" -> ")) for link in cut.removeprefix("  cut: ").split(", ")]
    assert links and all(b in deaf and a not in deaf for a, b in links), "only links into it"
    assert any(line.startswith("  clock of ") for line in lines), "a clock drifted at the start"
