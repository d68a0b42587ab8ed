"""Hypothesis strategies for pids, cids, envelopes, the built-in messages and test messages.

The test messages are registered with ``@message`` like a user's would be, with nested
attrs classes, optional fields, tuples, frozensets and dicts with non-string keys.
"""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import strategies as st

from rabble_sim import (
    CancelTimer,
    ClusterStatus,
    CorrelationId,
    Envelope,
    ExecutorStatus,
    GetExecutorStatus,
    GetMetrics,
    Metrics,
    Persist,
    Pid,
    Shutdown,
    StartTimer,
    Timeout,
    message,
)

# Names never hold ':' (the separator of str(pid)); no surrogates, which UTF-8 cannot carry.
names = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters=":"), max_size=8
)
# The range MessagePack can carry.
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
counts = st.integers(min_value=0, max_value=2**32)

pids = st.builds(Pid, names, names, st.none() | names)
cids = st.builds(CorrelationId, pids, st.none() | ints, st.none() | ints)

# What Persist(data: Any) round-trips: JSON-native data (lists, string-keyed dicts).
json_data: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | ints | st.floats(allow_nan=False, allow_infinity=False) | names,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(names, children, max_size=4),
    max_leaves=12,
)


@attrs.frozen
class LogEntry:
    """Not a message itself: nested inside one."""

    term: int
    command: str
    client: CorrelationId | None = None


@message("test.append_entries")
@attrs.frozen
class AppendEntries:
    leader: Pid
    term: int
    entries: tuple[LogEntry, ...]
    commit: int | None = None


@message
@attrs.frozen
class Gossip:
    """Registered bare: its tag is its module and qualified name."""

    origin: Pid
    seen: frozenset[str]
    versions: dict[int, str]
    forwarded: tuple[Pid, ...] = ()
    payload: AppendEntries | None = None


log_entries = st.builds(LogEntry, ints, names, st.none() | cids)
append_entries = st.builds(
    AppendEntries, pids, ints, st.lists(log_entries, max_size=3).map(tuple), st.none() | ints
)
gossips = st.builds(
    Gossip,
    pids,
    st.frozensets(names, max_size=4),
    st.dictionaries(ints, names, max_size=4),
    st.lists(pids, max_size=3).map(tuple),
    st.none() | append_entries,
)
test_messages = append_entries | gossips

builtin_messages = st.one_of(
    st.builds(StartTimer, counts),
    st.builds(CancelTimer, st.none() | cids),
    st.just(Timeout()),
    st.builds(Persist, json_data),
    st.just(Shutdown()),
    st.builds(ClusterStatus, st.lists(names, max_size=4).map(tuple)),
    st.just(GetExecutorStatus()),
    st.builds(ExecutorStatus, names, counts),
    st.builds(GetMetrics, st.none() | pids),
    st.builds(Metrics, pids, counts, counts, counts, counts),
)
messages = builtin_messages | test_messages
envelopes = st.builds(Envelope, pids, pids, messages, st.none() | cids)


@attrs.define
class ReplicaState:
    """Process state as a protocol keeps it: mutable, plain data, decoded by its types."""

    pid: Pid
    term: int = 0
    log: list[LogEntry] = attrs.Factory(list)
    acks: dict[str, set[int]] = attrs.Factory(dict)
    votes: set[str] = attrs.Factory(set)
    by_index: dict[int, tuple[int, str]] = attrs.Factory(dict)
    leader: Pid | None = None


replica_states = st.builds(
    ReplicaState,
    pids,
    ints,
    st.lists(log_entries, max_size=3),
    st.dictionaries(names, st.sets(ints, max_size=3), max_size=3),
    st.sets(names, max_size=4),
    st.dictionaries(ints, st.tuples(ints, names), max_size=3),
    st.none() | pids,
)
