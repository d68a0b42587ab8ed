"""The messages of Raft (Ongaro and Ousterhout, 2014, figure 2), of the key-value service on
it, and what a server persists.

The key-value bodies are Maelstrom's ``lin-kv`` workload's (``read``, ``write``, ``cas``
and their ``_ok`` answers; failures are ``rabble_sim.maelstrom.Error``), so that one
server process answers simulated clients and Maelstrom's alike. A client's request number
is its correlation id's ``request`` (Maelstrom's ``msg_id``), not a field of the body.
"""

from __future__ import annotations

from typing import Any

import attrs

from rabble_sim import Pid, message

Op = tuple[Any, ...]
"""A key-value operation: ``("read", key)``, ``("write", key, value)`` or
``("cas", key, from, to)``."""


@attrs.frozen
class Command:
    """Operation ``op``, request ``request`` of ``client``."""

    client: Pid
    request: int
    op: Op

    @property
    def key(self) -> tuple[Pid, int]:
        return (self.client, self.request)

    def __deepcopy__(self, memo: dict[int, Any]) -> Command:
        return self  # immutable all through: a copy (a postcondition's, per step) would only cost


@attrs.frozen
class Entry:
    """One log entry: appended in ``term`` by the leader ``by``; ``command`` is None for the
    no-op a leader appends when it is elected.

    Raft itself never reads ``by``: the checks do, to tell two leaders of one term apart
    even when they were never up at the same time (election safety).
    """

    term: int
    by: Pid
    command: Command | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Entry:
        return self  # immutable all through, like its command


Log = tuple[Entry, ...]


# -- Raft ------------------------------------------------------------------------------


@message("raft.request_vote")
@attrs.frozen
class RequestVote:
    """A candidate of ``term`` asks for a vote; its log ends at ``last_index``, whose entry
    is of ``last_term`` (0 and 0 for an empty log)."""

    term: int
    last_index: int
    last_term: int


@message("raft.vote")
@attrs.frozen
class Vote:
    """The answer to a ``RequestVote``: the voter's term, and whether it voted for it."""

    term: int
    granted: bool


@message("raft.append_entries")
@attrs.frozen
class AppendEntries:
    """The leader of ``term``: append ``entries`` after the entry at ``prev_index`` (of
    ``prev_term``), and know that the leader has committed up to ``commit``. With no
    entries, a heartbeat."""

    term: int
    prev_index: int
    prev_term: int
    entries: Log
    commit: int


@message("raft.appended")
@attrs.frozen
class Appended:
    """The answer to an ``AppendEntries``: on success, ``match`` is the index of the last
    entry the follower now holds as the leader sent it; on a failure, the length of the
    follower's log (where the leader should look next)."""

    term: int
    success: bool
    match: int


@message("raft.persistent")
@attrs.frozen
class Persistent:
    """What a server keeps on disk: its current term, its vote in that term, its log. It
    is written before the server answers anything that depends on it."""

    term: int
    voted_for: Pid | None
    log: Log


# -- the key-value service ---------------------------------------------------------------


@message("raft.forward")
@attrs.frozen
class Forward:
    """A server that is not the leader passes a client's command on to the leader."""

    command: Command


@message("kv.read")
@attrs.frozen
class Read:
    key: Any


@message("kv.read_ok")
@attrs.frozen
class ReadOk:
    value: Any


@message("kv.write")
@attrs.frozen
class Write:
    key: Any
    value: Any


@message("kv.write_ok")
@attrs.frozen
class WriteOk:
    pass


@message("kv.cas")
@attrs.frozen
class Cas:
    """Set ``key`` to ``to`` if it holds ``from_`` (Maelstrom's body field ``from``)."""

    key: Any
    from_: Any
    to: Any


@message("kv.cas_ok")
@attrs.frozen
class CasOk:
    pass


@message("kv.call")
@attrs.frozen
class Call:
    """Input to a simulated client: run ``op`` next."""

    op: Op
