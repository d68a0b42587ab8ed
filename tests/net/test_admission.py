"""How many handshakes a node lets run at once (per remote address, and in all), and which
one it drops to make room when they are all taken."""

from __future__ import annotations

from rabble_sim.net._admission import Admission, Handshake


class Connections:
    """Connections as the node sees them: each records whether it was closed."""

    def __init__(self, gate: Admission) -> None:
        self.gate = gate
        self.closed: list[str] = []

    def open(self, address: str, now: float, name: str = "") -> Handshake | str:
        return self.gate.admit(address, now, lambda: self.closed.append(name or address))


def test_a_busy_address_is_refused_while_others_still_get_in() -> None:
    net = Connections(Admission(per_address=2, total=10))
    first, second = net.open("10.0.0.1", 0), net.open("10.0.0.1", 0)
    assert isinstance(first, Handshake) and isinstance(second, Handshake)
    assert net.open("10.0.0.1", 0) == "2 handshakes from that address are already under way"
    assert isinstance(net.open("10.0.0.2", 0), Handshake)
    net.gate.done(first)
    assert isinstance(net.open("10.0.0.1", 0), Handshake), "a finished handshake makes room"
    assert net.closed == []


def test_when_all_are_taken_the_longest_silent_makes_room_for_a_newcomer() -> None:
    net = Connections(Admission(per_address=8, total=3))
    old = net.open("10.0.0.1", 0.0, "old")
    speaking = net.open("10.0.0.2", 0.5, "speaking")
    young = net.open("10.0.0.3", 1.0, "young")
    assert isinstance(old, Handshake) and isinstance(speaking, Handshake)
    assert isinstance(young, Handshake)
    net.gate.heard(speaking, 0.6)  # its hello arrived: it is a peer, likely a real one
    newcomer = net.open("127.0.0.1", 2.0, "newcomer")
    assert isinstance(newcomer, Handshake)
    assert net.closed == ["old"]
    assert old.dropped == (
        "closed to make room for a newer connection: silent for 2.0 s, the longest of 3 "
        "handshakes under way"
    )
    net.gate.done(old)  # its task ends later: nothing is counted twice
    assert isinstance(net.open("10.0.0.4", 2.1, "next"), Handshake)
    assert net.closed == ["old", "young"], "the silent ones go first, oldest first"
    assert not speaking.dropped and not newcomer.dropped


def test_a_peer_that_said_hello_but_never_proves_is_dropped_only_after_patience() -> None:
    net = Connections(Admission(per_address=8, total=2, patience=1.0))
    slow, quick = net.open("10.0.0.1", 0.0, "slow"), net.open("10.0.0.2", 0.0, "quick")
    assert isinstance(slow, Handshake) and isinstance(quick, Handshake)
    net.gate.heard(slow, 0.1)
    net.gate.heard(quick, 0.2)
    # Both spoke: within a round trip of its hello, a peer's proof may still come.
    assert net.open("10.0.0.3", 0.5) == "2 handshakes are already under way, none of them idle"
    assert isinstance(net.open("10.0.0.3", 1.5), Handshake)
    assert net.closed == ["slow"]
    assert slow.dropped.startswith("closed to make room for a newer connection: no proof 1.4 s")


def test_the_per_address_count_follows_dropped_and_finished_handshakes() -> None:
    net = Connections(Admission(per_address=1, total=1))
    first = net.open("10.0.0.1", 0)
    assert isinstance(first, Handshake)
    second = net.open("10.0.0.2", 1)  # drops the first, from another address
    assert isinstance(second, Handshake) and net.closed == ["10.0.0.1"]
    third = net.open("10.0.0.1", 2)  # the first's address is free again
    assert isinstance(third, Handshake) and net.closed == ["10.0.0.1", "10.0.0.2"]
    assert net.open("10.0.0.1", 3) == "1 handshakes from that address are already under way"
    net.gate.done(third)
    assert len(net.gate) == 0
