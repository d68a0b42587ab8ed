"""The executor of a node when its processes fail: exceptions logged sparingly and counted,
fail-stop when durable state or history cannot be written."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import attrs
import pytest

from rabble_sim import CorrelationId, Envelope, Pid, persist
from rabble_sim.checks import read_recorded
from rabble_sim.checks._recorded import TornLineWarning
from rabble_sim.core import invoke
from rabble_sim.net._disk import DataDir
from rabble_sim.net._executor import LocalExecutor
from rabble_sim.net._guard import Guard, Watchdog
from rabble_sim.net._history import HistoryRecorder

from .faulty import Mutiny

WORKER = Pid("worker", "n1")
PEER = Pid("peer", "n2")


@attrs.define
class Saver:
    """On each message: tells the peer "before", persists (or records an invocation),
    tells the peer "after"."""

    pid: Pid = WORKER
    n: int = 0
    records: bool = False

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        self.n += 1
        output.append(Envelope(PEER, self.pid, f"before {self.n}"))
        if self.records:
            output.append(invoke(self.pid, self.n, ("get", "x")))
        else:
            output.append(persist(self.pid, {"n": self.n}))
        output.append(Envelope(PEER, self.pid, f"after {self.n}"))


@attrs.define
class Raiser:
    pid: Pid = WORKER

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        raise Mutiny(f"message {msg}")


def drive(proc: Any, messages: int, disk: DataDir | None = None, *, between: Any = None) -> Any:
    """Deliver ``messages`` messages to ``proc``, one loop turn each (calling ``between()``
    after the first); the executor and what it routed out."""
    routed: list[Any] = []

    async def main() -> LocalExecutor:
        executor = LocalExecutor("n1", route=lambda env: routed.append(env.msg),
                                 members=lambda: ("n1",), disk=disk)  # fmt: skip
        executor.start([proc])
        for i in range(messages):
            executor.deliver(Envelope(WORKER, PEER, i))
            await asyncio.sleep(0)
            if i == 0 and between is not None:
                between()
        executor.close()
        return executor

    return asyncio.run(main()), routed


def test_exceptions_are_counted_and_logged_first_ten_then_every_hundredth(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="rabble_sim.net"):
        executor, _ = drive(Raiser(), 250)
    assert executor.exceptions == 250
    assert WORKER in executor.processes, "the process keeps running"
    numbers = [
        int(m) for m in re.findall(r"exception #(\d+) in handle of worker::n1 on int", caplog.text)
    ]
    assert numbers == [*range(1, 11), 100, 200]
    assert caplog.text.count("Mutiny: message") == 12
    assert "(further ones are logged every 100th, with their number)" in caplog.text


def test_a_failed_persist_stops_the_process_before_anything_after_it_goes_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    disk = DataDir(tmp_path, "n1")
    disk.recover()
    with caplog.at_level(logging.ERROR, logger="rabble_sim.net"):
        executor, routed = drive(
            Saver(), 3, disk, between=lambda: shutil.rmtree(tmp_path / "processes")
        )
    # The first message was saved and acknowledged; the second's persist failed: what it
    # sent before went out, what it would have sent after did not, and it handled nothing
    # more (the third message is a dead letter).
    assert routed == ["before 1", "after 1", "before 2"]
    assert WORKER not in executor.processes
    assert list(executor.failed) == [WORKER]
    assert executor.failed[WORKER].startswith("its durable state could not be saved: ")
    assert executor.failed[WORKER].endswith("No such file or directory")
    assert executor.dead_letters == 1
    assert caplog.text.count("process worker::n1 stopped") == 1


def test_data_that_cannot_be_encoded_stops_the_process_too(tmp_path: Path) -> None:
    disk = DataDir(tmp_path, "n1")
    disk.recover()

    @attrs.define
    class Unstorable(Saver):
        def handle(
            self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
        ) -> None:
            output.append(persist(self.pid, {"lock": asyncio.Lock()}))
            output.append(Envelope(PEER, self.pid, "acknowledged"))

    executor, routed = drive(Unstorable(), 2, disk)
    assert routed == []
    assert "cannot" in executor.failed[WORKER]


def test_a_history_that_cannot_be_written_stops_the_client(tmp_path: Path) -> None:
    disk = DataDir(tmp_path, "n1")
    disk.recover()
    (tmp_path / "history.jsonl").mkdir()  # where the history file should be
    executor, routed = drive(Saver(records=True), 2, disk)
    assert routed == ["before 1"]
    assert executor.failed[WORKER].startswith("its history could not be recorded: cannot write")


def test_the_watchdog_says_once_that_a_handle_is_stuck_and_when_it_returns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    guard = Guard()
    watchdog = Watchdog(guard, "n1", stuck_after=0.1)
    watchdog.start()
    try:
        with caplog.at_level(logging.WARNING, logger="rabble_sim.net"):
            assert guard.run("handle", WORKER, "a message", time.sleep, 0.5) is None
            guard.run("handle", WORKER, "a message", time.sleep, 0.05)  # not stuck
            time.sleep(0.2)
    finally:
        watchdog.stop()
    stuck, returned = [r.getMessage() for r in caplog.records]
    assert stuck == (
        "handle of worker::n1 on a message has run for more than 0.1 s: the node is blocked "
        "until it returns (SIGTERM still stops it)"
    )
    assert re.fullmatch(
        r"handle of worker::n1 on a message returned after about 0\.[3-6] s", returned
    )


def test_after_a_failed_history_write_no_line_follows_the_torn_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = DataDir(tmp_path, "n1")
    disk.recover()
    append = HistoryRecorder._append
    failures = iter([True])

    def full_disk(self: HistoryRecorder, line: dict[str, Any]) -> None:
        if line["kind"] == "invoke" and next(failures, False):
            os.write(self._fd, b'{"client": "worker::n1", "ki')  # type: ignore[arg-type]
            raise OSError(errno.ENOSPC, "No space left on device")
        append(self, line)

    monkeypatch.setattr(HistoryRecorder, "_append", full_disk)
    other = Saver(Pid("other", "n1"), records=True)
    routed: list[Any] = []

    async def main() -> LocalExecutor:
        executor = LocalExecutor("n1", route=lambda env: routed.append(env.msg),
                                 members=lambda: ("n1",), disk=disk)  # fmt: skip
        executor.start([Saver(records=True), other])
        for pid in (WORKER, other.pid, other.pid):
            executor.deliver(Envelope(pid, PEER, "go"))
            await asyncio.sleep(0)
        executor.close()
        return executor

    executor = asyncio.run(main())
    reason = f"its history could not be recorded: cannot write the history {tmp_path}/history.jsonl"
    assert executor.failed == {
        WORKER: f"{reason}: No space left on device",
        other.pid: f"{reason}: No space left on device",  # its line would follow the torn one
    }
    assert routed == ["before 1", "before 1"]
    with pytest.warns(TornLineWarning):
        assert read_recorded([tmp_path / "history.jsonl"]).operations == ()
