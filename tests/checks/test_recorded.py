"""Reading the client histories real nodes record (``history.jsonl``): merged by time,
judged like a simulated run's, and malformed files an error naming the file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from protocols.vr import KV_MODEL
from rabble_sim import Pid
from rabble_sim.checks import (
    UNKNOWN,
    check_linearizability,
    linearizable,
    read_recorded,
    recorded_events,
)
from rabble_sim.checks._recorded import TornLineWarning
from rabble_sim.core import UsageError

C1, C2 = "g1::client::c1", "g1::client::c2"


def line(kind: str, client: str, op: int, value: Any, time: int) -> dict[str, Any]:
    return {"kind": kind, "client": client, "op": op, "value": value, "time": time}


def write(path: Path, *lines: dict[str, Any], node: str = "c1") -> Path:
    start = {"kind": "start", "node": node, "time": 0}
    path.write_text("".join(json.dumps(x) + "\n" for x in (start, *lines)))
    return path


def two_files(tmp_path: Path, *, put: bool = True, read: Any = "a") -> list[Path]:
    """c1 puts x = a (times 10-20), then c2 reads x (times 30-40)."""
    writes = [line("invoke", C1, 1, ["put", "x", "a"], 10), line("ok", C1, 1, "ok", 20)]
    return [
        write(tmp_path / "c1.jsonl", *(writes if put else [])),
        write(
            tmp_path / "c2.jsonl",
            line("invoke", C2, 1, ["get", "x"], 30),
            line("ok", C2, 1, read, 40),
            node="c2",
        ),
    ]


def test_two_files_are_merged_by_time_with_arrays_as_tuples(tmp_path: Path) -> None:
    c1 = two_files(tmp_path)[0]
    c2 = write(
        tmp_path / "c2-queue.jsonl",
        line("invoke", C2, 1, ["push", "q", "1"], 5),
        line("ok", C2, 1, 1, 15),
        line("invoke", C2, 2, ["get", "q"], 25),
        line("ok", C2, 2, ["1"], 35),
        node="c2",
    )
    events = recorded_events([c2, c1])
    assert [(e.kind, str(e.client), e.time) for e in events] == [
        ("invoke", C2, 5),
        ("invoke", C1, 10),
        ("ok", C2, 15),
        ("ok", C1, 20),
        ("invoke", C2, 25),
        ("ok", C2, 35),
    ]
    assert [e.step for e in events] == list(range(6))
    assert events[0].client == Pid("client", "c2", "g1")
    assert events[0].value == ("push", "q", "1") and events[5].value == ("1",)
    history = read_recorded([c1, c2])
    assert len(history) == 3 and "c1.jsonl" in history.source
    # A tuple read back compares equal to the store's own: the queue read is explained.
    assert check_linearizability(KV_MODEL, history).linearizable
    linearizable(KV_MODEL)(events)


def test_at_equal_times_an_invocation_comes_first(tmp_path: Path) -> None:
    """c2's read starts at the very nanosecond c1's write returns: they overlap, so a read
    of the old value is linearizable."""
    files = two_files(tmp_path, read=None)
    text = files[1].read_text().replace('"time": 30', '"time": 20')
    files[1].write_text(text)
    assert check_linearizability(KV_MODEL, read_recorded(files)).linearizable


def test_a_stale_read_or_a_lost_write_is_not_linearizable(tmp_path: Path) -> None:
    """The negative controls: what the TCP test's check must reject."""
    assert check_linearizability(KV_MODEL, read_recorded(two_files(tmp_path))).linearizable
    stale = two_files(tmp_path, read=None)  # x was written before the read began
    with pytest.raises(AssertionError, match="not linearizable"):
        linearizable(KV_MODEL)(recorded_events(stale))
    lost = two_files(tmp_path, put=False)  # the acknowledged write removed
    assert not check_linearizability(KV_MODEL, read_recorded(lost)).linearizable


def test_a_restarted_client_is_a_new_client(tmp_path: Path) -> None:
    path = write(tmp_path / "h.jsonl", line("invoke", C1, 1, ["put", "x", "a"], 10))
    again = [
        {"kind": "start", "node": "c1", "time": 20},
        line("invoke", C1, 1, ["get", "x"], 30),
        line("ok", C1, 1, "a", 40),
    ]
    with path.open("a") as f:  # the node was killed with op 1 pending, and restarted
        f.write("".join(json.dumps(x) + "\n" for x in again))
    history = read_recorded([path])
    assert [(op.process.name, op.returned) for op in history.operations] == [
        ("client", None),
        ("client#2", 2),
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (  # a torn line followed by another of the same life: not a crash's doing
            '{"kind": "start", "time": 1}\n{"kind": "invo\n'
            '{"kind": "invoke", "time": 2, "op": 1, "client": "c::n", "value": 1}\n',
            "h.jsonl:2: not JSON",
        ),
        ("[" * 100_000 + "]" * 100_000 + "\n", "h.jsonl:1: nested too deeply"),
        (
            '{"kind": "invoke", "time": 1, "op": 1, "client": "c::n", "value": '
            + "[" * 101
            + "]" * 101
            + "}\n",
            "h.jsonl:1: 'value' is nested more than 100 deep",
        ),
        ("[1, 2]\n", "h.jsonl:1: expected a JSON object, got an array"),
        ('{"kind": "start", "time": "now"}\n', "h.jsonl:1: 'time' must be an integer"),
        ('{"kind": "begin", "time": 1}\n', "h.jsonl:1: unknown kind 'begin'"),
        ('{"kind": "ok", "time": 1, "op": 1}\n', "h.jsonl:1: an ok line needs 'client', 'value'"),
        (
            '{"kind": "ok", "time": 1, "op": 1, "client": "nopid", "value": 1}\n',
            "h.jsonl:1: not a pid: 'nopid'",
        ),
        (
            '{"kind": "ok", "time": 1, "op": "1", "client": "c::n", "value": 1}\n',
            "h.jsonl:1: 'op' must be an integer",
        ),
        (
            '\n{"kind": "ok", "time": 1, "op": 1, "client": "c::n", "value": 1}\n',
            "h.jsonl:2: c::n completes operation 1, never invoked",
        ),
        (
            '{"kind": "invoke", "time": 1, "op": 1, "client": "c::n", "value": 1}\n' * 2,
            "h.jsonl:2: c::n invokes operation 1 twice",
        ),
        (
            '{"kind": "start", "time": 5}\n{"kind": "start", "time": 4}\n',
            "h.jsonl:2: time 4 is before the previous line's 5",
        ),
    ],
)
def test_a_malformed_line_is_an_error_naming_file_and_line(
    tmp_path: Path, text: str, error: str
) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(text)
    with pytest.raises(UsageError) as raised:
        read_recorded([path])
    assert error in str(raised.value)
    assert str(raised.value).startswith(str(path))


def test_a_missing_file_or_the_same_file_twice_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        recorded_events([tmp_path / "nope.jsonl"])
    c1 = two_files(tmp_path)[0]
    copy = tmp_path / "copy.jsonl"
    copy.write_text(c1.read_text())
    with pytest.raises(UsageError, match=r"copy.jsonl:2: client .* is also in .*c1.jsonl"):
        recorded_events([c1, copy])


def torn(path: Path) -> str:
    """Cut the last line of ``path`` short, as a crash of the machine would; what is left
    of it."""
    text = path.read_text()
    path.write_text(text[:-12])
    return text[:-12].rsplit("\n", 1)[-1]


def test_a_torn_last_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = two_files(tmp_path)[0]
    left = torn(path)  # c1's completion of its put
    with pytest.warns(TornLineWarning) as warned:
        history = read_recorded([path])
    assert len(left) > 60, "shown shortened"
    assert [str(w.message) for w in warned] == [
        f"{path}:3: skipped a torn line (the machine crashed while it was written?): "
        + repr(left[:60] + "...")
    ]
    (op,) = history.operations
    assert op.input == ("put", "x", "a") and op.returned is None, "never seen to complete"


def test_a_torn_line_before_a_restart_is_skipped_and_both_lives_read(tmp_path: Path) -> None:
    path = two_files(tmp_path)[0]
    torn(path)
    again = [
        {"kind": "start", "node": "c1", "time": 50},
        line("invoke", C1, 1, ["get", "x"], 60),
        line("ok", C1, 1, "a", 70),
    ]
    with path.open("a") as f:  # the node restarted: it starts a new line first
        f.write("\n" + "".join(json.dumps(x) + "\n" for x in again))
    with pytest.warns(TornLineWarning, match=r"c1\.jsonl:3: skipped a torn line"):
        history = read_recorded([path])
    assert [(op.process.name, op.output) for op in history.operations] == [
        ("client", UNKNOWN),
        ("client#2", "a"),
    ]
