"""Pids: the address of a process. Frozen, hashable, totally ordered, printable, parsable."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given

from rabble_sim import CorrelationId, Envelope, Pid
from tests.strategies import pids


def test_a_pid_is_frozen() -> None:
    pid = Pid("replica", "n1")
    with pytest.raises(AttributeError):
        pid.name = "other"  # type: ignore[misc]


def test_equal_pids_are_one_dict_key() -> None:
    table = {Pid("replica", "n1", "kv"): 1}
    table[Pid("replica", "n1", "kv")] = 2
    assert table == {Pid("replica", "n1", "kv"): 2}
    assert len({Pid("a", "n1"), Pid("a", "n1"), Pid("a", "n1", "g")}) == 2


def test_str_is_group_name_node() -> None:
    assert str(Pid("replica", "n1")) == "replica::n1"
    assert str(Pid("replica", "n1", "kv")) == "kv::replica::n1"


@given(pids)
def test_parse_is_the_inverse_of_str(pid: Pid) -> None:
    assert Pid.parse(str(pid)) == pid


@pytest.mark.parametrize("text", ["replica", "a::b::c::d", ""])
def test_parse_rejects_text_that_is_not_a_pid(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a pid.*name::node or group::name::node"):
        Pid.parse(text)


def test_ungrouped_pids_sort_before_grouped_ones() -> None:
    assert Pid("z", "z") < Pid("a", "a", "g")
    assert sorted([Pid("b", "n1", "g"), Pid("b", "n1"), Pid("a", "n2", "f")]) == [
        Pid("b", "n1"),
        Pid("a", "n2", "f"),
        Pid("b", "n1", "g"),
    ]


def test_pids_sort_by_group_then_name_then_node() -> None:
    ordered = [
        Pid("a", "n1"),
        Pid("a", "n2"),
        Pid("b", "n1"),
        Pid("a", "n9", "g1"),
        Pid("b", "n1", "g1"),
        Pid("a", "n1", "g2"),
    ]
    assert sorted(reversed(ordered)) == ordered
    assert Pid("a", "n1") <= Pid("a", "n1") < Pid("a", "n2")
    assert Pid("a", "n2", "g") > Pid("a", "n1", "g") >= Pid("a", "n1", "g")


@given(pids, pids)
def test_order_is_total_and_agrees_with_equality(a: Pid, b: Pid) -> None:
    assert [a < b, a == b, a > b].count(True) == 1
    assert (a <= b) == (a < b or a == b)
    assert (a >= b) == (a > b or a == b)


@given(pids, pids, pids)
def test_order_is_transitive(a: Pid, b: Pid, c: Pid) -> None:
    x, y, z = sorted([a, b, c])
    assert x <= y <= z
    assert x <= z


def test_a_pid_does_not_compare_with_other_types() -> None:
    with pytest.raises(TypeError):
        assert Pid("a", "n1") < "a::n1"  # type: ignore[operator]
    assert Pid("a", "n1") != "a::n1"


def test_cids_and_envelopes_are_frozen_values() -> None:
    cid = CorrelationId(Pid("client", "n1"), 7)
    env = Envelope(Pid("a", "n1"), Pid("b", "n2"), "hello", cid)
    assert env == Envelope(Pid("a", "n1"), Pid("b", "n2"), "hello", CorrelationId(cid.pid, 7))
    assert hash(cid) == hash(CorrelationId(Pid("client", "n1"), 7, None))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        env.msg = "bye"  # type: ignore[misc]
