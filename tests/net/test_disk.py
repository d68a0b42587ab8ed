"""A node's data directory: what a process persists is what it gets back after a restart."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from rabble_sim import Pid
from rabble_sim.codec import restored
from rabble_sim.core import RabbleError
from rabble_sim.net._disk import DataDir

from .demo import Pong

REPLICA = Pid("replica/1", "a")
LOG = Pid("log", "a", "kv")


def test_the_first_start_finds_nothing_and_marks_the_directory(tmp_path: Path) -> None:
    assert DataDir(tmp_path, "a").recover() is None
    assert (tmp_path / "node").read_text() == "a"
    assert DataDir(tmp_path, "a").recover() == {}, "the next start is a restart"


def test_persisted_data_comes_back_per_pid_as_a_restart_hands_it_over(tmp_path: Path) -> None:
    first = DataDir(tmp_path, "a")
    first.recover()
    state = {"term": 3, "log": (1, 2), "voters": {"b", "c"}, "leader": Pid("replica/2", "b")}
    first.persist(REPLICA, {"term": 2})
    first.persist(REPLICA, state)  # replaces what it saved before
    first.persist(LOG, Pong("log::a", 7))
    durable = DataDir(tmp_path, "a").recover()
    assert durable == {REPLICA: restored(state), LOG: Pong("log::a", 7)}
    assert durable[REPLICA] == {
        "term": 3,
        "log": [1, 2],  # a tuple comes back as a list,
        "voters": ["b", "c"],  # a set as a sorted list,
        "leader": "replica/2::b",  # a pid as its string;
    }
    assert type(durable[LOG]) is Pong, "a registered message keeps its type"


def test_a_temporary_file_left_by_a_crash_mid_write_is_ignored(tmp_path: Path) -> None:
    disk = DataDir(tmp_path, "a")
    disk.recover()
    disk.persist(REPLICA, [1])
    (stored,) = (tmp_path / "processes").iterdir()
    # The crash came after the temporary file was written, before the rename.
    (stored.parent / f".{stored.name}.tmp").write_bytes(b"\x93half a wri")
    assert DataDir(tmp_path, "a").recover() == {REPLICA: [1]}


def test_a_directory_of_another_node_is_refused(tmp_path: Path) -> None:
    DataDir(tmp_path, "a").recover()
    with pytest.raises(
        RabbleError, match=re.escape(f"the data directory {tmp_path} belongs to node 'a'")
    ):
        DataDir(tmp_path, "b").recover()


def test_a_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    disk = DataDir(tmp_path, "a")
    disk.recover()
    disk.persist(REPLICA, {"term": 1})
    (stored,) = (tmp_path / "processes").iterdir()
    stored.write_bytes(stored.read_bytes()[:-3])
    with pytest.raises(RabbleError, match=re.escape(f"cannot read the durable state in {stored}")):
        DataDir(tmp_path, "a").recover()


def test_a_stray_file_is_a_clear_error(tmp_path: Path) -> None:
    DataDir(tmp_path, "a").recover()
    (tmp_path / "processes" / "notes.txt").write_text("mine")
    with pytest.raises(RabbleError, match=r"notes\.txt was not written by rabble-sim"):
        DataDir(tmp_path, "a").recover()


def test_data_that_cannot_be_stored_is_refused_and_the_old_data_kept(tmp_path: Path) -> None:
    disk = DataDir(tmp_path, "a")
    disk.recover()
    disk.persist(REPLICA, "old")
    with pytest.raises(RabbleError, match="cannot encode"):
        disk.persist(REPLICA, {"key": 2**70})
    assert DataDir(tmp_path, "a").recover() == {REPLICA: "old"}


def test_the_dot_counter_round_trips(tmp_path: Path) -> None:
    disk = DataDir(tmp_path, "a")
    assert disk.load_counter() == 0
    disk.save_counter(41)
    disk.save_counter(42)
    assert DataDir(tmp_path, "a").load_counter() == 42


def test_a_corrupt_dot_counter_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "dots").write_text("forty-two")
    with pytest.raises(RabbleError, match=r"dot counter in .* is corrupt"):
        DataDir(tmp_path, "a").load_counter()


def test_an_unusable_directory_is_a_clear_error(tmp_path: Path) -> None:
    occupied = tmp_path / "file"
    occupied.write_text("")
    with pytest.raises(RabbleError, match=re.escape(f"cannot use the data directory {occupied}")):
        DataDir(occupied, "a")
    assert os.path.isfile(occupied)
