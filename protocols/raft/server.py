"""The key-value server: a process that embeds ``Raft`` and applies its committed entries to
a ``Store``, answering clients (simulated ones and Maelstrom's alike).

A client may ask any server. The leader appends the request to its log; a follower that
knows the leader forwards it there; one that knows none answers error 11 (temporarily
unavailable: the request did not happen, try again). Every server applies every committed
entry in order; a server the client asked answers it when it applies the entry, if it
still has the request pending (one it took before a crash it has forgotten: the client
asks again), or at once from the store's client table if it has applied it already.
Reads go through the log like writes, so a read is answered only with what a majority
had committed after it arrived; with the ``stale_leader_reads`` bug a leader answers them
from its own state at once.
"""

from __future__ import annotations

import attrs

from rabble_sim import CorrelationId, Envelope, Pid
from rabble_sim.maelstrom import TEMPORARILY_UNAVAILABLE, Error

from .kv import Reply, Store, op_of
from .messages import Command, Forward
from .raft import Raft

NAME = "kv"


def server_pid(node: str) -> Pid:
    """The pid of the key-value server on ``node``."""
    return Pid(NAME, node)


@attrs.define
class Server:
    """A key-value server: its Raft, the state machine, the requests it must answer."""

    pid: Pid
    raft: Raft
    store: Store = attrs.Factory(Store)
    pending: list[tuple[Pid, int]] = attrs.Factory(list)
    """The requests asked of this server and not yet answered, as (client, request)."""

    def init(self, output: list[Envelope]) -> None:
        self.raft.start(output)

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if self.raft.handle(msg, from_, cid, output):
            self._apply(output)
        elif isinstance(msg, Forward):
            if from_ in self.raft.peers:  # a command in a client's name only from a server
                self._submit(msg.command, output)
        else:
            op = op_of(msg)
            if op is not None and cid is not None and cid.request is not None:
                self._on_request(Command(from_, cid.request, op), output)

    def _on_request(self, command: Command, output: list[Envelope]) -> None:
        cached = self.store.table.get(command.client)
        if cached is not None and cached.request >= command.request:
            if cached.request == command.request:  # a retry of one it has applied
                self._answer(command, cached.reply, output)
            return
        if self.raft.is_leader and command.op[0] == "read" and self.raft.bugs.stale_leader_reads:
            self._answer(command, self.store.execute(command.op), output)
            return
        if not self.raft.is_leader and self.raft.leader is None:
            error = Error(TEMPORARILY_UNAVAILABLE, "no leader is known; try again")
            self._answer(command, error, output)
            return
        # One request at a time per client: a newer one means the older ones are given up.
        client, request = command.key
        self.pending = [p for p in self.pending if p[0] != client or p[1] > request]
        if command.key not in self.pending:
            self.pending.append(command.key)
        if self.raft.is_leader:
            self._submit(command, output)
        elif self.raft.leader is not None:
            output.append(Envelope(self.raft.leader, self.pid, Forward(command)))

    def _submit(self, command: Command, output: list[Envelope]) -> None:
        """Append ``command`` if this server leads and its log does not already hold it
        beyond what it has applied (a retry, asked again or of another server)."""
        unapplied = self.raft.log[self.raft.applied :]
        if any(e.command is not None and e.command.key == command.key for e in unapplied):
            return
        if self.raft.submit(command, output) is not None:
            self._apply(output)

    def _apply(self, output: list[Envelope]) -> None:
        for _, entry in self.raft.committed():
            command = entry.command
            if command is None:
                continue  # a new leader's no-op
            reply = self.store.apply(command)
            if reply is not None and command.key in self.pending:
                self.pending.remove(command.key)
                self._answer(command, reply, output)

    def _answer(self, command: Command, reply: Reply, output: list[Envelope]) -> None:
        cid = CorrelationId(command.client, command.request)
        output.append(Envelope(command.client, self.pid, reply, cid))
