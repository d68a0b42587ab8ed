"""The node's data directory: durable process state and the membership dot counter.

Every write goes to a temporary file, is flushed and fsynced, renamed over the old file,
and the directory is fsynced, so that a crash at any moment leaves the old data or the
new, never a torn mix. Durable state is encoded as in the simulator (``encode_durable``).

A directory that is not what a node left there is refused with a ``RabbleError`` naming
it, never taken for a fresh one: state without the node's identity file, a directory
where a file belongs, a file that does not decode. One node process at a time may use a
directory (it holds a lock on it while it runs).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import stat
from pathlib import Path
from typing import Any

from ..codec import Corrupted, decode_durable, encode_durable
from ..core import CodecError, Durable, Pid, RabbleError
from ._history import HISTORY_FILE

log = logging.getLogger("rabble_sim.net")

MARKER = "node"
"""The identity file: the name of the node the directory belongs to."""
COUNTER = "dots"
PROCESSES = "processes"
HISTORY = HISTORY_FILE
"""Written by ``HistoryRecorder``; named here so that a start can check its shape."""


class DataDir:
    """``root/processes/<pid>`` holds each pid's last persisted data; ``root/node`` marks
    a directory that a node has started from (so the next start is a restart)."""

    def __init__(self, root: Path, node: str) -> None:
        self.root = root
        self.node = node
        self._processes = root / PROCESSES
        self._lock: int | None = None
        try:
            self._processes.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise self._damaged(self._processes, "is a file, not a directory") from None
        except OSError as e:
            raise RabbleError(f"cannot use the data directory {root}: {e.strerror}") from None

    def lock(self) -> None:
        """Hold the directory until ``close``: a second node process started on it (the
        same node started twice by mistake) is refused rather than writing over the
        first one's state."""
        try:
            import fcntl  # noqa: PLC0415  (POSIX only: elsewhere, no lock)
        except ImportError:  # pragma: no cover
            return
        fd = os.open(self.root, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RabbleError(
                f"the data directory {self.root} is in use by another running node"
            ) from None
        self._lock = fd

    def close(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # releases the lock
            self._lock = None

    def recover(self) -> Durable | None:
        """Each pid's persisted data, or None on the first start from this directory. A
        record that fails its checksum is left out and named in ``Durable.corrupted``."""
        try:
            return self._recover()
        except OSError as e:
            where = f"{e.filename}: " if e.filename else ""
            raise RabbleError(
                f"cannot use the data directory {self.root}: {where}{e.strerror}"
            ) from None

    def _recover(self) -> Durable | None:
        marker = self.root / MARKER
        for name in (MARKER, COUNTER, HISTORY):
            self._check_file(self.root / name)
        if not marker.exists():
            left = self._left_behind()
            if left:
                raise RabbleError(
                    f"the data directory {self.root} holds {left} but not the identity file "
                    f"{marker}: put it back (it holds the node's name), or start from an "
                    "empty directory"
                )
            self._write(marker, self.node.encode())
            return None
        owner = marker.read_bytes().decode(errors="replace")
        if owner != self.node:
            raise RabbleError(f"the data directory {self.root} belongs to node {owner!r}")
        durable: dict[Pid, Any] = {}
        corrupted: list[Pid] = []
        for path in sorted(self._processes.iterdir()):
            if path.name.startswith("."):
                continue  # a temporary file left by a crash mid-write
            try:
                pid = Pid.parse(base64.urlsafe_b64decode(path.name.encode()).decode())
            except ValueError:  # also binascii.Error and UnicodeDecodeError
                raise RabbleError(
                    f"{path} was not written by rabble-sim: move it out of the data directory"
                ) from None
            self._check_file(path)
            try:
                durable[pid] = decode_durable(path.read_bytes())
            except Corrupted as e:
                log.warning("the durable state in %s is damaged (%s): %s restarts without it",
                            path, e, pid)  # fmt: skip
                corrupted.append(pid)
            except CodecError as e:
                raise RabbleError(f"cannot read the durable state in {path}: {e}") from None
        return Durable(durable, corrupted=tuple(corrupted))

    def _check_file(self, path: Path) -> None:
        """A ``RabbleError`` naming the directory if ``path`` exists and is not a file."""
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise self._damaged(path, f"is {kind}, where a node keeps a file")

    def _damaged(self, path: Path, what: str) -> RabbleError:
        return RabbleError(
            f"the data directory {self.root} is not as a node left it: {path} {what}"
        )

    def _left_behind(self) -> str:
        """What a node wrote here (durable state, a dot counter, a history), in words."""
        found = []
        if any(not p.name.startswith(".") for p in self._processes.iterdir()):
            found.append(f"durable state ({self._processes})")
        found += [name for name in (COUNTER, HISTORY) if (self.root / name).exists()]
        return ", ".join(found)

    def persist(self, pid: Pid, data: Any) -> None:
        """Make ``data`` the durable state of ``pid``; a ``CodecError`` if it cannot be
        encoded, an ``OSError`` if it cannot be written (the old data is then kept)."""
        name = base64.urlsafe_b64encode(str(pid).encode()).decode()
        self._write(self._processes / name, encode_durable(data))

    def load_counter(self) -> int:
        path = self.root / COUNTER
        try:
            counter = int(path.read_text()) if path.exists() else 0
        except (ValueError, UnicodeDecodeError):
            counter = -1
        except OSError as e:
            raise RabbleError(
                f"cannot read the membership dot counter {path}: {e.strerror}"
            ) from None
        if counter < 0:
            raise RabbleError(f"the membership dot counter in {path} is corrupt")
        return counter

    def save_counter(self, counter: int) -> None:
        """A ``RabbleError`` if the counter cannot be written."""
        path = self.root / COUNTER
        try:
            self._write(path, str(counter).encode())
        except OSError as e:
            raise RabbleError(
                f"cannot save the membership dot counter in {path}: {e.strerror}"
            ) from None

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
