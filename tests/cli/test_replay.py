"""``rabble-sim replay``: reproduction, a fixed bug, divergence, and broken files."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.counter import COUNTER

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def saved(cli: Cli, write_module: Callable[..., Path], tmp_path: Path) -> Path:
    write_module("counter", COUNTER.format(limit=4))
    done = cli("run", "counter:scenario", "--seeds", "20", "--save-dir", "saved", "--json")
    assert done.returncode == 1, done.stderr
    return tmp_path / json.loads(done.stdout)["schedule"]


def test_replay_reproduces_then_passes_once_fixed(
    cli: Cli, write_module: Callable[..., Path], saved: Path
) -> None:
    done = cli("replay", str(saved))
    assert done.returncode == 1
    assert "reproduced" in done.stdout and "below_limit" in done.stdout
    write_module("counter", COUNTER.format(limit=6))  # the "fix"
    fixed = cli("replay", str(saved))
    assert fixed.returncode == 0
    assert "no longer occurs" in fixed.stdout


def test_replay_digest_equals_the_original_run(cli: Cli, saved: Path) -> None:
    schedule = json.loads(saved.read_text())
    original = json.loads(
        cli("run", "counter:scenario", "--seed", str(schedule["seed"]), "--json").stdout
    )
    replayed = json.loads(cli("replay", str(saved), "--json").stdout)
    assert replayed["trace_digest"] == original["trace_digest"]


def test_replay_names_the_step_where_todays_messages_differ(cli: Cli, saved: Path) -> None:
    schedule = json.loads(saved.read_text())
    schedule["events"][0]["msg"]["counter.bump"]["by"] = 99  # as if the code had sent 99 back then
    saved.write_text(json.dumps(schedule))
    report = json.loads(cli("replay", str(saved), "--json").stdout)
    (divergence,) = report["divergences"]
    assert divergence.startswith("step 1 (deliver #")
    assert "msg was {'counter.bump': {'by': 99}}, is now {'counter.bump': {'by':" in divergence
    assert report["reproduced"] is True


def test_replay_matches_a_renumbered_message_by_content(cli: Cli, saved: Path) -> None:
    schedule = json.loads(saved.read_text())
    real = schedule["events"][0]["seq"]
    schedule["events"][0]["seq"] = 999
    saved.write_text(json.dumps(schedule))
    done = cli("replay", str(saved))
    assert done.returncode == 1, "the violation still reproduces"
    assert (
        f"step 1 (deliver #{real}" in done.stdout and f"the message is #{real} today" in done.stdout
    )
    strict = cli("replay", str(saved), "--strict", "--json")
    assert strict.returncode == 1 and json.loads(strict.stdout)["ok"] is False


def test_replay_skips_what_cannot_happen_and_carries_on(cli: Cli, saved: Path) -> None:
    schedule = json.loads(saved.read_text())
    never = {
        **schedule["events"][0],
        "seq": 999,
        "msg": {"counter.bump": {"by": 7}},
        "summary": "never",
    }
    schedule["events"].insert(0, never)
    saved.write_text(json.dumps(schedule))
    report = json.loads(cli("replay", str(saved), "--json").stdout)
    assert report["divergences"] == ["step 1 (never): no such message is in flight today"]
    assert report["reproduced"] is True
    assert cli("replay", str(saved), "--strict").returncode == 1


def test_replay_lists_the_first_divergences_and_counts_the_rest(cli: Cli, saved: Path) -> None:
    schedule = json.loads(saved.read_text())
    first = schedule["events"][0]
    nevers = [
        {**first, "seq": 900 + i, "msg": {"counter.bump": {"by": 7}}, "summary": f"never {i}"}
        for i in range(15)
    ]
    schedule["events"][:0] = nevers
    saved.write_text(json.dumps(schedule))
    listed = [line for line in cli("replay", str(saved)).stdout.splitlines() if "diverged" in line]
    assert len(listed) == 11 and "(never 9)" in listed[9]
    assert listed[10] == "diverged at 5 more steps (--json lists them all)"
    report = json.loads(cli("replay", str(saved), "--json").stdout)
    assert len(report["divergences"]) == 15


def test_a_clean_replay_passes_strict(cli: Cli, saved: Path) -> None:
    done = cli("replay", str(saved), "--strict", "--json")
    report = json.loads(done.stdout)
    assert report["divergences"] == [] and report["reproduced"] is True


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"format": "rabble-sim/schedule@1", "events": [', "not valid JSON"),
        ("[]", "a schedule is a JSON object"),
        ('{"format": "rabble-sim/schedule@9", "scenario": "x:y", "events": []}', "unknown format"),
        ('{"format": "rabble-sim/schedule@1", "events": []}', "missing field 'scenario'"),
        (
            '{"format": "rabble-sim/schedule@1", "scenario": "counter:scenario", '
            '"events": [{"kind": "teleport"}]}',
            "event 1: unknown event kind 'teleport'",
        ),
        (
            '{"format": "rabble-sim/schedule@1", "scenario": "counter:scenario", '
            '"events": [{"kind": "deliver", "seq": "x"}]}',
            "field 'seq' must be a int",
        ),
        (
            '{"format": "rabble-sim/schedule@1", "scenario": "counter:scenario", '
            '"events": [{"kind": ["deliver"]}]}',
            "event 1: unknown event kind ['deliver']",
        ),
        (
            '{"format": "rabble-sim/schedule@1", "scenario": "counter:scenario", '
            '"liveness_from": 0, "events": []}',
            "'liveness_from' must be a step from 1 to 1",
        ),
        (
            '{"format": "rabble-sim/schedule@1", "scenario": "x:y", "events": ' + "[" * 100_000,
            "not",
        ),
        (
            '{"format": "rabble-sim/schedule@1", "scenario": "x:y", "seed": ' + "9" * 5000 + "}",
            "not",
        ),
        (
            '{"format": "rabble-sim/schedule@1", "scenario": "nowhere:x", "events": []}',
            "no such module",
        ),
    ],
)
def test_a_broken_file_exits_2_naming_file_and_problem(
    cli: Cli, write_module: Callable[..., Path], tmp_path: Path, text: str, reason: str
) -> None:
    write_module("counter", COUNTER.format(limit=4))
    path = tmp_path / "broken.json"
    path.write_text(text)
    done = cli("replay", str(path))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_file_exits_2(cli: Cli) -> None:
    done = cli("replay", "nowhere.json")
    assert done.returncode == 2 and "nowhere.json: no such file" in done.stderr


def test_a_fixed_bug_replays_clean_even_with_a_liveness_check(cli: Cli, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    done = cli(
        "run", "protocols.echo:bug_shared_cache", "--save-dir", str(tmp_path), "--json", cwd=root
    )
    path = Path(json.loads(done.stdout)["schedule"])
    schedule = json.loads(path.read_text())
    schedule["scenario"] = "protocols.echo:scenario"  # the same events, on the fixed server
    path.write_text(json.dumps(schedule))
    fixed = cli("replay", str(path), cwd=root)
    assert fixed.returncode == 0, fixed.stdout
    assert "no longer occurs" in fixed.stdout


ROOT = Path(__file__).resolve().parents[2]


def test_an_unknown_message_tag_exits_2_naming_it(cli: Cli, saved: Path) -> None:
    schedule = json.loads(saved.read_text())
    schedule["events"][0]["msg"] = {"nope.tag": {}}
    saved.write_text(json.dumps(schedule))
    for command in ("replay", "shrink"):
        done = cli(command, str(saved))
        assert done.returncode == 2
        assert "event 1: unknown message tag 'nope.tag'" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_shrink_keeps_a_demonstrations_expect_and_reports_what_cannot_be_shrunk(
    cli: Cli, tmp_path: Path
) -> None:
    demo = ROOT / "schedules" / "echo" / "shared-cache.json"
    out = tmp_path / "same.json"
    assert cli("shrink", str(demo), "-o", str(out), cwd=ROOT).returncode == 0
    assert json.loads(out.read_text())["expect"] == "violation"
    bad = cli("shrink", str(demo), "-o", str(tmp_path / "no" / "such" / "x.json"), cwd=ROOT)
    assert bad.returncode == 2 and "cannot write" in bad.stderr
    fixed = json.loads(demo.read_text())
    fixed["scenario"] = "protocols.echo:scenario"
    (tmp_path / "fixed.json").write_text(json.dumps(fixed))
    done = cli("shrink", str(tmp_path / "fixed.json"), cwd=ROOT)
    assert done.returncode == 1 and "does not reproduce" in done.stderr


def test_shrink_with_one_replay_reproduces_and_keeps_the_schedule(cli: Cli, tmp_path: Path) -> None:
    # The one replay reproduces the violation and leaves no budget to shrink: the file
    # comes back as it was, and that is no failure to reproduce.
    demo = ROOT / "schedules" / "echo" / "shared-cache.json"
    out = tmp_path / "same.json"
    done = cli("shrink", str(demo), "--attempts", "1", "-o", str(out), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "does not reproduce" not in done.stderr
    assert "in 1 replays" in done.stdout
    assert json.loads(out.read_text())["events"] == json.loads(demo.read_text())["events"]


def test_a_cut_short_liveness_phase_is_completed_fairly_on_replay(cli: Cli, tmp_path: Path) -> None:
    demo = json.loads((ROOT / "schedules" / "omega" / "no-self.json").read_text())
    demo["events"] = demo["events"][:3]  # three recorded liveness steps only
    demo["scenario"] = "protocols.omega:scenario"  # the fixed detector
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(demo))
    done = cli("replay", str(path), cwd=ROOT)
    assert done.returncode == 0, done.stdout
    assert "no longer occurs" in done.stdout


def test_a_schedule_that_no_longer_fits_the_code_is_never_called_fixed(
    cli: Cli, write_module: Callable[..., Path], saved: Path
) -> None:
    schedule = json.loads(saved.read_text())
    schedule["events"][0]["to"] = "counter::a"  # no such message was ever in flight
    saved.write_text(json.dumps(schedule))
    write_module("counter", COUNTER.format(limit=6))  # a "fix", which may or may not be one
    done = cli("replay", str(saved))
    assert done.returncode == 1, done.stdout
    lines = done.stdout.splitlines()
    assert not any(line.startswith("fixed") for line in lines), done.stdout
    assert "no longer occurs" not in done.stdout and "not fixed:" in done.stdout
    assert "no longer fits the code (1 of its" in done.stdout
    assert "events could not happen" in done.stdout
    report = json.loads(cli("replay", str(saved), "--json").stdout)
    assert report["ok"] is False and report["fits"] is False and report["reproduced"] is False


def test_a_schedule_whose_events_mostly_diverge_no_longer_fits(
    cli: Cli, write_module: Callable[..., Path], saved: Path
) -> None:
    schedule = json.loads(saved.read_text())
    for event in schedule["events"]:
        event["seq"] += 1000  # every message found by content, under another seq
    saved.write_text(json.dumps(schedule))
    write_module("counter", COUNTER.format(limit=6))
    done = cli("replay", str(saved), "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["fits"] is False
    assert all("the message is #" in d for d in report["divergences"])


def test_another_message_under_the_recorded_seq_is_not_taken_for_it(cli: Cli, saved: Path) -> None:
    schedule = json.loads(saved.read_text())
    schedule["events"][0]["msg"] = {"rabble.shutdown": {}}  # another type under that seq
    saved.write_text(json.dumps(schedule))
    report = json.loads(cli("replay", str(saved), "--json").stdout)
    assert report["fits"] is False
    assert report["divergences"][0].endswith("no such message is in flight today")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"kind": "crash", "node": "z"},
            "event 1 names node 'z', which scenario 'counter' does not have",
        ),
        ({"kind": "restart", "node": "z"}, "names node 'z'"),
        ({"kind": "partition", "groups": [["a"], ["z"]]}, "names node 'z'"),
        ({"kind": "partition", "groups": [["a", "b"]]}, "needs two or more groups"),
        ({"kind": "timeout", "seq": 3, "pid": "counter::z", "cid": None}, "names node 'z'"),
        ({"to": "counter::z"}, "names node 'z'"),
        ({"to": "not a pid"}, "event 1: field 'to': not a pid"),
        ({"seq": -1}, "'seq' must be 0 or more"),
        ({"step": 0}, "step 0 cannot follow step 0"),
    ],
)
def test_a_schedule_naming_what_cannot_exist_is_bad_input(
    cli: Cli, saved: Path, change: dict[str, object], reason: str
) -> None:
    schedule = json.loads(saved.read_text())
    first = schedule["events"][0]
    schedule["events"][0] = {**first, **change} if "kind" not in change else {"step": 1, **change}
    saved.write_text(json.dumps(schedule))
    for command in ("replay", "shrink", "debug"):
        done = cli(command, str(saved), input_="quit\n")
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert reason in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_record_writes_todays_run_of_a_schedule_that_no_longer_fits(
    cli: Cli, write_module: Callable[..., Path], saved: Path, tmp_path: Path
) -> None:
    schedule = json.loads(saved.read_text())
    schedule["events"][0]["to"] = "counter::a"
    saved.write_text(json.dumps(schedule))
    write_module("counter", COUNTER.format(limit=6))
    done = cli("replay", str(saved), "--record", "today.json")
    assert done.returncode == 1 and "no longer fits" in done.stdout
    assert "recorded today's run of the schedule" in done.stderr
    today = json.loads((tmp_path / "today.json").read_text())
    assert today["violation"] is None and len(today["events"]) == len(schedule["events"]) - 1
    again = cli("replay", "today.json")
    assert again.returncode == 0 and "replays without a violation" in again.stdout
    demo = {**schedule, "expect": "violation"}
    saved.write_text(json.dumps(demo))
    refused = cli("replay", str(saved), "--record", "x.json")
    assert refused.returncode == 2 and "known-bug demonstration" in refused.stderr
