"""Simulator throughput: events/s on echo against a bare loop, and cost per step vs in-flight.

Run from the repository root: ``python benchmarks/sim_throughput.py``. Prints one JSON
object per figure (machine-readable) and a table. Every figure is the median of several
repetitions measured in the same process, and each is compared with a baseline measured
in the same run, since absolute times on a shared machine are noise.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import attrs

from protocols.echo import many_clients
from rabble_sim import CorrelationId, Envelope, Pid, RandomChooser, Scenario, message, run
from rabble_sim.codec import transit
from rabble_sim.core import EXECUTOR_GROUP


def bare_loop(scenario: Scenario, *, copying: bool = False) -> int:
    """Deliver every message FIFO by calling ``handle`` directly: no scheduler, no checks,
    no trace, no timers. With ``copying``, each message is copied through the codec as it
    is sent (``rabble_sim.codec.transit``), as both of rabble-sim's hosts must do (a
    sender's later change must not reach the receiver). Returns the number of messages
    delivered."""
    processes = {}
    queue: deque[Envelope] = deque()
    for node in scenario.nodes:
        for proc in scenario.start(node, None):
            processes[proc.pid] = proc
    for proc in processes.values():
        out: list[Envelope] = []
        if hasattr(proc, "init"):
            proc.init(out)
        queue.extend(env for env in out if env.to.group != EXECUTOR_GROUP)
    delivered = 0
    while queue:
        env = queue.popleft()
        proc = processes.get(env.to)
        if proc is None:
            continue
        out = []
        proc.handle(env.msg, env.from_, env.cid, out)
        delivered += 1
        sent = [e for e in out if e.to.group != EXECUTOR_GROUP]
        if copying:
            sent = [Envelope(e.to, e.from_, transit(e.msg)[1], e.cid) for e in sent]
        queue.extend(sent)
    return delivered


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    events = fn()
    return time.perf_counter() - started, events


def throughput(clients: int, requests: int, repeat: int) -> dict[str, object]:
    """The simulator and the bare loop in turn, ``repeat`` times: medians and the median of
    the per-pair ratios (pairs taken close together cancel most of the machine's drift)."""
    scenario = many_clients(clients, requests)
    sim_rates, bare_rates, ratios, copying_ratios = [], [], [], []
    for seed in range(repeat):
        sim_s, sim_events = timed(functools.partial(steps_of, scenario, seed, None))
        bare_s, bare_events = timed(functools.partial(bare_loop, scenario))
        copy_s, copy_events = timed(functools.partial(bare_loop, scenario, copying=True))
        sim_rates.append(sim_events / sim_s)
        bare_rates.append(bare_events / bare_s)
        ratios.append(bare_rates[-1] / sim_rates[-1])
        copying_ratios.append(copy_events / copy_s / sim_rates[-1])
    return {
        "figure": "echo_throughput",
        "clients": clients,
        "requests": requests,
        "sim_events_per_s": round(statistics.median(sim_rates)),
        "bare_events_per_s": round(statistics.median(bare_rates)),
        "bare_over_sim": round(statistics.median(ratios), 2),
        "copying_bare_over_sim": round(statistics.median(copying_ratios), 2),
    }


@message("bench.token")
@attrs.frozen
class Token:
    number: int


@attrs.define
class Relay:
    """Forwards every token to the next node of the ring; node r0 starts the tokens."""

    pid: Pid
    ring: int
    tokens: int

    def init(self, output: list[Envelope]) -> None:
        if self.pid.node == "r0":
            for i in range(self.tokens):
                output.append(Envelope(Pid("relay", f"r{i % self.ring}"), self.pid, Token(i)))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        nxt = (int(self.pid.node[1:]) + 1) % self.ring
        output.append(Envelope(Pid("relay", f"r{nxt}"), self.pid, msg))


def token_ring(tokens: int, ring: int = 10) -> Scenario:
    """``tokens`` messages always in flight among ``ring`` processes, whatever is chosen."""
    nodes = [f"r{i}" for i in range(ring)]
    return Scenario(
        f"ring-{tokens}", nodes, lambda node, durable: [Relay(Pid("relay", node), ring, tokens)]
    )


def steps_of(scenario: Scenario, seed: int, max_steps: int | None) -> int:
    return run(scenario, RandomChooser(seed), max_steps=max_steps, messages=False).steps


def step_cost(in_flight: int, steps: int, repeat: int) -> dict[str, object]:
    """Microseconds per step with exactly ``in_flight`` messages in flight throughout
    (a token ring: the processes and their work are the same at every size)."""
    scenario = token_ring(in_flight)
    costs = []
    for seed in range(repeat):
        start_only, _ = timed(functools.partial(steps_of, scenario, seed, 0))
        seconds, done = timed(functools.partial(steps_of, scenario, seed, steps))
        costs.append((seconds - start_only) / done * 1e6)
    return {
        "figure": "step_cost",
        "in_flight": in_flight,
        "steps": steps,
        "us_per_step": round(statistics.median(costs), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=50_000)
    args = parser.parse_args()
    rows = [throughput(200, 50, args.repeat), throughput(1000, 10, args.repeat)]
    costs = [step_cost(n, args.steps, args.repeat) for n in (10, 1000, 10_000)]
    flat = max(c["us_per_step"] for c in costs) / min(c["us_per_step"] for c in costs)  # type: ignore[type-var,operator]
    for row in [*rows, *costs, {"figure": "step_cost_spread", "max_over_min": round(flat, 2)}]:
        print(json.dumps(row))
    print()
    print(
        f"{'echo clients x requests':<26}{'sim events/s':>14}{'bare events/s':>15}"
        f"{'bare/sim':>10}{'copying bare/sim':>18}"
    )
    for r in rows:
        shape = f"{r['clients']} x {r['requests']}"
        rates = f"{r['sim_events_per_s']:>14,}{r['bare_events_per_s']:>15,}"
        print(f"{shape:<26}{rates}{r['bare_over_sim']:>10}{r['copying_bare_over_sim']:>18}")
    print(f"\n{'in flight':<12}{'us per step':>12}")
    for c in costs:
        print(f"{c['in_flight']:<12,}{c['us_per_step']:>12}")
    print(f"spread (max/min): {flat:.2f}")


if __name__ == "__main__":
    main()
