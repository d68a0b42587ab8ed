"""Raft against VR in the simulator: steps per second, and messages per committed operation.

Run from the repository root: ``python benchmarks/raft.py [--quick]``. Prints one JSON
object per figure (machine-readable), then tables. Two parts (issue 18), each measured
against VR in the same run:

- **speed**: simulated steps per second of ``protocols.raft:scenario`` against
  ``protocols.vr:scenario`` (each three servers and two clients under its own faults), the
  same ``--seeds`` seeds of each with the same strategy (swarm), each seed run as a sweep
  runs it (``run`` with the strategy's chooser, events only in the trace, the liveness
  phase included). Four variants of each scenario: as it is (*checks*), its invariants
  removed (*no invariants*: ``attrs.evolve(scenario, invariants=())``), its
  postconditions removed (*no postconditions*: each copies the receiving process before
  every delivery) and every check removed (*no checks*: invariants, preconditions,
  postconditions and the history check; the liveness condition stays, since it decides
  how long the liveness phase runs).
  Removing checks changes no run (the benchmark asserts the same steps), so the
  difference in microseconds per step is what the checks cost, and its share of a step
  with checks is what they take of a sweep. Raft and VR alternate, variant by variant,
  ``--repeat`` times; each figure is a median over the repeats, and ``raft_over_vr`` the
  median of the ratios of pairs measured close together (below 1: Raft's steps are the
  slower).
- **msgs per op**: Maelstrom's msgs-per-op, in steady state, for 3 and 5 replicas: Raft
  with the ``batch`` its scenarios use (1 entry per ``AppendEntries``) and with 64, and
  VR as the baseline. Each run has no faults, two clients, each a closed loop of
  ``--ops`` operations (writes and reads of one key, alternating; both protocols put
  reads through the log), no think time, and every message between two nodes taking
  exactly ``--latency`` ms (``Faults(latency=(L, L))``), so time in the run is time as a
  deployment would see it: messages arrive when their latency has passed and timers fire
  when due. The messages that have arrived are delivered oldest first (every link first
  in, first out, as over TCP), so the only draws are Raft's election jitter;
  ``--reorder`` lets the chooser deliver them in any order instead, as the simulator's
  searches do (then a reordered ``Prepare`` costs VR a state transfer, and a reordered
  ``AppendEntries`` costs Raft a refusal and a resend). Heartbeats count, so the
  pacing matters: Raft's tick (its
  leader's heartbeat to each follower) is 100 ms and its client retries after 400 ms;
  VR's tick (its primary's ``Commit`` or resent ``Prepare`` to each backup) is 50 ms and
  its client retries after 200 ms. The window measured is steady state with every client
  busy: from the step at which the last client to hear its first answer hears it (a
  leader is elected and known: the election and its failed first requests are before
  it) to the step at which the first client has all its answers (the run stops there).
  Counted are the messages delivered in the window between client and server processes
  and among servers (``all``; ``servers``: only among servers, as Maelstrom's
  ``:servers`` stats), never those to or from an executor (timers, persistence, random
  draws); divided by the operations answered in the window. ``ms_per_op`` is the
  window's virtual time over those operations. The scenarios' checks are removed (they
  do not change what is sent). Each configuration runs ``--runs`` seeds: the median
  over seeds, with the least and the most, and each seed's figure in the JSON (a seed's
  figure is exact; seeds differ in which server leads, which decides how many requests
  are forwarded and whether the clients fall into step with the tick, below).

Raft's clients ask a fixed server (client ``i`` server ``i`` modulo the servers) and a
server that does not lead forwards the request, then answers it itself once it applies
the entry, which it learns from the leader's next ``AppendEntries``: another client's
entry, or the next tick's heartbeat. When every client asks a follower, the clients can
fall into step with the tick (each answer waits for a heartbeat, and both clients' next
requests leave together): 2 operations a tick, and the heartbeats' messages on top
(``ms_per_op`` by seed shows which seeds did). VR's clients ask the primary of the
latest view they know of, which answers. Timings are noise on a shared machine; the
ratios and the message counts are the figures to read.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import attrs

from protocols import raft, vr
from rabble_sim import Faults, Pid, RandomChooser, Scenario, run
from rabble_sim.core import EXECUTOR_GROUP
from rabble_sim.search import chooser_for
from rabble_sim.sim import Deliver, Enabled, Event, RunResult, World

STRATEGY = "swarm"
SPEED = {"raft": raft.scenario, "vr": vr.scenario}
UNCHECKED: dict[str, Any] = {
    "invariants": (), "preconditions": {}, "postconditions": {}, "history": None
}  # fmt: skip
VARIANTS: dict[str, dict[str, Any]] = {
    "checks": {},
    "no_invariants": {"invariants": ()},
    "no_postconditions": {"postconditions": {}},
    "no_checks": UNCHECKED,
}
"""Each variant of a scenario: the fields that ``attrs.evolve`` changes."""
COSTS = {
    "invariants": "no_invariants",
    "postconditions": "no_postconditions",
    "checks": "no_checks",
}
"""What each cost is the difference of: a step with checks, and one without them."""
MAX_STEPS = 200_000
"""A bound on a steady-state run, which stops when a client is done long before it."""


# -- speed -------------------------------------------------------------------------------------


def unchecked(scenario: Scenario) -> Scenario:
    """``scenario`` without invariants, preconditions, postconditions or history check."""
    return attrs.evolve(scenario, **UNCHECKED)


def sweep_steps(scenario: Scenario, seeds: int) -> tuple[float, list[int]]:
    """Seconds to run seeds ``0 .. seeds - 1`` as a sweep does, and each run's steps."""
    steps = []
    started = time.perf_counter()
    for seed in range(seeds):
        chooser = chooser_for(STRATEGY, scenario, seed)
        result = run(scenario, chooser, seed=seed, messages=False)
        if result.violation is not None:
            raise SystemExit(f"{scenario.name} failed seed {seed}: {result.violation}")
        steps.append(result.steps)
    return time.perf_counter() - started, steps


def speed(seeds: int, repeat: int) -> list[dict[str, Any]]:
    """Steps per second of each protocol under each variant, alternating; the ratios
    raft/vr and the checks' cost per step."""
    rates: dict[tuple[str, str], list[float]] = {}
    steps_of: dict[tuple[str, str], list[int]] = {}
    for _ in range(repeat):
        for name, removed in VARIANTS.items():
            for protocol, scenario in SPEED.items():
                seconds, steps = sweep_steps(attrs.evolve(scenario, **removed), seeds)
                rates.setdefault((protocol, name), []).append(sum(steps) / seconds)
                steps_of[protocol, name] = steps
    for protocol in SPEED:
        for name in VARIANTS:
            if steps_of[protocol, name] != steps_of[protocol, "checks"]:
                raise SystemExit(f"{protocol} {name}: removing checks changed the runs")
    rows: list[dict[str, Any]] = []
    for name in VARIANTS:
        raft_rates, vr_rates = rates["raft", name], rates["vr", name]
        rows.append({
            "figure": "steps_per_s",
            "variant": name,
            "seeds": seeds,
            "repeat": repeat,
            "strategy": STRATEGY,
            "raft_steps": sum(steps_of["raft", name]),
            "vr_steps": sum(steps_of["vr", name]),
            "raft_steps_per_s": round(statistics.median(raft_rates)),
            "vr_steps_per_s": round(statistics.median(vr_rates)),
            "raft_us_per_step": round(1e6 / statistics.median(raft_rates), 1),
            "vr_us_per_step": round(1e6 / statistics.median(vr_rates), 1),
            "raft_over_vr": _median_ratio(raft_rates, vr_rates),
        })  # fmt: skip
    for protocol in SPEED:
        us = {name: [1e6 / rate for rate in rates[protocol, name]] for name in VARIANTS}
        row: dict[str, Any] = {"figure": "check_cost", "protocol": protocol}
        for label, without_them in COSTS.items():
            cost = [a - b for a, b in zip(us["checks"], us[without_them], strict=True)]
            share = [c / full for c, full in zip(cost, us["checks"], strict=True)]
            row[f"{label}_us_per_step"] = round(statistics.median(cost), 1)
            row[f"{label}_share"] = round(statistics.median(share), 3)
        rows.append(row)
    return rows


def _median_ratio(top: Sequence[float], bottom: Sequence[float]) -> float:
    return round(statistics.median(a / b for a, b in zip(top, bottom, strict=True)), 3)


# -- messages per operation ----------------------------------------------------------------


class SteadyChooser(RandomChooser):
    """``RandomChooser(seed)`` for a steady-state run: it ends the run when some client has
    ``ops`` answers, and, unless ``reorder``, delivers the messages that have arrived
    oldest first (each link first in, first out, as over TCP) and lets time pass only
    when none is left; its draws are then the processes' random numbers alone."""

    def __init__(self, seed: int, ops: int, *, reorder: bool = False) -> None:
        super().__init__(seed)
        self.ops = ops
        self.reorder = reorder
        self._read = 0
        self._answers: Counter[Pid] = Counter()

    def next_event(self, world: World) -> Event | None:
        history = world.history
        for event in history[self._read :]:
            if event.kind != "invoke":
                self._answers[event.client] += 1
        self._read = len(history)
        if self._answers and max(self._answers.values()) >= self.ops:
            return None
        return super().next_event(world)

    def pick(self, world: World, enabled: Enabled) -> int | None:
        if self.reorder:
            return super().pick(world, enabled)
        return enabled.delivery(0) if enabled.deliveries else None


@attrs.frozen
class Steady:
    """How the steady-state runs are made: ``runs`` seeds of each configuration, ``ops``
    operations per client, ``latency`` ms per message, arrivals ``reorder``ed or not."""

    runs: int
    ops: int
    latency: int
    reorder: bool = False

    @property
    def faults(self) -> Faults:
        """No faults; every message between two nodes takes ``latency`` ms exactly."""
        return Faults(latency=(self.latency, self.latency))  # type: ignore[arg-type]

    def raft(self, replicas: int, batch: int) -> Scenario:
        calls = tuple(("write", 0, k) if k % 2 == 0 else ("read", 0) for k in range(self.ops))
        return raft.raft_scenario(
            f"raft-steady-{replicas}-b{batch}", servers=replicas, inputs=0, ops=calls,
            batch=batch, faults=self.faults, max_steps=MAX_STEPS, within=0,
        )  # fmt: skip

    def vr(self, replicas: int) -> Scenario:
        calls = tuple(("put", "x", str(k)) if k % 2 == 0 else ("get", "x") for k in range(self.ops))
        return vr.vr_scenario(
            f"vr-steady-{replicas}", replicas=replicas, ops=self.ops, workloads=(calls,),
            faults=self.faults, max_steps=MAX_STEPS, within=0,
        )  # fmt: skip


@attrs.frozen
class Window:
    """What one steady-state run delivered while every client was busy."""

    ops: int
    """Operations answered in the window."""
    messages: Counter[str]
    """Messages delivered between processes, by message type."""
    servers: int
    """Of them, those between two servers."""
    ms: int
    """The window's virtual time."""


def steady_window(scenario: Scenario, seed: int, steady: Steady) -> Window:
    """Run ``scenario`` (its checks removed) until a client has all its answers, and count
    the window in which every client was busy (see the module's docstring)."""
    kept: list[World] = []

    def keep(world: World) -> None:
        if not kept:
            kept.append(world)

    chooser = SteadyChooser(seed, steady.ops, reorder=steady.reorder)
    result = run(unchecked(scenario), chooser, seed=seed, check_liveness=False, observers=[keep])
    answers = [e for e in kept[0].history if e.kind != "invoke"]
    firsts: dict[Pid, tuple[int, int]] = {}
    for event in answers:
        firsts.setdefault(event.client, (event.step, event.time))
    done = Counter(e.client for e in answers)
    if len(firsts) < len(scenario.clients) or max(done.values()) < steady.ops:
        raise SystemExit(f"{scenario.name} seed {seed}: no client got its {steady.ops} answers")
    start, start_ms = max(firsts.values())
    end, end_ms = answers[-1].step, answers[-1].time
    ops = sum(1 for e in answers if start < e.step <= end)
    messages, servers = _delivered(result, start, end, set(scenario.clients))
    return Window(ops, messages, servers, end_ms - start_ms)


def _delivered(
    result: RunResult, start: int, end: int, clients: set[str]
) -> tuple[Counter[str], int]:
    """The messages delivered in steps ``start + 1 .. end`` between processes (not from or
    to an executor), by type, and how many of them went between two servers."""
    kinds: Counter[str] = Counter()
    servers = 0
    for step in range(start + 1, end + 1):
        event, env, _ = result.trace.step(step)
        if not isinstance(event, Deliver) or env is None:
            continue
        if EXECUTOR_GROUP in (env.to.group, env.from_.group):
            continue
        kinds[type(env.msg).__name__] += 1
        servers += env.to.node not in clients and env.from_.node not in clients
    return kinds, servers


def msgs_per_op(scenario: Scenario, steady: Steady, **labels: Any) -> dict[str, Any]:
    """Messages per operation of seeds ``0 .. steady.runs - 1`` of ``scenario``: the
    median over seeds, the least and the most, and the messages of each type per
    operation over all the seeds' windows."""
    windows = [steady_window(scenario, seed, steady) for seed in range(steady.runs)]
    every = [sum(w.messages.values()) / w.ops for w in windows]
    by_type: Counter[str] = Counter()
    for w in windows:
        by_type.update(w.messages)
    total_ops = sum(w.ops for w in windows)
    return {
        "figure": "msgs_per_op",
        **labels,
        "latency_ms": steady.latency,
        "reorder": steady.reorder,
        "runs": steady.runs,
        "ops_per_client": steady.ops,
        "window_ops": statistics.median(w.ops for w in windows),
        "msgs_per_op": round(statistics.median(every), 2),
        "least": round(min(every), 2),
        "most": round(max(every), 2),
        "servers_msgs_per_op": round(statistics.median(w.servers / w.ops for w in windows), 2),
        "ms_per_op": round(statistics.median(w.ms / w.ops for w in windows), 1),
        "msgs_per_op_by_seed": [round(x, 2) for x in every],
        "ms_per_op_by_seed": [round(w.ms / w.ops, 1) for w in windows],
        "by_type": {k: round(n / total_ops, 2) for k, n in sorted(by_type.items())},
    }


def messages(
    replicas: Sequence[int], batches: Sequence[int], steadies: Sequence[Steady]
) -> list[dict[str, Any]]:
    """Raft's messages per operation with each batch, against VR's, for each replica count
    and each way of running (``Steady``); one JSON object each as it is measured."""
    rows: list[dict[str, Any]] = []
    for steady in steadies:
        for n in replicas:
            baseline = msgs_per_op(steady.vr(n), steady, protocol="vr", replicas=n, batch=None)
            for batch in batches:
                row = msgs_per_op(
                    steady.raft(n, batch), steady, protocol="raft", replicas=n, batch=batch
                )
                row["raft_over_vr"] = round(row["msgs_per_op"] / baseline["msgs_per_op"], 2)
                rows.append(row)
                print(json.dumps(row), flush=True)
            rows.append(baseline)
            print(json.dumps(baseline), flush=True)
    return rows


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--repeat", type=int, help="speed: repetitions [5; quick: 1]")
    parser.add_argument("--seeds", type=int, help="speed: seeds of each scenario [20; quick: 3]")
    parser.add_argument("--runs", type=int, help="msgs per op: seeds of each [5; quick: 1]")
    parser.add_argument("--ops", type=int, help="msgs per op: ops per client [100; quick: 20]")
    parser.add_argument("--latency", help="msgs per op: ms per message [1,10; quick: 1]")
    parser.add_argument("--batches", default="1,64", help="msgs per op: Raft's batches [1,64]")
    parser.add_argument(
        "--reorder", action="store_true", help="msgs per op: arrived messages in any order"
    )
    parser.add_argument("--only", default="", help="parts to run: speed,msgs")
    args = parser.parse_args()
    quick = args.quick
    repeat = args.repeat or (1 if quick else 5)
    seeds = args.seeds or (3 if quick else 20)
    runs = args.runs or (1 if quick else 5)
    ops = args.ops or (20 if quick else 100)
    latencies = [int(x) for x in (args.latency or ("1" if quick else "1,10")).split(",")]
    batches = [int(x) for x in args.batches.split(",")]
    parts = set(args.only.split(",")) if args.only else {"speed", "msgs"}
    started = time.perf_counter()
    speeds: list[dict[str, Any]] = []
    if "speed" in parts:
        speeds = speed(seeds, repeat)
        for row in speeds:
            print(json.dumps(row), flush=True)
    steadies = [Steady(runs, ops, latency, args.reorder) for latency in latencies]
    counts = messages((3, 5), batches, steadies) if "msgs" in parts else []
    seconds = time.perf_counter() - started
    print(json.dumps({"figure": "raft_benchmark_seconds", "seconds": round(seconds, 1)}))
    _tables(speeds, counts)


def _tables(speeds: list[dict[str, Any]], counts: list[dict[str, Any]]) -> None:
    steps = [r for r in speeds if r["figure"] == "steps_per_s"]
    if steps:
        print(f"\n{'variant':<19}{'raft steps/s':>13}{'vr steps/s':>12}{'raft/vr':>9}"
              f"{'raft us/step':>14}{'vr us/step':>12}")  # fmt: skip
        for r in steps:
            print(
                f"{r['variant']:<19}{r['raft_steps_per_s']:>13,}{r['vr_steps_per_s']:>12,}"
                f"{r['raft_over_vr']:>9}{r['raft_us_per_step']:>14}{r['vr_us_per_step']:>12}"
            )
        print(f"\n{'cost per step':<19}" + "".join(f"{c:>16}{'share':>7}" for c in COSTS))
        for r in speeds:
            if r["figure"] == "check_cost":
                cells = "".join(
                    f"{r[f'{c}_us_per_step']:>13} us{r[f'{c}_share']:>7.0%}" for c in COSTS
                )
                print(f"{r['protocol']:<19}{cells}")
    if counts:
        print(f"\n{'protocol':<10}{'replicas':>9}{'batch':>6}{'latency':>8}{'msgs/op':>9}"
              f"{'seeds':>13}{'servers':>9}{'ms/op':>7}{'seeds':>12}{'raft/vr':>9}")  # fmt: skip
        for r in counts:
            ms = r["ms_per_op_by_seed"]
            spread = f"{r['least']}-{r['most']}"
            print(
                f"{r['protocol']:<10}{r['replicas']:>9}{r['batch'] or '-'!s:>6}"
                f"{r['latency_ms']:>6}ms{r['msgs_per_op']:>9}"
                f"{spread:>13}{r['servers_msgs_per_op']:>9}"
                f"{r['ms_per_op']:>7}{f'{min(ms)}-{max(ms)}':>12}"
                f"{r.get('raft_over_vr', '-')!s:>9}"
            )


if __name__ == "__main__":
    main()
