"""Exhaustive exploration: every schedule of a scenario up to a bound, breadth-first, each
state visited once (by its fingerprint), the first violation found with a shortest path.

A first slice of issue 15 (see the closing note of its session): the search, the state
fingerprint and counterexamples as ordinary runs (hence schedules). Not yet: symmetry
reduction, "stuck" liveness, branching in the debugger, a command and a progress line.
Random numbers a process asks for are not branched on: each is 0, the simplest.
"""

from __future__ import annotations

import copy
import hashlib
from collections import deque
from typing import Any

import attrs

from ..codec import canonical_json, to_plain
from ..sim import (
    CheckFailed,
    Event,
    ReplayChooser,
    RunResult,
    Scenario,
    View,
    Violation,
    World,
    branches,
    envelope_plain,
    first_failure,
    history_check,
    run,
)


@attrs.frozen
class ExploreReport:
    """What an exploration did: states visited and distinct, the deepest level reached,
    whether every state within the bound was visited, and the violation, if any, with the
    run of its (shortest) path."""

    states: int
    unique: int
    depth: int
    exhausted: bool
    violation: Violation | None = None
    failure: RunResult | None = None

    @property
    def ok(self) -> bool:
        return self.violation is None


def explore(
    scenario: Scenario,
    *,
    depth: int | None = None,
    max_states: int = 100_000,
    order: str = "bfs",
) -> ExploreReport:
    """Visit every state of ``scenario`` reachable within ``depth`` events (default: the
    scenario's ``max_steps``), breadth-first (``order="dfs"``: depth-first), running the
    checks on each, until a violation or ``max_states`` states. Every enabled event is
    tried: deliveries, the next timer, inputs (every combination of ``make``'s draws, up
    to ``MAX_INPUT_VARIANTS``), and the faults the scenario allows within its budgets."""
    if order not in ("bfs", "dfs"):
        raise ValueError(f"order is 'bfs' or 'dfs', not {order!r}")
    bound = scenario.max_steps if depth is None else depth
    root = World(scenario)
    try:
        root.start()
    except CheckFailed as failure:
        return _found(scenario, (), Violation(failure.check, failure.message, 0), 1, 1, 0)
    violation = _checked(scenario, root)
    if violation is not None:
        return _found(scenario, (), violation, 1, 1, 0)
    seen = {fingerprint(root)}
    frontier: deque[tuple[World, tuple[Event, ...]]] = deque([(root, ())])
    states, deepest, cut = 1, 0, False
    while frontier:
        world, path = frontier.popleft() if order == "bfs" else frontier.pop()
        if len(path) >= bound:
            continue
        for event in branches(world):
            states += 1
            child = copy.deepcopy(world)
            child.begin_step(world.step + 1)
            steps = (*path, event)
            deepest = max(deepest, len(steps))
            try:
                child.apply(event)
            except CheckFailed as failure:
                found = Violation(failure.check, failure.message, len(steps))
                return _found(scenario, steps, found, states, len(seen), deepest)
            violation = _checked(scenario, child)
            if violation is not None:
                return _found(scenario, steps, violation, states, len(seen), deepest)
            print_ = fingerprint(child)
            if print_ in seen:
                continue
            if len(seen) >= max_states:
                cut = True
                continue
            seen.add(print_)
            frontier.append((child, steps))
    return ExploreReport(states, len(seen), deepest, exhausted=not cut and deepest < bound)


def fingerprint(world: World) -> bytes:
    """128 bits that identify what decides ``world``'s future: every process's state, the
    durable data, the messages in flight as a multiset (without their seqs), the pending
    timers relative to now, the nodes down, the partition and the inputs given. Stable
    across interpreters: plain data in canonical JSON, hashed with BLAKE2b."""
    now = world.now
    timers = world.timers
    state: dict[str, Any] = {
        "processes": sorted([str(pid), to_plain(proc)] for pid, proc in world.processes.items()),
        "durable": sorted([str(pid), to_plain(data)] for pid, data in world.durable.items()),
        "in_flight": sorted(canonical_json(envelope_plain(env)) for _, env in world.in_flight()),
        "timers": sorted(
            [timers[seq].due - now, str(timers[seq].pid), to_plain(timers[seq].cid)]
            for seq in timers
        ),
        "down": world.down_nodes(),
        "groups": sorted(sorted(g) for g in _groups(world)),
        "inputs": list(world.inputs_given),
    }
    return hashlib.blake2b(canonical_json(state).encode(), digest_size=16).digest()


def _groups(world: World) -> list[list[str]]:
    groups = world.network.groups
    if groups is None:
        return []
    by_group: dict[int, list[str]] = {}
    for node in world.scenario.nodes:
        by_group.setdefault(groups.get(node, -1), []).append(node)
    return list(by_group.values())


def _checked(scenario: Scenario, world: World) -> Violation | None:
    """The invariants and the history check on ``world``, as a run runs them."""
    history = history_check(scenario)
    checks = (*scenario.invariants, history) if history is not None else scenario.invariants
    return first_failure(checks, View(world), world.step)


def _found(
    scenario: Scenario,
    path: tuple[Event, ...],
    violation: Violation,
    states: int,
    unique: int,
    deepest: int,
) -> ExploreReport:
    """The report of a violation, with its path run again as an ordinary run (a schedule
    file is ``Schedule.from_run`` of it)."""
    again = run(
        scenario, ReplayChooser(path), max_steps=len(path), check_liveness=False, step_timeout=None
    )
    return ExploreReport(states, unique, deepest, False, violation, again)
