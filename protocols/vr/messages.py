"""The messages of Viewstamped Replication Revisited (Liskov and Cowling, 2012, figures 2-4).

The replica number the paper puts in most messages is the envelope's sender here: every
message comes from a ``Pid`` of its group, and a replica's number is that pid's place in
its group's configuration.
"""

from __future__ import annotations

import attrs

from rabble_sim import Pid, message

from .kv import Call, Result


@attrs.frozen
class LogEntry:
    """One operation in the log: request ``request`` of ``client``, which asked ``call``."""

    client: Pid
    request: int
    call: Call


Log = tuple[LogEntry, ...]


# -- clients -------------------------------------------------------------------------------


@message("vr.request")
@attrs.frozen
class Request:
    """Operation ``call`` of ``client``, its request number ``request`` (from 1, one at a
    time)."""

    call: Call
    client: Pid
    request: int


@message("vr.submit")
@attrs.frozen
class Submit:
    """Input to a client: run ``call`` after the calls it already has, one at a time
    (a scenario's ``Inputs`` give these; see ``generated``)."""

    call: Call


@message("vr.reply")
@attrs.frozen
class Reply:
    """The primary of ``view`` executed ``request`` and got ``result``."""

    view: int
    request: int
    result: Result


# -- normal operation ----------------------------------------------------------------------


@message("vr.prepare")
@attrs.frozen
class Prepare:
    """The primary of ``view`` asks a backup to append ``entry`` as op ``op``; ``commit``
    is the primary's commit number."""

    view: int
    entry: LogEntry
    op: int
    commit: int


@message("vr.prepare_ok")
@attrs.frozen
class PrepareOk:
    """A backup of ``view`` has every op up to ``op`` in its log."""

    view: int
    op: int


@message("vr.commit")
@attrs.frozen
class Commit:
    """The primary of ``view`` has committed every op up to ``commit`` (its heartbeat)."""

    view: int
    commit: int


# -- view change ---------------------------------------------------------------------------


@message("vr.start_view_change")
@attrs.frozen
class StartViewChange:
    """The sender has moved to ``view`` and stopped accepting operations of older views."""

    view: int


@message("vr.do_view_change")
@attrs.frozen
class DoViewChange:
    """Sent to the primary of ``view``: the sender's ``log``, the view in which it was last
    normal, its op number and its commit number."""

    view: int
    log: Log
    last_normal: int
    op: int
    commit: int


@message("vr.start_view")
@attrs.frozen
class StartView:
    """The primary of ``view`` has chosen ``log``; everyone adopts it."""

    view: int
    log: Log
    op: int
    commit: int


# -- recovery and state transfer -----------------------------------------------------------


@message("vr.recovery")
@attrs.frozen
class Recovery:
    """A restarted replica asks for the group's state; ``nonce`` names this recovery."""

    nonce: int


@message("vr.recovery_response")
@attrs.frozen
class RecoveryResponse:
    """A normal replica's answer to ``Recovery(nonce)``: its view and, from the primary
    only, its log, op number and commit number (``log`` is None from a backup)."""

    view: int
    nonce: int
    log: Log | None
    op: int
    commit: int


@message("vr.get_state")
@attrs.frozen
class GetState:
    """A replica of ``view`` that lacks ops after ``op`` asks for them."""

    view: int
    op: int


@message("vr.new_state")
@attrs.frozen
class NewState:
    """The ops after ``start`` (``entries``), the sender's op and commit numbers."""

    view: int
    start: int
    entries: Log
    op: int
    commit: int
