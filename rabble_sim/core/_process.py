"""What a process is: any object with a pid and a pure ``handle``."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ._pid import CorrelationId, Envelope, Pid


@runtime_checkable
class Process(Protocol):
    """A process of a protocol.

    ``handle`` may change only the process's own state and append the envelopes it wants
    sent to ``output``. It must not read the clock, the global random module, sockets or
    anything else outside its arguments: that purity is what lets the simulator replay a
    run exactly and lets the TCP executor run the same object in production.

    A process may also define ``init(self, output)``, run when it starts and again each
    time its node restarts.

    Its state must be plain data (attrs classes, dicts, lists, sets, tuples, numbers,
    strings) so that it can be shown, compared and hashed.
    """

    pid: Pid

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None: ...
