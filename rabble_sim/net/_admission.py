"""Admission of incoming connections: how many handshakes may be under way at once, from
one address and in all, and whom to drop when they are all taken, so that connections that
never speak cannot lock members and operators out of a node.

Each handshake waits up to its timeout for a peer to prove it knows the secret. A host
that opens connections and sends nothing would hold one socket (and one task) per
connection for that long, as many as it likes. So one address may have ``per_address``
handshakes under way (more are refused unheard), and all addresses together ``total``.
When ``total`` are under way, a new connection is not refused: it takes the place of the
oldest handshake whose peer has not said hello yet, which is closed. A real peer says hello
at once, in its first packet, and is through the handshake in a round trip or two; a
connection that has been silent longest is the least likely to be one. So an attacker with
many addresses can make the node close its idle connections faster, but cannot keep a
member that dials, or ``rabble-sim status``, from getting through. A handshake whose peer
did say hello may be dropped the same way once it has run longer than ``patience`` (its
proof should have followed within a round trip); only when no handshake may be dropped
is the new connection refused.
"""

from __future__ import annotations

from collections.abc import Callable

PER_ADDRESS = 8
"""Handshakes one remote address may have under way at once: a whole cluster's nodes on
one machine, dialing together, stay well below it."""
TOTAL = 256
"""Handshakes under way at once, from every address together."""
PATIENCE = 1.0
"""Seconds a handshake whose peer said hello may take before another connection may
take its place."""


class Handshake:
    """One handshake under way: where from, since when, whether the peer said hello, and
    how to close its connection if another takes its place."""

    __slots__ = ("address", "close", "dropped", "heard_at", "started")

    def __init__(self, address: str, started: float, close: Callable[[], None]) -> None:
        self.address = address
        self.started = started
        self.close = close
        self.heard_at: float | None = None
        self.dropped = ""
        """Why it was closed to make room for a newer connection, if it was."""


class Admission:
    """The handshakes under way, oldest first: silent ones, and those heard from."""

    def __init__(
        self, per_address: int = PER_ADDRESS, total: int = TOTAL, patience: float = PATIENCE
    ) -> None:
        self.per_address = per_address
        self.total = total
        self.patience = patience
        self._by_address: dict[str, int] = {}
        # Insertion-ordered: the first of each is the oldest (silent since it connected,
        # or heard from earliest).
        self._silent: dict[Handshake, None] = {}
        self._heard: dict[Handshake, None] = {}

    def __len__(self) -> int:
        return len(self._silent) + len(self._heard)

    def admit(self, address: str, now: float, close: Callable[[], None]) -> Handshake | str:
        """Let a connection from ``address`` start its handshake (its ``Handshake``), or say
        why it is refused (the caller closes it unheard). When every place is taken, an
        older handshake is dropped to make room: its ``close`` is called and its
        ``dropped`` says why."""
        if self._by_address.get(address, 0) >= self.per_address:
            return f"{self.per_address} handshakes from that address are already under way"
        if len(self) >= self.total:
            victim = self._victim(now)
            if victim is None:
                return f"{self.total} handshakes are already under way, none of them idle"
            self._drop(victim, now)
        handshake = Handshake(address, now, close)
        self._silent[handshake] = None
        self._by_address[address] = self._by_address.get(address, 0) + 1
        return handshake

    def heard(self, handshake: Handshake, now: float) -> None:
        """The peer of ``handshake`` said hello."""
        if self._silent.pop(handshake, 0) is None:
            handshake.heard_at = now
            self._heard[handshake] = None

    def done(self, handshake: Handshake) -> None:
        """``handshake`` is over, however it went (dropped ones included: no-op)."""
        if self._silent.pop(handshake, 0) is None or self._heard.pop(handshake, 0) is None:
            left = self._by_address[handshake.address] - 1
            if left:
                self._by_address[handshake.address] = left
            else:
                del self._by_address[handshake.address]

    def _victim(self, now: float) -> Handshake | None:
        if self._silent:
            return next(iter(self._silent))
        if self._heard:
            oldest = next(iter(self._heard))
            assert oldest.heard_at is not None
            if now - oldest.heard_at > self.patience:
                return oldest
        return None

    def _drop(self, victim: Handshake, now: float) -> None:
        self.done(victim)
        if victim.heard_at is None:
            victim.dropped = (
                f"closed to make room for a newer connection: silent for "
                f"{now - victim.started:.1f} s, the longest of {self.total} handshakes under way"
            )
        else:
            victim.dropped = (
                f"closed to make room for a newer connection: no proof "
                f"{now - victim.heard_at:.1f} s after its hello, the slowest of {self.total} "
                "handshakes under way"
            )
        victim.close()
