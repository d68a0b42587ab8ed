"""Admission of incoming connections: how many handshakes may be under way at once, from
one address and in all, so that connections that never speak cannot hold a node's sockets.

Each handshake waits up to its timeout for a peer to prove it knows the secret. Without a
bound, a host that opens connections and sends nothing holds one socket (and one task)
per connection for that long, as many as it likes. With one, it is refused past
``per_address`` at once, and every other address still gets through.
"""

from __future__ import annotations

PER_ADDRESS = 8
"""Handshakes one remote address may have under way at once: a whole cluster's nodes on
one machine, dialing together, stay well below it."""
TOTAL = 256
"""Handshakes under way at once, from every address together."""


class Admission:
    """Counts the handshakes under way, by remote address."""

    def __init__(self, per_address: int = PER_ADDRESS, total: int = TOTAL) -> None:
        self.per_address = per_address
        self.total = total
        self.refused = 0
        """Connections refused so far."""
        self._under_way: dict[str, int] = {}
        self._all = 0

    def admit(self, address: str) -> str:
        """Count a handshake from ``address`` and return "", or say why it is refused
        (then it is not counted, and the caller closes the connection unheard)."""
        if self._under_way.get(address, 0) >= self.per_address:
            why = f"{self.per_address} handshakes from that address are already under way"
        elif self._all >= self.total:
            why = f"{self.total} handshakes are already under way"
        else:
            self._under_way[address] = self._under_way.get(address, 0) + 1
            self._all += 1
            return ""
        self.refused += 1
        return why

    def done(self, address: str) -> None:
        """A handshake from ``address`` that ``admit`` let in is over, however it went."""
        left = self._under_way[address] - 1
        if left:
            self._under_way[address] = left
        else:
            del self._under_way[address]
        self._all -= 1

    def worth_saying(self) -> bool:
        """Whether the latest refusal should be logged: the first, then every hundredth,
        so that a flood of connections does not become a flood of log lines."""
        return self.refused == 1 or self.refused % 100 == 0
