"""A ``serve`` node whose processes misbehave: whatever their code raises (``SystemExit``
and ``KeyboardInterrupt`` included) is logged and the node keeps serving; code that never
returns is logged as stuck, and SIGTERM or SIGINT still stops the node; a process whose
durable state cannot be saved stops, and says so in ``status``."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from rabble_sim import Pid
from rabble_sim.core import RabbleError, ServiceFailed, ServiceResult
from rabble_sim.net import CallTimeout, Node, fetch_status

from .conftest import ROOT, SECRET, Cluster, client_node, eventually, run_serve
from .faulty import Hang, Ping, Pong, Raise, Raised, Store, Stored, UseService

T = TypeVar("T")
KINDS = ("exit0", "exit7", "interrupt", "mutiny", "value")


def as_client(addr: str, body: Callable[[Node], Awaitable[T]]) -> T:
    """``body(client)``, with a client node that joined the cluster through ``addr``."""

    async def main() -> T:
        async with client_node(addr, ["a"]) as client:
            return await body(client)

    return asyncio.run(main())


def test_whatever_protocol_code_raises_is_logged_and_the_node_keeps_serving(
    cluster: Cluster,
) -> None:
    a = cluster.start("faulty:scenario", "a")
    trouble, grumpy = Pid("trouble", "a"), Pid("grumpy", "a")

    async def misbehave(client: Node) -> list[Any]:
        seen: list[Any] = []
        for kind in KINDS:  # each answers, then raises
            seen.append(await client.call(trouble, Raise(kind)))
            seen.append(await client.call(trouble, Ping()))
        seen.append(await client.call(trouble, UseService("quit")))
        seen.append(await client.call(trouble, UseService("answer")))
        with pytest.raises(RabbleError, match=r"the factory raised SystemExit\(3\)"):
            await client.spawn("a", "boom", "extra")
        seen.append(await client.call(grumpy, Ping()))
        return seen

    seen = as_client(a.addr, misbehave)
    assert seen == [
        *(x for i, kind in enumerate(KINDS) for x in (Raised(kind), Pong("trouble::a", i + 1))),
        ServiceFailed("quit", "SystemExit(0)"),
        ServiceResult("answer", 42),
        Pong("grumpy::a", 0),  # its init raised SystemExit(0); it runs all the same
    ]
    assert a.proc.poll() is None
    status = a.status()
    assert status.exceptions == len(KINDS) + 2  # and grumpy's init, and the factory
    assert set(status.processes) == {"trouble::a", "ledger::a", "grumpy::a"}
    log = a.log_text()
    assert "exception #1 in init of grumpy::a:" in log
    for found in ("SystemExit: 0", "SystemExit: 7", "KeyboardInterrupt", "Mutiny: all hands"):
        assert found in log
    assert "exception #7 in factory 'boom' for extra::a:" in log
    # The traceback starts at the exception: not "during handling" of uvloop's ImportError.
    assert "During handling of the above exception" not in log
    assert "uvloop" not in log
    # A real SIGINT still stops it, cleanly.
    a.kill(signal.SIGINT)
    assert a.proc.returncode == 0
    assert "node a stopped" in a.log_text()


def test_a_start_that_exits_is_a_failed_start_not_a_clean_exit() -> None:
    done = run_serve("faulty:broken_start", "--node", "a", "--listen", "127.0.0.1:0")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines()[-1] == (
        "rabble-sim: error: the scenario's start raised SystemExit: 0 (for node a; the "
        "traceback is in the log)"
    )


def send_and_forget(addr: str, to: Pid, msg: Any) -> None:
    async def body(client: Node) -> None:
        with pytest.raises(CallTimeout):
            await client.call(to, msg, timeout=0.3)

    as_client(addr, body)


@pytest.mark.parametrize(
    ("how", "sig"),
    [("spin", signal.SIGTERM), ("sleep", signal.SIGINT), ("wait", signal.SIGTERM)],
)
def test_a_stuck_handle_is_logged_once_and_a_stop_signal_still_stops_the_node(
    cluster: Cluster, how: str, sig: int
) -> None:
    a = cluster.start("faulty:scenario", "a", extra=("--stuck-after", "0.5"))
    send_and_forget(a.addr, Pid("trouble", "a"), Hang(how))
    stuck = "handle of trouble::a on Hang has run for more than 0.5 s"
    eventually(lambda: stuck in a.log_text(), within=5, what="the watchdog logs it")
    time.sleep(1.0)  # two more of the watchdog's looks at it
    assert a.log_text().count(stuck) == 1
    signalled = time.monotonic()
    a.kill(sig)
    assert a.proc.returncode == 0
    assert time.monotonic() - signalled < 5
    log = a.log_text()
    assert "a stop signal interrupted handle of trouble::a on Hang: the node stops" in log
    assert "node a stopped" in log
    assert len(re.findall(r"^Traceback", log, re.MULTILINE)) == 1, "grumpy's init's only"


def test_a_persist_that_fails_stops_that_process_and_status_says_why(
    cluster: Cluster, tmp_path: Path
) -> None:
    data = tmp_path / "a-data"
    a = cluster.start("faulty:scenario", "a", data_dir=data)
    ledger = Pid("ledger", "a")

    async def store(client: Node) -> list[Any]:
        replies: list[Any] = [await client.call(ledger, Store(5))]
        shutil.rmtree(data)  # the data directory is gone: nothing can be saved
        for n in (3, 4):
            try:
                replies.append(await client.call(ledger, Store(n), timeout=0.5))
            except CallTimeout:
                replies.append("no answer")
        replies.append(await client.call(Pid("trouble", "a"), Ping()))
        # While the client is still a member: see below.
        status = await fetch_status(a.addr, SECRET.encode())
        replies.append((status.failed, sorted(status.processes)))
        shown = await status_command(a.addr), await status_command(a.addr, "--json")
        replies.append(shown)
        return replies

    *answers, (failed, running), (human, as_json) = as_client(a.addr, store)
    # The total of 8 was never saved, so it was never acknowledged; nor was anything after.
    assert answers == [Stored(5), "no answer", "no answer", Pong("trouble::a", 1)]
    assert failed == {
        "ledger::a": f"its durable state could not be saved: {data}/processes/"
        f"{failed_file_name(ledger)}: No such file or directory"
    }
    assert running == ["grumpy::a", "trouble::a"]
    assert json.loads(as_json)["failed"] == failed
    assert f"failed ledger::a: {failed['ledger::a']}" in " ".join(human.split())
    log = a.log_text()
    assert log.count("process ledger::a stopped: its durable state could not be saved") == 1
    assert "Store for ledger::a, from rabble::caller::tester (it failed: its durable state" in log
    # The client left: the membership changed, and the node cannot save its dot counter
    # either. It cannot go on, and says why.
    a.proc.wait(timeout=10)
    assert a.proc.returncode == 2
    assert f"rabble-sim: error: node a: cannot save the membership dot counter in {data}/dots" in (
        a.log_text()
    )


async def status_command(addr: str, *args: str) -> str:
    """What ``rabble-sim status ADDR ARGS`` prints (run without blocking the client's
    loop, which must keep its link to the node alive)."""
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rabble_sim.cli", "status", addr, *args,
        env={**os.environ, "RABBLE_SIM_SECRET": SECRET, "COLUMNS": "200"}, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await done.communicate()
    assert done.returncode == 0
    return out.decode()


def failed_file_name(pid: Pid) -> str:
    import base64

    return "." + base64.urlsafe_b64encode(str(pid).encode()).decode() + ".tmp"
