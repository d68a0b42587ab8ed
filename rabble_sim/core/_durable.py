"""What a restarted node's ``start`` is handed: the durable data, and what befell its disk."""

from __future__ import annotations

from typing import Any

from ._pid import Pid


class Durable(dict[Pid, Any]):
    """The last data each pid of a restarting node persisted, as a dict, and what happened
    to the disk it was kept on while the node was down.

    ``lost``: the disk was replaced; nothing the node persisted is left (the dict is
    empty), as on a first start, but the node has run before and may have promised
    things it no longer remembers. ``corrupted``: the pids whose record failed its
    checksum; they are not in the dict, and their data is never handed back as if it
    were good. A first start gets ``None`` instead of a ``Durable``.
    """

    __slots__ = ("corrupted", "lost")

    def __init__(
        self,
        data: dict[Pid, Any] | None = None,
        *,
        lost: bool = False,
        corrupted: tuple[Pid, ...] = (),
    ) -> None:
        super().__init__(data or {})
        self.lost = lost
        self.corrupted = corrupted

    @property
    def intact(self) -> bool:
        """Whether everything the node persisted is here."""
        return not self.lost and not self.corrupted

    def __repr__(self) -> str:
        faults = ("lost=True, " if self.lost else "") + (
            f"corrupted={self.corrupted!r}, " if self.corrupted else ""
        )
        return f"Durable({faults}{dict.__repr__(self)})"
