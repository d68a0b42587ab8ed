"""The trace: every step of a run with its event, what it delivered and what it sent.

Recording is cheap (references to immutable values); plain data, summaries and the digest
are computed only when asked for.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

from ..codec import canonical_json, to_plain
from ..core import CorrelationId, Envelope
from ._events import Event, FireTimer, Partition

Entry = tuple[Event | None, Envelope | None, list[Envelope]]
"""(event, the envelope it delivered, dropped or duplicated, what handlers sent). The
entry of step 0 has no event: its outputs are what the processes' ``init`` sent."""


class Trace:
    """The steps of one run, step 0 (the start) first."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    @property
    def steps(self) -> int:
        """How many events the run applied (step 0, the start, is not one)."""
        return max(0, len(self.entries) - 1)

    def events(self) -> list[Event]:
        return [event for event, _, _ in self.entries if event is not None]

    def counts(self) -> Counter[str]:
        """Events by kind."""
        return Counter(event.kind for event, _, _ in self.entries if event is not None)

    def step_plain(self, step: int) -> dict[str, Any]:
        """Step ``step`` as plain data: the event with its content, and what was sent."""
        event, env, outputs = self.entries[step]
        return {
            "step": step,
            **(event_plain(event, env) if event is not None else {"kind": "start"}),
            "sent": [envelope_plain(out) for out in outputs],
        }

    def digest(self) -> str:
        """A SHA-256 of every step's plain data: equal for equal runs, in any interpreter."""
        h = hashlib.sha256()
        for step in range(len(self.entries)):
            h.update(canonical_json(self.step_plain(step)).encode())
            h.update(b"\n")
        return h.hexdigest()


def envelope_plain(env: Envelope) -> dict[str, Any]:
    plain: dict[str, Any] = {"from": str(env.from_), "to": str(env.to), "msg": to_plain(env.msg)}
    if env.cid is not None:
        plain["cid"] = to_plain(env.cid)
    return plain


def event_plain(event: Event, env: Envelope | None) -> dict[str, Any]:
    """An event with its content, as a schedule file stores it (without the summary)."""
    plain: dict[str, Any] = {"kind": event.kind}
    if isinstance(event, FireTimer) and env is not None:
        plain["seq"] = event.seq
        plain["pid"] = str(env.to)
        plain["cid"] = to_plain(env.cid)
    elif hasattr(event, "seq") and env is not None:
        plain["seq"] = event.seq
        plain.update(envelope_plain(env))
    elif isinstance(event, Partition):
        plain["groups"] = [list(group) for group in event.groups]
    elif hasattr(event, "node"):
        plain["node"] = event.node
    return plain


def summarize(plain: dict[str, Any]) -> str:
    """A one-line human summary of a plain event."""
    kind = plain["kind"]
    if "msg" in plain:
        return f"{kind} #{plain['seq']} {plain['from']} -> {plain['to']}: {_msg(plain['msg'])}"
    if kind == "timeout":
        return f"timeout #{plain['seq']} at {plain['pid']} (cid {_cid(plain.get('cid'))})"
    if kind == "partition":
        return "partition " + " | ".join(", ".join(group) for group in plain["groups"])
    if "node" in plain:
        return f"{kind} {plain['node']}"
    return str(kind)


def envelope_summary(env: Envelope) -> str:
    """A one-line human summary of an envelope: ``from -> to: Tag(field=value, ...)``."""
    cid = f" (cid {cid_summary(env.cid)})" if env.cid is not None else ""
    return f"{env.from_} -> {env.to}: {_msg(to_plain(env.msg))}{cid}"


def cid_summary(cid: CorrelationId | None) -> str:
    """``pid``, ``pid/request`` or ``pid/request/handle``; ``none`` for no cid."""
    return "none" if cid is None else _cid(to_plain(cid))


def _cid(cid: Any) -> str:
    """``pid``, ``pid/request`` or ``pid/request/handle``."""
    if not isinstance(cid, dict) or "pid" not in cid:
        return _short(cid)
    parts = [
        str(cid["pid"]),
        *(str(cid[k]) for k in ("request", "handle") if cid.get(k) is not None),
    ]
    return "/".join(parts)


def _msg(msg: Any) -> str:
    if isinstance(msg, dict) and len(msg) == 1:
        ((tag, fields),) = msg.items()
        if isinstance(fields, dict):
            args = ", ".join(f"{k}={_short(v)}" for k, v in fields.items())
            return f"{tag}({args})"
    return _short(msg)


def _short(value: Any, limit: int = 60) -> str:
    text = canonical_json(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
