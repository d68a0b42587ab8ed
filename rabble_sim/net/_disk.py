"""The node's data directory: durable process state and the membership dot counter.

Every write goes to a temporary file, is flushed and fsynced, renamed over the old file,
and the directory is fsynced, so that a crash at any moment leaves the old data or the
new, never a torn mix. Durable state is encoded as in the simulator (``encode_durable``).
"""

from __future__ import annotations

import base64
import contextlib
import os
from pathlib import Path
from typing import Any

from ..codec import decode_durable, encode_durable
from ..core import CodecError, Pid, RabbleError

MARKER = "node"


class DataDir:
    """``root/processes/<pid>`` holds each pid's last persisted data; ``root/node`` marks
    a directory that a node has started from (so the next start is a restart)."""

    def __init__(self, root: Path, node: str) -> None:
        self.root = root
        self.node = node
        self._processes = root / "processes"
        try:
            self._processes.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RabbleError(f"cannot use the data directory {root}: {e.strerror}") from None

    def recover(self) -> dict[Pid, Any] | None:
        """Each pid's persisted data, or None on the first start from this directory."""
        marker = self.root / MARKER
        if not marker.exists():
            self._write(marker, self.node.encode())
            return None
        owner = marker.read_bytes().decode(errors="replace")
        if owner != self.node:
            raise RabbleError(f"the data directory {self.root} belongs to node {owner!r}")
        durable: dict[Pid, Any] = {}
        for path in sorted(self._processes.iterdir()):
            if path.name.startswith("."):
                continue  # a temporary file left by a crash mid-write
            try:
                pid = Pid.parse(base64.urlsafe_b64decode(path.name.encode()).decode())
            except ValueError:  # also binascii.Error and UnicodeDecodeError
                raise RabbleError(
                    f"{path} was not written by rabble-sim: move it out of the data directory"
                ) from None
            try:
                durable[pid] = decode_durable(path.read_bytes())
            except CodecError as e:
                raise RabbleError(f"cannot read the durable state in {path}: {e}") from None
        return durable

    def persist(self, pid: Pid, data: Any) -> None:
        """Make ``data`` the durable state of ``pid``; a ``CodecError`` if it cannot be."""
        name = base64.urlsafe_b64encode(str(pid).encode()).decode()
        self._write(self._processes / name, encode_durable(data))

    def load_counter(self) -> int:
        path = self.root / "dots"
        try:
            return int(path.read_text()) if path.exists() else 0
        except ValueError:
            raise RabbleError(f"the membership dot counter in {path} is corrupt") from None

    def save_counter(self, counter: int) -> None:
        self._write(self.root / "dots", str(counter).encode())

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        temporary = path.with_name("." + path.name + ".tmp")
        with open(temporary, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            with contextlib.suppress(OSError):  # not every file system syncs directories
                os.fsync(directory)
        finally:
            os.close(directory)
