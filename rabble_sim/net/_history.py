"""Client histories on a real node: the ``invoke``/``complete`` requests of its processes,
appended to ``history.jsonl`` in its data directory for a linearizability checker.

One JSON object a line (``rabble_sim.checks.read_recorded`` reads them back)::

    {"kind": "start", "node": "c1", "time": 1714000000000000000}
    {"client": "g1::client::c1", "kind": "invoke", "op": 1, "time": ..., "value": ["get", "x"]}
    {"client": "g1::client::c1", "kind": "ok", "op": 1, "time": ..., "value": "a"}

``value`` is the call (``invoke``) or the result (``ok``) as plain data (``to_plain``: a
tuple becomes a list). ``time`` is ``time.time_ns()``, never lower than the file's
previous line: it orders events across the processes of one machine; histories merged
from several machines are only as right as their clocks are synchronized. A ``start``
line opens each life of the node (a restart appends to the same file), so that a client
restarted with its op numbers from 1 again counts as a new client. The file is created
at the node's first recorded event: nodes without clients have none.

A crash of the machine may leave the last line torn (no newline, half an object): the
next life starts on a new line after it, with a warning, and the reader skips a torn line
that ends a life.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from ..codec import to_plain
from ..core import Pid, RabbleError

log = logging.getLogger("rabble_sim.net")

HISTORY_FILE = "history.jsonl"
"""The name of the history file in a node's data directory."""


class HistoryRecorder:
    """Appends a node's client history to ``root/history.jsonl``; with ``root=None`` (a
    node without a data directory) it records nothing and says so once in the log."""

    def __init__(self, root: Path | None, node: str) -> None:
        self.path = root / HISTORY_FILE if root is not None else None
        self.node = node
        self._fd: int | None = None
        self._last = 0
        self._warned = False
        self._broken = ""
        """Why the file cannot be written, once a write failed: no line may follow a line
        that may be torn, in this life of the node."""

    def record(self, client: Pid, kind: str, op: Any, value: Any) -> None:
        """Append one line, an ``invoke`` or ``ok`` of ``client`` with its operation number
        and call or result, before the client's next message."""
        if self.path is None:
            if not self._warned:
                self._warned = True
                log.info(
                    "%s records a client history, but node %s has no --data-dir: "
                    "the history is not kept",
                    client, self.node,
                )  # fmt: skip
            return
        plain = to_plain(value)  # a CodecError for a value that is not plain data
        self._write({"kind": kind, "client": str(client), "op": op, "value": plain})

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _end_torn_line(self, fd: int) -> None:
        """If the file does not end with a newline (the machine crashed while its last line
        was written), end that line, so that this life's lines are whole."""
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            os.write(fd, b"\n")
            log.warning(
                "the history %s ended in a torn line (the machine crashed while it was "
                "written?): node %s starts its lines after it; lincheck --recorded skips it",
                self.path, self.node,
            )  # fmt: skip

    def _write(self, line: dict[str, Any]) -> None:
        """Append ``line``; a ``RabbleError`` if it cannot be, now or after any failure."""
        if self._broken:
            raise RabbleError(self._broken)
        try:
            if self._fd is None:
                assert self.path is not None
                self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
                self._end_torn_line(self._fd)
                self._append({"kind": "start", "node": self.node})
            self._append(line)
        except OSError as e:
            self._broken = f"cannot write the history {self.path}: {e.strerror}"
            raise RabbleError(self._broken) from None

    def _append(self, line: dict[str, Any]) -> None:
        assert self._fd is not None
        # Never backwards in one file, even if the wall clock is stepped back.
        self._last = max(time.time_ns(), self._last + 1)
        data = (json.dumps({**line, "time": self._last}, sort_keys=True) + "\n").encode()
        # One write(2) per line on an O_APPEND descriptor, nothing buffered in the process:
        # once it returns, the line is in the kernel's page cache and survives the
        # process being killed (SIGKILL included), which is what a test or a deployment
        # kills. No fsync per line: it would cost a disk flush per operation, and only a
        # crash of the machine itself could lose the tail, which a checker reads as
        # operations never completed (still a sound check, only a weaker one).
        while data:
            data = data[os.write(self._fd, data) :]
