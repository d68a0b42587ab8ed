"""Membership as an observed-remove set: merging is a join, adds win over concurrent
removes, the causal context stays small, and dot counters must survive restarts."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import given, strategies as st

from rabble_sim.net import _wire
from rabble_sim.net._orset import ORSet

REPLICAS = ("a", "b", "c")
ELEMENTS = ("a@127.0.0.1:7001", "b@127.0.0.1:7002", "c@127.0.0.1:7003")

# One step of a history: a replica adds or removes an element, or merges another
# replica's whole state (as when a link comes up), so that later removes observe adds.
steps = st.tuples(
    st.sampled_from(("add", "remove", "sync")),
    st.sampled_from(REPLICAS),
    st.integers(0, len(ELEMENTS) - 1),
)
histories = st.lists(steps, max_size=25)


def run(history: list[tuple[str, str, int]]) -> tuple[dict[str, ORSet], list[ORSet]]:
    """The replicas after ``history``, and every delta it produced, in order."""
    replicas = {name: ORSet(name) for name in REPLICAS}
    deltas = []
    for kind, name, i in history:
        replica = replicas[name]
        if kind == "add":
            deltas.append(replica.add(ELEMENTS[i]))
        elif kind == "remove":
            deltas.append(replica.remove(ELEMENTS[i]))
        else:
            replica.merge(replicas[REPLICAS[i]].state())
    return replicas, deltas


def content(s: ORSet) -> tuple[Any, ...]:
    """What replicas must agree on: live dots and the causal context (not their names)."""
    return s.entries, s.seen, s.cloud


def join(x: ORSet, y: ORSet) -> ORSet:
    joined = x.state()
    joined.merge(y)
    return joined


@st.composite
def reachable_states(draw: st.DrawFn, n: int) -> list[ORSet]:
    replicas, _ = run(draw(histories))
    return [replicas[draw(st.sampled_from(REPLICAS))] for _ in range(n)]


# -- merge is a join ------------------------------------------------------------------------


@given(reachable_states(2))
def test_merge_is_commutative(states: list[ORSet]) -> None:
    x, y = states
    assert content(join(x, y)) == content(join(y, x))


@given(reachable_states(3))
def test_merge_is_associative(states: list[ORSet]) -> None:
    x, y, z = states
    assert content(join(join(x, y), z)) == content(join(x, join(y, z)))


@given(reachable_states(1))
def test_merge_is_idempotent(states: list[ORSet]) -> None:
    (x,) = states
    joined = x.state()
    assert not joined.merge(x), "merging what it already has changes nothing"
    assert content(joined) == content(x)


@given(histories, st.data())
def test_replicas_that_get_every_delta_in_any_order_converge(
    history: list[tuple[str, str, int]], data: st.DataObject
) -> None:
    replicas, deltas = run(history)
    replicas["late"] = ORSet("late")  # saw nothing at all: deltas alone bring it up to date
    for replica in replicas.values():
        order = data.draw(st.permutations(deltas))
        duplicates = data.draw(st.lists(st.sampled_from(deltas), max_size=5)) if deltas else []
        for delta in [*order, *duplicates]:
            replica.merge(delta)
    first, *others = replicas.values()
    for replica in others:
        assert replica.members() == first.members()
        assert content(replica) == content(first)
    # Every dot has arrived, so each replica's dots are contiguous: the context compacts to
    # a version vector, one number a replica, and no cloud.
    assert first.cloud == set()
    added = {name: sum(kind == "add" and r == name for kind, r, _ in history) for name in REPLICAS}
    assert first.seen == {name: n for name, n in added.items() if n}


# -- what add and remove mean ------------------------------------------------------------------


def test_an_add_concurrent_with_a_remove_of_the_same_element_wins() -> None:
    a, b = ORSet("a"), ORSet("b")
    b.merge(a.add("x"))
    assert "x" in a and "x" in b
    removed = a.remove("x")  # a removes x, while b, concurrently, adds it again
    added = b.add("x")
    a.merge(added)
    b.merge(removed)
    assert a.members() == b.members() == ("x",)


def test_a_remove_that_saw_the_add_removes() -> None:
    a, b = ORSet("a"), ORSet("b")
    b.merge(a.add("x"))
    a.merge(b.remove("x"))
    assert a.members() == b.members() == ()


def test_a_remove_removes_only_the_adds_it_has_seen() -> None:
    a, b = ORSet("a"), ORSet("b")
    unseen = a.add("x")  # b has not heard of this add
    b.merge(b.add("x"))
    removed = b.remove("x")
    assert removed.cloud == {("b", 1)}, "the remove names only the dot b saw"
    a.merge(removed)
    b.merge(unseen)
    assert a.members() == b.members() == ("x",)
    assert a.entries == b.entries == {"x": {("a", 1)}}


def test_the_causal_context_compacts_once_the_missing_dots_arrive() -> None:
    a, b = ORSet("a"), ORSet("b")
    first, second, third = a.add("x"), a.add("y"), a.add("z")
    b.merge(third)
    b.merge(second)
    assert b.seen == {} and b.cloud == {("a", 2), ("a", 3)}, "dots above a gap wait in the cloud"
    assert b.has_seen(("a", 3)) and not b.has_seen(("a", 1))
    b.merge(first)
    assert b.seen == {"a": 3} and b.cloud == set()
    assert b.members() == ("x", "y", "z")


# -- dot counters across restarts ----------------------------------------------------------


def test_a_replica_restarted_with_its_persisted_counter_never_reuses_a_dot() -> None:
    a, b = ORSet("a"), ORSet("b")
    b.merge(a.add("a@h:1"))
    b.merge(a.remove("a@h:1"))  # a leaves; b has seen the dot (a, 1) removed
    persisted = a.counter
    restarted = ORSet("a", counter=persisted)
    delta = restarted.add("a@h:1")
    assert delta.entries == {"a@h:1": {("a", persisted + 1)}}
    b.merge(delta)
    assert b.members() == ("a@h:1",), "the node that came back is a member again"


def test_a_replica_restarted_with_counter_zero_reuses_a_dot_and_its_add_is_lost() -> None:
    # Why the node persists the counter: without it, the restarted replica tags its new
    # add with a dot that the others have already seen removed, and they ignore it.
    a, b = ORSet("a"), ORSet("b")
    b.merge(a.add("a@h:1"))
    b.merge(a.remove("a@h:1"))
    forgetful = ORSet("a")
    delta = forgetful.add("a@h:1")
    assert delta.entries == {"a@h:1": {("a", 1)}}, "the same dot as before the restart"
    assert not b.merge(delta), "b has seen that dot removed: the add changes nothing"
    assert b.members() == ()
    # Merging b's state makes the restarted replica drop its own add too; its counter
    # now starts above every dot it has been shown, so adding again works.
    forgetful.merge(b.state())
    assert forgetful.members() == ()
    b.merge(forgetful.add("a@h:1"))
    assert b.members() == ("a@h:1",)


# -- on the wire --------------------------------------------------------------------------------


@given(histories, st.sampled_from(REPLICAS))
def test_a_gossip_frame_carries_the_whole_state(
    history: list[tuple[str, str, int]], name: str
) -> None:
    replicas, deltas = run(history)
    for state in [replicas[name], *deltas]:
        frame = _wire.decode(_wire.encode(_wire.gossip(state)))
        assert isinstance(frame, _wire.Gossip)
        # The counter is the replica's own business: it is persisted, never sent.
        assert _wire.orset(frame, state.replica) == attrs.evolve(state, counter=0)
