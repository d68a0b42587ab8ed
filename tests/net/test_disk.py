"""A node's data directory: what a process persists is what it gets back after a restart."""

from __future__ import annotations

import base64
import os
import re
import zlib
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from rabble_sim import Durable, Pid
from rabble_sim.codec import restored
from rabble_sim.core import RabbleError
from rabble_sim.net._disk import DataDir

from .conftest import Cluster, run_serve
from .demo import Pong

REPLICA = Pid("replica/1", "a")
OTHER = Pid("replica/2", "a")
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


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[:-3], id="torn"),
        pytest.param(lambda data: data[:-2] + bytes([data[-2] ^ 0x10]) + data[-1:], id="bit-flip"),
        pytest.param(lambda data: b"", id="empty"),
    ],
)
def test_a_damaged_record_is_named_to_start_and_never_handed_back(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    disk = DataDir(tmp_path, "a")
    disk.recover()
    disk.persist(REPLICA, {"term": 1})
    disk.persist(OTHER, {"term": 2})
    disk.close()
    stored = tmp_path / "processes" / _file_name(REPLICA)
    stored.write_bytes(damage(stored.read_bytes()))
    durable = DataDir(tmp_path, "a").recover()
    assert isinstance(durable, Durable)
    assert durable.corrupted == (REPLICA,) and not durable.lost
    assert dict(durable) == {OTHER: {"term": 2}}


def test_a_record_written_before_checksums_is_still_read(tmp_path: Path) -> None:
    disk = DataDir(tmp_path, "a")
    disk.recover()
    disk.persist(REPLICA, {"term": 1})
    stored = tmp_path / "processes" / _file_name(REPLICA)
    # The old layout: [tag, body], no checksum.
    tag, body, _ = msgspec.msgpack.decode(stored.read_bytes())
    stored.write_bytes(msgspec.msgpack.encode([tag, msgspec.Raw(msgspec.msgpack.encode(body))]))
    durable = DataDir(tmp_path, "a").recover()
    assert durable == {REPLICA: {"term": 1}} and durable is not None and durable.intact


def test_a_record_of_an_unknown_message_type_is_a_clear_error(tmp_path: Path) -> None:
    disk = DataDir(tmp_path, "a")
    disk.recover()
    disk.persist(REPLICA, {"term": 1})
    stored = tmp_path / "processes" / _file_name(REPLICA)
    body = msgspec.msgpack.encode({"x": 1})
    stored.write_bytes(msgspec.msgpack.encode(["no.such.tag", msgspec.Raw(body), zlib.crc32(body)]))
    with pytest.raises(RabbleError, match=re.escape(f"cannot read the durable state in {stored}")):
        DataDir(tmp_path, "a").recover()


def _file_name(pid: Pid) -> str:
    return base64.urlsafe_b64encode(str(pid).encode()).decode()


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


def test_state_without_the_identity_file_is_refused_not_taken_for_a_first_start(
    tmp_path: Path,
) -> None:
    disk = DataDir(tmp_path, "a")
    disk.recover()
    disk.persist(REPLICA, {"term": 4})
    disk.save_counter(3)
    (tmp_path / "node").unlink()
    with pytest.raises(RabbleError) as refused:
        DataDir(tmp_path, "a").recover()
    assert str(refused.value) == (
        f"the data directory {tmp_path} holds durable state ({tmp_path / 'processes'}), dots "
        f"but not the identity file {tmp_path / 'node'}: put it back (it holds the node's "
        "name), or start from an empty directory"
    )
    assert not (tmp_path / "node").exists(), "nothing was written"


def fresh(data: Path) -> None:
    """A directory a node started from and ran in: its state, counter and history."""
    disk = DataDir(data, "a")
    disk.recover()
    disk.persist(REPLICA, [1])
    disk.save_counter(2)
    (data / "history.jsonl").write_text("")


def a_process_file_is_a_directory(data: Path) -> None:
    fresh(data)
    (stored,) = (data / "processes").iterdir()
    stored.unlink()
    stored.mkdir()


DAMAGE = {
    "the identity file is lost": (
        lambda data: (fresh(data), (data / "node").unlink()),
        "holds durable state ({data}/processes), dots, history.jsonl but not the identity "
        "file {data}/node",
    ),
    "processes is a file": (
        lambda data: (data.mkdir(), (data / "processes").write_text("")),
        "the data directory {data} is not as a node left it: {data}/processes is a file, not "
        "a directory",
    ),
    "node is a directory": (
        lambda data: (data.mkdir(), (data / "node").mkdir()),
        "the data directory {data} is not as a node left it: {data}/node is a directory, "
        "where a node keeps a file",
    ),
    "a process file is a directory": (
        a_process_file_is_a_directory,
        "the data directory {data} is not as a node left it: {data}/processes/",
    ),
    "dots is a directory": (
        lambda data: (fresh(data), (data / "dots").unlink(), (data / "dots").mkdir()),
        "the data directory {data} is not as a node left it: {data}/dots is a directory",
    ),
    "the history is a directory": (
        lambda data: (
            fresh(data),
            (data / "history.jsonl").unlink(),
            (data / "history.jsonl").mkdir(),
        ),
        "{data}/history.jsonl is a directory, where a node keeps a file",
    ),
    "the counter is negative": (
        lambda data: (fresh(data), (data / "dots").write_text("-3")),
        "the membership dot counter in {data}/dots is corrupt",
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_serve_refuses_a_data_directory_that_is_not_as_a_node_left_it(
    tmp_path: Path, damage: str
) -> None:
    data = tmp_path / "data"
    prepare, says = DAMAGE[damage]
    prepare(data)
    done = run_serve(
        "demo:scenario", "--node", "a", "--listen", "127.0.0.1:0", "--data-dir", str(data)
    )
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("rabble-sim: error: ")
    assert says.format(data=data) in done.stderr


def test_a_second_node_process_on_one_data_directory_is_refused(
    cluster: Cluster, tmp_path: Path
) -> None:
    data = tmp_path / "a-data"
    a = cluster.start("demo:scenario", "a", data_dir=data)
    done = run_serve(
        "demo:scenario", "--node", "a", "--listen", "127.0.0.1:0", "--data-dir", str(data)
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"rabble-sim: error: the data directory {data} is in use by another running node\n"
    )
    assert a.proc.poll() is None and a.members() == ["a"]
