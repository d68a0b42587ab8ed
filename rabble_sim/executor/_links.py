"""The link watches of a node's processes: who watches which node, and who hears it is lost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..core import ConnectionLost, CorrelationId, Pid, Watch


class LinkWatches:
    """Each process's watches (``Watch``) of other nodes, in the order it made them, with
    the cid its ``ConnectionLost`` will carry. A watch is told once, then forgotten."""

    __slots__ = ("_watches",)

    def __init__(self) -> None:
        self._watches: dict[Pid, dict[Watch, CorrelationId | None]] = {}

    def copy(self) -> LinkWatches:
        clone = LinkWatches()
        clone._watches = {pid: watches.copy() for pid, watches in self._watches.items()}
        return clone  # watches and cids are immutable

    def __bool__(self) -> bool:
        return bool(self._watches)

    def entries(self) -> tuple[tuple[Pid, Watch, CorrelationId | None], ...]:
        """Every watch, as (watcher, watch, cid), in the order they are told."""
        return tuple(
            (watcher, watch, cid)
            for watcher, watches in self._watches.items()
            for watch, cid in watches.items()
        )

    def add(self, watcher: Pid, watch: Watch, cid: CorrelationId | None) -> None:
        """``watcher`` watches ``watch.node`` (again: the latest cid is the one told)."""
        self._watches.setdefault(watcher, {})[watch] = cid

    def remove(self, watcher: Pid, watch: Watch) -> None:
        """``watcher`` no longer watches ``watch``."""
        watches = self._watches.get(watcher)
        if watches is not None:
            watches.pop(watch, None)
            if not watches:
                del self._watches[watcher]

    def forget(self, watcher: Pid) -> None:
        """``watcher`` stopped: its watches go with it."""
        self._watches.pop(watcher, None)

    def lost(self, members: tuple[str, ...]) -> Iterator[tuple[Pid, ConnectionLost, Any]]:
        """The watches of nodes not among ``members``, each once, as (watcher, what it is
        told, the cid to tell it with); they are forgotten."""
        for watcher, watches in list(self._watches.items()):
            for watch in [watch for watch in watches if watch.node not in members]:
                yield watcher, ConnectionLost(watch.node, watch.pid), watches.pop(watch)
            if not watches:
                del self._watches[watcher]
