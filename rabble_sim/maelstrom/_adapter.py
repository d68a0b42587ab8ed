"""One Maelstrom node: each line from Maelstrom in, each envelope of its processes out.

The node's processes run in the TCP node's executor host (``LocalExecutor``: the
executor's semantics written once, timers on the real clock, ``GetRandom`` from the OS),
with a ``route`` of this module's own: an envelope for a process of this node is
delivered here; one for a process of another node of the cluster is written to stdout as
``{"src": me, "dest": that node, "body": {"type": "rabble", "envelope": ...}}``, the
envelope in the codec's JSON encoding; one for a client's pid (``client_pid``) becomes a
body of the node's mapping, addressed to that client.

Nothing a line holds can stop the node. A line that is not an envelope is logged and
skipped; a client's request that cannot be served is answered with Maelstrom's error:
10 for a body type the node does not know, 11 before ``init``, 12 for fields that do not
fit the message class, 13 when the process that got the request raised while handling it
without answering it. The one way out is a ``start`` that fails on ``init``: the node
cannot run, so ``init`` is answered with error 13 and ``StartFailed`` ends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import msgspec

from ..codec import Codec
from ..core import CodecError, CorrelationId, Envelope, Pid, RabbleError, UsageError
from ..net import LocalExecutor  # the TCP node's host, reused as it is
from ._bodies import INTER_NODE, RESERVED_KEYS, BadBody, Bodies
from ._errors import CRASH, MALFORMED_REQUEST, TEMPORARILY_UNAVAILABLE, Error
from ._node import CLIENTS, MaelstromNode, client_pid
from ._watched import watched

log = logging.getLogger("rabble_sim.maelstrom")

EARLY_LIMIT = 10_000
"""Envelopes of other nodes kept while this one waits for its ``init`` (a faster peer may
send before Maelstrom's ``init`` reaches this node); more are dropped, and logged."""
ASKED_LIMIT = 100_000
"""Requests to services (non-node pids) whose reply is awaited; the oldest are forgotten
past this, so that a service that never answers does not grow the node without bound."""

_CODEC = Codec("json")


class StartFailed(UsageError):
    """The node's ``start`` (or ``receiver``) failed on ``init``: the node cannot run."""


class _Line(msgspec.Struct):
    """A line from Maelstrom: the envelope, its body's values kept as raw JSON. Other
    top-level keys (a message id Maelstrom adds, say) are ignored."""

    src: str
    dest: str
    body: dict[str, msgspec.Raw]


_decode_line = msgspec.json.Decoder(_Line).decode
_decode_str = msgspec.json.Decoder(str).decode
_decode_int = msgspec.json.Decoder(int).decode
_decode_ids = msgspec.json.Decoder(tuple[str, ...]).decode


class Adapter:
    """Serves the lines of one node (``line``), and writes its own lines with ``write``
    (one line, without its newline). ``executor`` exists once ``init`` has arrived."""

    def __init__(self, node: MaelstromNode, write: Callable[[bytes], None]) -> None:
        self.node = node
        self.bodies = Bodies(node.bodies)
        self.node_id: str | None = None
        self.node_ids: tuple[str, ...] = ()
        self.executor: LocalExecutor | None = None
        self.activity = 0
        """Grows with every envelope routed or delivered: a run that stops can tell when
        the node has gone quiet."""
        self._write = write
        self._msg_id = 0
        self._peers: frozenset[str] = frozenset()
        self._receiver = Pid("", "")
        self._early: list[_Line] = []
        self._held: list[bytes] | None = None
        self._asked: dict[int, tuple[Pid, CorrelationId | None]] = {}
        self._queued: dict[CorrelationId, None] = {}
        """Client requests delivered to the receiver and not yet handled, in order."""

    def close(self) -> None:
        if self.executor is not None:
            self.executor.close()

    # -- in -----------------------------------------------------------------------------

    def line(self, data: bytes) -> None:
        """Serve one line from Maelstrom."""
        try:
            env = _decode_line(data)
            kind = _decode_str(env.body["type"]) if "type" in env.body else None
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            log.error("skipped a line that is not a Maelstrom envelope (%s): %s", e, _shown(data))
            return
        if kind is None:
            log.error("skipped an envelope whose body has no type: %s", _shown(data))
            return
        try:
            msg_id = _number(env.body.get("msg_id"))
        except ValueError:
            self._error(env, None, MALFORMED_REQUEST, "msg_id must be an integer")
            return
        if self.node_id is None:
            if kind == "init":
                self._init(env, msg_id)
            elif kind == INTER_NODE:
                self._keep_early(env)
            else:
                why = f"node {env.dest} has not received Maelstrom's init yet"
                self._error(env, msg_id, TEMPORARILY_UNAVAILABLE, why)
            return
        if env.dest != self.node_id:
            log.error("skipped an envelope for %s: this node is %s", env.dest, self.node_id)
        elif kind == "init":
            self._init_again(env, msg_id)
        elif env.src in self.node_ids:
            if kind == INTER_NODE:
                self._from_node(env)
            else:
                log.error(
                    "skipped a %r body from node %s: nodes send %r", kind, env.src, INTER_NODE
                )
        else:
            self._from_client(env, kind, msg_id)

    def _init(self, env: _Line, msg_id: int | None) -> None:
        try:
            node_id = _decode_str(env.body["node_id"])
            node_ids = _decode_ids(env.body["node_ids"])
        except (KeyError, msgspec.ValidationError) as e:
            why = "init needs node_id (a string) and node_ids (a list of strings)"
            self._error(env, msg_id, MALFORMED_REQUEST, f"{why}: {e}")
            return
        if node_id not in node_ids or len(set(node_ids)) < len(node_ids) or CLIENTS in node_ids:
            why = f"node_id must be one of node_ids, which must differ and not be {CLIENTS!r}"
            self._error(env, msg_id, MALFORMED_REQUEST, f"init: {why}")
            return
        self.node_id, self.node_ids = node_id, node_ids
        self._peers = frozenset(node_ids) - {node_id}
        self.executor = LocalExecutor(node_id, route=self._route, members=lambda: self.node_ids)
        self._held = []  # what the processes' init send goes out after init_ok
        try:
            self._start(node_id, node_ids)
        except StartFailed as e:
            self._held = None
            log.error("%s", e)
            self._error(env, msg_id, CRASH, str(e))
            raise
        held, self._held = self._held, None
        self._send(env.src, {"type": "init_ok"}, msg_id)
        for line in held:
            self._write(line)
        early, self._early = self._early, []
        for kept in early:
            self._early_line(kept)

    def _start(self, node_id: str, node_ids: tuple[str, ...]) -> None:
        assert self.executor is not None
        try:
            built = self.node.start(node_id, node_ids)
            receiver = self.node.receiver(node_id)
        except (Exception, SystemExit) as e:
            why = f"its start or receiver raised {e!r}"
            raise StartFailed(f"node {node_id} cannot start: {why}") from None
        if not isinstance(receiver, Pid):
            raise StartFailed(f"node {node_id}: receiver returned {receiver!r}, not a Pid")
        try:
            self.executor.start(watched(built, self))
        except RabbleError as e:  # not a list of this node's processes
            raise StartFailed(f"node {node_id} cannot start: {e}") from None
        if receiver not in self.executor.processes:
            running = ", ".join(map(str, sorted(self.executor.processes))) or "none"
            raise StartFailed(
                f"node {node_id}: receiver({node_id!r}) is {receiver}, which is not one of the "
                f"processes its start built (those: {running})"
            )
        self._receiver = receiver

    def _init_again(self, env: _Line, msg_id: int | None) -> None:
        try:
            again = (_decode_str(env.body["node_id"]), _decode_ids(env.body["node_ids"]))
        except (KeyError, msgspec.ValidationError):
            again = None
        if again == (self.node_id, self.node_ids):
            self._send(env.src, {"type": "init_ok"}, msg_id)  # a repeated init: same answer
            return
        why = f"this node is already {self.node_id} of {', '.join(self.node_ids)}"
        self._error(env, msg_id, MALFORMED_REQUEST, f"a second init, which differs: {why}")

    def _keep_early(self, env: _Line) -> None:
        if len(self._early) < EARLY_LIMIT:
            self._early.append(env)
        else:
            log.error(
                "dropped an envelope from %s that came before init (%d kept)", env.src, EARLY_LIMIT
            )

    def _early_line(self, env: _Line) -> None:
        if env.src in self.node_ids and env.dest == self.node_id:
            self._from_node(env)
        else:
            log.error("dropped an envelope from %s to %s that came before init", env.src, env.dest)

    def _from_node(self, line: _Line) -> None:
        assert self.executor is not None
        raw = line.body.get("envelope")
        try:
            if raw is None:
                raise CodecError(f"a {INTER_NODE!r} body carries an envelope")
            env = _CODEC.decode_envelope(bytes(raw))
        except CodecError as e:
            log.error("skipped a %r body from %s: %s", INTER_NODE, line.src, e)
            return
        if env.to.node != self.node_id:
            log.error("skipped an envelope from %s for %s, on another node", line.src, env.to)
            return
        self._deliver(env)

    def _from_client(self, line: _Line, kind: str, msg_id: int | None) -> None:
        assert self.executor is not None
        try:
            fields = {
                k: msgspec.json.decode(v) for k, v in line.body.items() if k not in RESERVED_KEYS
            }
        except msgspec.DecodeError as e:  # cannot happen: the line was valid JSON
            log.error("skipped a body from %s: %s", line.src, e)
            return
        client = client_pid(line.src)
        if "in_reply_to" in line.body:
            self._answered(line, kind, fields, client)
            return
        try:
            msg = self.bodies.message(kind, fields)
        except BadBody as e:
            self._error(line, msg_id, e.code, e.text)
            return
        if self._receiver not in self.executor.processes:
            why = f"{self._receiver}, which serves clients on {self.node_id}, is not running"
            self._error(line, msg_id, TEMPORARILY_UNAVAILABLE, why)
            return
        cid = CorrelationId(client, msg_id)
        self._queued[cid] = None
        self._deliver(Envelope(self._receiver, client, msg, cid))

    def _answered(self, line: _Line, kind: str, fields: dict[str, Any], client: Pid) -> None:
        """A reply from a service (``in_reply_to`` one of this node's requests)."""
        try:
            # This node's msg_ids start at 1: an absent in_reply_to (0) matches nothing.
            asked = self._asked.pop(_number(line.body["in_reply_to"]) or 0, None)
        except ValueError:
            asked = None
        if asked is None:
            log.error("skipped a %r from %s: a reply to nothing this node asked", kind, line.src)
            return
        try:
            msg = self.bodies.message(kind, fields)
        except BadBody as e:
            log.error("skipped a reply from %s to %s: %s", line.src, asked[0], e.text)
            return
        self._deliver(Envelope(asked[0], client, msg, asked[1]))

    def _deliver(self, env: Envelope) -> None:
        assert self.executor is not None
        self.activity += 1
        self.executor.deliver(env)

    # -- out -------------------------------------------------------------------------------

    def _route(self, env: Envelope) -> None:
        """Where the executor puts every envelope in flight."""
        self.activity += 1
        node = env.to.node
        if node == self.node_id:
            self._deliver(env)
        elif node in self._peers:
            body = {"type": INTER_NODE, "envelope": msgspec.Raw(_CODEC.encode_envelope(env))}
            self._emit({"src": self.node_id, "dest": node, "body": body})
        elif node == CLIENTS:
            self._to_client(env)
        else:
            what = type(env.msg).__qualname__
            log.error(
                "dropped a %s from %s for %s: no node %r in this cluster",
                what,
                env.from_,
                env.to,
                node,
            )

    def _to_client(self, env: Envelope) -> None:
        cid = env.cid
        reply = cid is not None and cid.pid == env.to
        body = self.bodies.body(env.msg)
        if body is None:
            kind = type(env.msg).__qualname__
            why = f"{env.from_} sent {kind}, a message with no body type in the node's bodies"
            log.error("%s (to %s)", why, env.to)
            if not reply:
                return
            body = self._body(Error(CRASH, why))
        msg_id = self._send(env.to.name, body, cid.request if reply and cid is not None else None)
        if not reply:  # a request of a process, to a service: its reply comes back to it
            self._asked[msg_id] = (env.from_, cid)
            if len(self._asked) > ASKED_LIMIT:
                del self._asked[next(iter(self._asked))]

    # -- what the processes' wrappers (``_watched``) report --------------------------------

    def taken(self, cid: CorrelationId) -> None:
        self._queued.pop(cid, None)

    def crashed(self, pid: Pid, msg: Any, client: Pid, cid: CorrelationId) -> None:
        kind = self.bodies.type_of(type(msg))
        why = f"{pid} raised while handling this {kind!r} (see the node's log)"
        self._send(client.name, self._body(Error(CRASH, why)), cid.request)

    def stopping(self, pid: Pid) -> None:
        if pid != self._receiver:
            return
        # The requests queued for it would be dead letters: answered now, definitely.
        queued, self._queued = self._queued, {}
        why = f"{pid}, which serves clients on {self.node_id}, stopped"
        for cid in queued:
            self._send(cid.pid.name, self._body(Error(TEMPORARILY_UNAVAILABLE, why)), cid.request)

    def _error(self, line: _Line, in_reply_to: int | None, code: int, text: str) -> None:
        log.warning("answered %s with error %d: %s", line.src, code, text)
        self._send(line.src, self._body(Error(code, text)), in_reply_to, src=line.dest)

    def _body(self, msg: Any) -> dict[str, Any]:
        body = self.bodies.body(msg)
        assert body is not None  # Error is always in the mapping
        return body

    def _send(
        self, dest: str, body: dict[str, Any], in_reply_to: int | None, *, src: str | None = None
    ) -> int:
        """Write ``body`` to ``dest`` with a fresh ``msg_id``; return the ``msg_id``."""
        self._msg_id += 1
        body["msg_id"] = self._msg_id
        if in_reply_to is not None:
            body["in_reply_to"] = in_reply_to
        self._emit({"src": src or self.node_id, "dest": dest, "body": body})
        return self._msg_id

    def _emit(self, envelope: dict[str, Any]) -> None:
        line = msgspec.json.encode(envelope)
        if self._held is not None:
            self._held.append(line)
        else:
            self._write(line)


def _number(raw: msgspec.Raw | None) -> int | None:
    """A ``msg_id`` or ``in_reply_to``: None if absent; a ``ValueError`` if it is not an
    integer."""
    if raw is None:
        return None
    try:
        number: int = _decode_int(raw)
    except msgspec.ValidationError as e:
        raise ValueError(str(e)) from None
    return number


def _shown(data: bytes, most: int = 200) -> str:
    text = data.decode("utf-8", "replace")
    return text if len(text) <= most else f"{text[:most]}... ({len(data)} bytes)"
