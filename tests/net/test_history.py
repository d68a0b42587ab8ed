"""Client histories on a real node: the executor appends each invoke and complete of its
processes to ``history.jsonl``, on disk before anything else the process sent happens."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import attrs
import pytest

from rabble_sim import CorrelationId, Envelope, Pid
from rabble_sim.checks import read_recorded
from rabble_sim.checks._recorded import TornLineWarning
from rabble_sim.core import complete, invoke
from rabble_sim.net._disk import DataDir
from rabble_sim.net._executor import LocalExecutor
from rabble_sim.net._history import HISTORY_FILE

CLIENT = Pid("client", "c1", "g1")
REPLICA = Pid("replica", "n1", "g1")


@attrs.define
class OneOp:
    """Puts x = a at init; on an answer, records it and sends ``"next"`` to the replica."""

    pid: Pid = CLIENT

    def init(self, output: list[Envelope]) -> None:
        output.append(invoke(self.pid, 1, ("put", "x", "a")))
        output.append(Envelope(REPLICA, self.pid, "request"))

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        output.append(complete(self.pid, 1, ("ok", ["nested"])))
        output.append(Envelope(REPLICA, self.pid, "next"))


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def run_one_op(disk: DataDir | None, path: Path | None) -> list[tuple[str, int]]:
    """Run ``OneOp`` to its answer; for each envelope routed, the message and how many
    lines the history file had at that moment."""
    routed: list[tuple[str, int]] = []

    async def main() -> None:
        def route(env: Envelope) -> None:
            seen = len(path.read_text().splitlines()) if path and path.exists() else 0
            routed.append((env.msg, seen))

        executor = LocalExecutor("c1", route=route, members=lambda: ("c1",), disk=disk)
        executor.start([OneOp()])
        executor.deliver(Envelope(CLIENT, REPLICA, "answer"))
        await asyncio.sleep(0)  # one turn of the loop: the answer is handled
        executor.close()

    asyncio.run(main())
    return routed


def test_each_event_is_one_line_written_before_the_next_message(tmp_path: Path) -> None:
    path = tmp_path / HISTORY_FILE
    routed = run_one_op(DataDir(tmp_path, "c1"), path)
    # The start line and the invocation are in the file before the request leaves, and
    # the completion before the next one: a kill right after loses nothing answered.
    assert routed == [("request", 2), ("next", 3)]
    start, invoked, done = lines(path)
    assert start == {"kind": "start", "node": "c1", "time": start["time"]}
    assert invoked == {
        "kind": "invoke", "client": "g1::client::c1", "op": 1,
        "value": ["put", "x", "a"], "time": invoked["time"],
    }  # fmt: skip
    assert done["kind"] == "ok" and done["value"] == ["ok", ["nested"]]
    assert start["time"] < invoked["time"] < done["time"]
    (op,) = read_recorded([path]).operations
    assert op.input == ("put", "x", "a") and op.output == ("ok", ("nested",))


def test_a_restart_appends_to_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / HISTORY_FILE
    run_one_op(DataDir(tmp_path, "c1"), path)
    run_one_op(DataDir(tmp_path, "c1"), path)
    assert [line["kind"] for line in lines(path)] == ["start", "invoke", "ok"] * 2
    assert [op.process.name for op in read_recorded([path]).operations] == ["client", "client#2"]


def test_a_node_without_data_directory_says_once_that_it_keeps_no_history(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="rabble_sim.net"):
        routed = run_one_op(None, None)
    assert [msg for msg, _ in routed] == ["request", "next"]
    said = [r.getMessage() for r in caplog.records if "history" in r.getMessage()]
    assert said == [f"{CLIENT} records a client history, but node c1 has no --data-dir: "
                    "the history is not kept"]  # fmt: skip


def test_a_node_without_clients_writes_no_history(tmp_path: Path) -> None:
    async def main() -> None:
        executor = LocalExecutor(
            "n1", route=lambda env: None, members=lambda: ("n1",), disk=DataDir(tmp_path, "n1")
        )
        executor.start([])
        executor.close()

    asyncio.run(main())
    assert not (tmp_path / HISTORY_FILE).exists()


def test_after_a_torn_last_line_a_restart_starts_a_new_line_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / HISTORY_FILE
    run_one_op(DataDir(tmp_path, "c1"), path)
    text = path.read_text()
    path.write_text(text[:-9])  # the machine crashed while the completion was written
    with caplog.at_level(logging.WARNING, logger="rabble_sim.net"):
        run_one_op(DataDir(tmp_path, "c1"), path)
    said = [r.getMessage() for r in caplog.records if "torn" in r.getMessage()]
    assert said == [
        f"the history {path} ended in a torn line (the machine crashed while it was written?): "
        "node c1 starts its lines after it; lincheck --recorded skips it"
    ]
    torn, *rest = path.read_text().splitlines()[2:]
    assert torn == text.splitlines()[2][:-8], "the torn line is kept, on a line of its own"
    assert [json.loads(line)["kind"] for line in rest] == ["start", "invoke", "ok"]
    with pytest.warns(TornLineWarning, match=rf"{HISTORY_FILE}:3: skipped a torn line"):
        history = read_recorded([path])
    assert [(op.process.name, op.returned is None) for op in history.operations] == [
        ("client", True),  # its completion was torn: never seen to complete
        ("client#2", False),
    ]
