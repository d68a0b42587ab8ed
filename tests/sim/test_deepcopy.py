"""The fast deep copy of process state makes what ``copy.deepcopy`` makes: the same values,
the same sharing between them, the same objects left shared (atoms, unchanged tuples), and
frozen attrs instances of atoms shared too (values, which deepcopy copies needlessly)."""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

import attrs
from hypothesis import example, given, strategies as st

from rabble_sim import CorrelationId, Pid
from rabble_sim.sim._deepcopy import deepcopy


@attrs.define
class Slotted:
    a: Any
    b: Any = None


@attrs.frozen
class Frozen:
    a: Any


@attrs.define(slots=False)
class WithDict:
    a: Any


class Point(NamedTuple):
    x: int
    y: Any


class Own:
    """Copies itself its own way: the copy must use it."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __deepcopy__(self, memo: dict[int, Any]) -> Own:
        return Own(self.tag + "'")


def same_shape(original: Any, ours: Any, theirs: Any) -> None:
    """``ours`` and ``theirs`` are copies of ``original`` of the same types and values,
    with the same objects shared between them and with the original."""
    ours_of: dict[int, int] = {}
    theirs_of: dict[int, int] = {}

    def walk(o: Any, a: Any, b: Any) -> None:
        assert type(a) is type(b) is type(o)
        if value_of_atoms(o):  # shared, or copied inside what deepcopy copies
            assert a == o and b == o
            return
        assert (a is o) == (b is o), f"one copy shares {o!r}, the other does not"
        if id(o) in ours_of:
            assert ours_of[id(o)] == id(a) and theirs_of[id(o)] == id(b), "sharing differs"
            return
        ours_of[id(o)], theirs_of[id(o)] = id(a), id(b)
        if isinstance(o, list | tuple):
            assert len(a) == len(b) == len(o)
            for parts in zip(o, a, b, strict=True):
                walk(*parts)
        elif isinstance(o, dict):
            assert list(a) == list(b) == list(o)
            for key in o:
                walk(o[key], a[key], b[key])
        elif attrs.has(type(o)):
            for field in attrs.fields(type(o)):
                walk(*(getattr(x, field.name) for x in (o, a, b)))
            if hasattr(o, "__dict__"):
                assert a.__dict__.keys() == b.__dict__.keys() == o.__dict__.keys()
                for key in o.__dict__:
                    walk(o.__dict__[key], a.__dict__[key], b.__dict__[key])
        elif isinstance(o, set | frozenset):
            assert a == b == o
        elif isinstance(o, Own):
            assert a.tag == b.tag == o.tag + "'"
        else:
            assert a == b == o

    walk(original, ours, theirs)


def value_of_atoms(o: Any) -> bool:
    """A frozen attrs instance whose fields are all atoms, or a tuple (of tuples...) of such
    values and atoms with one of them in it: immutable all the way, shared by the copy
    where ``copy.deepcopy`` makes another."""
    if type(o) is tuple:
        return immutable(o) and any(value_of_atoms(x) for x in o)
    cls = type(o)
    return (
        attrs.has(cls)
        and attrs.inspect(cls).is_frozen
        and all(type(getattr(o, f.name)) in ATOMS for f in attrs.fields(cls))
    )


def immutable(o: Any) -> bool:
    """An atom, a value of atoms, or a tuple of those."""
    if type(o) is tuple:
        return all(immutable(x) for x in o)
    return type(o) in ATOMS or value_of_atoms(o)


ATOMS = (int, float, bool, complex, str, bytes, type(None), range, Pid, CorrelationId)


def check(value: Any) -> None:
    same_shape(value, deepcopy(value), copy.deepcopy(value))


atoms = st.one_of(
    st.integers(), st.text(max_size=3), st.none(), st.booleans(), st.floats(allow_nan=False)
)
pids = st.builds(Pid, st.sampled_from(["g", "h"]), st.sampled_from(["n1", "n2"]))


def values() -> st.SearchStrategy[Any]:
    return st.recursive(
        st.one_of(atoms, pids, st.builds(CorrelationId, pids, st.integers(0, 3))),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.tuples(inner, inner),
            st.dictionaries(st.text(max_size=2), inner, max_size=3),
            st.builds(Slotted, inner, inner),
            st.builds(Frozen, inner),
            st.builds(WithDict, inner),
            st.builds(Point, st.integers(), inner),
            st.frozensets(st.integers(), max_size=2),
            st.sets(st.one_of(st.integers(), st.text(max_size=2), pids), max_size=3),
            st.builds(Own, st.text(max_size=2)),
        ),
        max_leaves=12,
    )


@given(values())
@example((Frozen(None), (None, None)))  # shared whole, as deepcopy shares a tuple of atoms
def test_a_copy_is_what_deepcopy_makes(value: Any) -> None:
    check(value)
    # The same object reached twice, in containers of every kind, stays one object.
    check([value, value, {"k": value}, Slotted(value, (value,))])


def test_cycles_and_sharing_survive_the_copy() -> None:
    loop: list[Any] = []
    loop.append(loop)
    node = Slotted(None)
    node.a = node
    shared = [1, 2]
    check([loop, node, Slotted(shared, shared), WithDict({"x": shared, "y": shared})])
    copied = deepcopy(node)
    assert copied.a is copied and copied is not node


def test_what_needs_no_copy_is_shared_and_the_rest_is_not() -> None:
    plain = (1, "a", Pid("g", "n"), CorrelationId(Pid("g", "n"), 3))
    assert deepcopy(plain) is plain
    inner = [1]
    state = Slotted((inner, 2), Frozen(inner))
    copied = deepcopy(state)
    assert copied == state
    assert copied.a is not state.a and copied.a[0] is copied.b.a is not inner
    value = Frozen("a value")
    copied_list = deepcopy([value, (value, 1), Slotted(value)])
    assert copied_list[0] is value and copied_list[1][0] is value and copied_list[2].a is value
    holder = Frozen([1])
    assert deepcopy(holder).a is not holder.a  # not all atoms: copied


def test_attributes_set_beside_the_fields_are_copied_too() -> None:
    value = WithDict([1])
    value.extra = {"seen": [2]}  # type: ignore[attr-defined]
    copied = deepcopy(value)
    assert copied.extra == {"seen": [2]} and copied.extra is not value.extra


@attrs.define
class Base:
    a: int


class ExtraSlot(Base):
    __slots__ = ("hidden",)


def test_a_class_with_its_own_way_is_copied_its_way() -> None:
    check([Own("x"), Own("x")])
    # Slots beside attrs' fields: whatever copy.deepcopy makes of them (it drops them).
    value = ExtraSlot(1)
    value.hidden = [3]
    ours, theirs = deepcopy(value), copy.deepcopy(value)
    assert ours.a == theirs.a == 1
    assert hasattr(ours, "hidden") == hasattr(theirs, "hidden")


@attrs.frozen
class Sealed:
    items: list[int]


class Plainly(Sealed):
    """A subclass attrs did not make: no class properties of its own to read."""

    __slots__ = ()


@attrs.define
class OwnState:
    """Keeps only half of itself across a pickle, as its own state methods say."""

    kept: list[int]
    dropped: list[int]

    def __getstate__(self) -> dict[str, Any]:
        return {"kept": self.kept}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.kept, self.dropped = state["kept"], []


def test_subclasses_attrs_did_not_make_and_own_state_methods_copy_as_deepcopy_does() -> None:
    value = Plainly([1])
    copied = deepcopy(value)
    assert type(copied) is Plainly and copied == value and copied.items is not value.items
    state = OwnState([1], [2])
    ours, theirs = deepcopy(state), copy.deepcopy(state)
    assert ours == theirs == OwnState([1], [])
