"""How many handshakes a node lets run at once: per remote address, and in all."""

from __future__ import annotations

from rabble_sim.net._admission import Admission


def test_a_busy_address_is_refused_while_others_still_get_in_until_the_total() -> None:
    gate = Admission(per_address=2, total=3)
    assert [gate.admit("10.0.0.1") for _ in range(3)] == [
        "",
        "",
        "2 handshakes from that address are already under way",
    ]
    assert gate.admit("10.0.0.2") == ""
    assert gate.admit("10.0.0.3") == "3 handshakes are already under way"
    assert gate.refused == 2


def test_a_finished_handshake_makes_room_and_refusals_are_logged_sparingly() -> None:
    gate = Admission(per_address=1, total=10)
    assert gate.admit("10.0.0.1") == ""
    said = []
    for _ in range(250):
        assert gate.admit("10.0.0.1")
        said.append(gate.worth_saying())
    assert [i + 1 for i, say in enumerate(said) if say] == [1, 100, 200]
    gate.done("10.0.0.1")
    assert gate.admit("10.0.0.1") == ""
