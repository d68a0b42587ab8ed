"""One-line human summaries of events, envelopes and correlation ids, from plain data."""

from __future__ import annotations

from typing import Any

from ..codec import canonical_json, to_plain
from ..core import CorrelationId, Envelope


def summarize(plain: dict[str, Any]) -> str:
    """A one-line human summary of a plain event."""
    kind = plain["kind"]
    if kind == "input":
        return f"input -> {plain['to']}: {_msg(plain['msg'])}"
    if "msg" in plain:
        return f"{kind} #{plain['seq']} {plain['from']} -> {plain['to']}: {_msg(plain['msg'])}"
    if kind == "timeout":
        return f"timeout #{plain['seq']} at {plain['pid']} (cid {_cid(plain.get('cid'))})"
    if kind == "partition":
        groups = " | ".join(", ".join(group) for group in plain["groups"])
        if plain.get("one_way"):
            return f"partition {groups}, one way: nothing reaches {', '.join(plain['groups'][0])}"
        return f"partition {groups}"
    if kind == "drift":
        return f"drift {plain['node']}: its clock runs at x{plain['rate']}"
    if kind == "jump":
        return f"jump {plain['node']}: its clock jumps {plain['ms']} ms ahead"
    if kind == "corrupt_disk":
        return f"corrupt_disk {plain['pid']}: its record is damaged"
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
