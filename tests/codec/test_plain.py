"""``to_plain``: deterministic plain JSON data for schedule files, digests and display."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given

from rabble_sim import CorrelationId, Metrics, Pid, StartTimer, Timeout
from rabble_sim.codec import canonical_json, to_plain
from rabble_sim.core import CodecError
from tests.strategies import AppendEntries, LogEntry, ReplicaState, messages, replica_states

ROOT = Path(__file__).resolve().parents[2]


def test_a_message_is_its_tag_and_fields() -> None:
    assert to_plain(StartTimer(100)) == {"rabble.start_timer": {"ms": 100}}
    assert to_plain(Timeout()) == {"rabble.timeout": {}}
    assert to_plain(Metrics(Pid("a", "n1"), received=2)) == {
        "rabble.metrics": {
            "pid": "a::n1",
            "received": 2,
            "sent": 0,
            "timers_started": 0,
            "timers_cancelled": 0,
        }
    }


def test_nested_attrs_values_are_dicts_of_fields() -> None:
    msg = AppendEntries(
        Pid("leader", "n1", "raft"), 3, (LogEntry(3, "put x", CorrelationId(Pid("c", "n2"), 1)),)
    )
    assert to_plain(msg) == {
        "test.append_entries": {
            "leader": "raft::leader::n1",
            "term": 3,
            "entries": [
                {
                    "term": 3,
                    "command": "put x",
                    "client": {"pid": "c::n2", "request": 1, "handle": None},
                }
            ],
            "commit": None,
        }
    }


def test_sets_are_sorted_and_dicts_sorted_by_key() -> None:
    state = ReplicaState(
        Pid("r", "n1"),
        votes={"n3", "n1", "n2"},
        acks={"b": {3, 1}, "a": set()},
        by_index={10: (1, "x"), 2: (1, "y")},
    )
    plain = to_plain(state)
    assert isinstance(plain, dict)
    assert plain["votes"] == ["n1", "n2", "n3"]
    assert plain["acks"] == {"a": [], "b": [1, 3]}
    assert list(plain["acks"]) == ["a", "b"]
    # Keys that are not strings stay what they are, as sorted [key, value] pairs.
    assert plain["by_index"] == [[10, [1, "x"]], [2, [1, "y"]]]  # by canonical JSON
    assert to_plain({1: "int", "1": "str"}) == [["1", "str"], [1, "int"]]


def test_pid_keys_become_their_string_form() -> None:
    assert to_plain({Pid("b", "n1"): 1, Pid("a", "n1", "g"): {2}}) == {
        "g::a::n1": [2],
        "b::n1": 1,
    }


def test_plain_objects_and_bytes() -> None:
    class Counter:
        def __init__(self) -> None:
            self.pid = Pid("counter", "n1")
            self.seen = frozenset({(2, "b"), (1, "a")})
            self.raw = b"\x01\xff"

    assert to_plain(Counter()) == {
        "pid": "counter::n1",
        "raw": "01ff",
        "seen": [[1, "a"], [2, "b"]],
    }


def test_an_object_without_fields_never_shows_its_address() -> None:
    assert to_plain(object()) == "<object>"


@given(messages)
def test_every_message_is_json_with_one_tag(msg: Any) -> None:
    plain = to_plain(msg)
    assert isinstance(plain, dict)
    assert len(plain) == 1
    assert json.loads(canonical_json(plain)) == plain


@given(replica_states)
def test_equal_states_give_equal_plain_data(state: ReplicaState) -> None:
    copy = attrs.evolve(
        state,
        votes=set(sorted(state.votes, reverse=True)),
        acks=dict(reversed(list(state.acks.items()))),
    )
    assert canonical_json(to_plain(copy)) == canonical_json(to_plain(state))


SCRIPT = textwrap.dedent(
    """
    import json
    from rabble_sim import Pid
    from rabble_sim.codec import canonical_json, to_plain

    words = {f"node-{i}" for i in range(40)}
    state = {
        "members": words,
        "frozen": frozenset((w, len(w)) for w in words),
        "by_word": {w: {w.upper(), w.lower()} for w in words},
        "pids": {Pid(w, "n1") for w in words},
    }
    print(json.dumps([list(words), canonical_json(to_plain(state))]))
    """
)


def _run_with_hash_seed(seed: str) -> tuple[list[str], str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    ).stdout
    raw, plain = json.loads(out)
    return raw, plain


def test_to_plain_is_the_same_under_any_hash_seed() -> None:
    raw1, plain1 = _run_with_hash_seed("1")
    raw2, plain2 = _run_with_hash_seed("2")
    assert raw1 != raw2, "the hash seeds should iterate the set in different orders"
    assert plain1 == plain2


def test_durable_state_that_is_not_data_is_refused_with_where_it_is() -> None:
    from rabble_sim.codec import restored

    with pytest.raises(CodecError, match=r"cannot store data\['peers'\]\[1\], a function"):
        restored({"peers": ["a", lambda: None]})
    assert restored({"peers": ("a", "b"), "seen": {2, 1}}) == {"peers": ["a", "b"], "seen": [1, 2]}
