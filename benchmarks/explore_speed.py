"""Exploration: unique states per second and bytes per state, against simulated steps.

Also the state counts of exhaustive explorations with and without symmetry, and
breadth-first counterexamples against the schedules delta debugging shrinks.

Run from the repository root: ``python benchmarks/explore_speed.py [--quick]``. Prints one
JSON object per figure (machine-readable), then tables. Four parts (issue 15):

- **speed**: ``explore`` (breadth-first, up to ``--max-states`` distinct states) on echo,
  Omega and a small VR configuration, with and without faults, each repetition in a fresh
  interpreter (so that its resident set growth is its own); states (events tried) and
  unique (distinct) states per second, against the simulator's own steps per second on the
  same scenario (``run`` with a ``RandomChooser``, in this process), alternating. The
  ratio ``sim_steps_per_s / states_per_s`` is how many simulated steps a state costs.
- **memory**: the peak resident set growth of each exploration (``ru_maxrss`` against the
  size before it) per unique state, and per state left in the frontier at the end.
- **exhaustion**: configurations explored to the end (``report.complete``), with the
  scenario's symmetry and without (``symmetry=()``); and the ones whose reachable space is
  infinite, explored to a depth bound instead.
- **counterexamples**: for every ``bug_`` scenario of echo and Omega, the breadth-first
  counterexample (the shortest within the search's event model) against the schedules that
  ``rabble-sim run`` shrinks (a swarm sweep of 100 seeds, then delta debugging with the
  command line's budget) and the committed ones in ``schedules/``.

Every timed figure is a median over ``--repeat`` repetitions; ratios are medians of the
ratios of pairs measured close together.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import attrs
from bug_finding import bug_scenarios

from protocols import echo, omega
from protocols.echo.scenarios import _echo
from protocols.omega.scenarios import _omega
from protocols.vr.scenarios import WITHIN, vr_scenario
from rabble_sim import Faults, RandomChooser, Scenario, run
from rabble_sim.schedule import Schedule, load, shrink
from rabble_sim.search import _explore as explore_module, explore, sweep
from rabble_sim.search._saving import SHRINK_SECONDS
from tests.search.lock import lock_scenario  # exploration's tests' symmetric lock server

ROOT = Path(__file__).resolve().parent.parent

VR_SMALL_FAULTS = Faults(drop=0.05, crash=1, crash_rate=0.005, restart_rate=0.1)
"""The small VR configuration's faults: drops and one replica down at a time (no
duplicates, no partitions)."""


def vr_small() -> Scenario:
    """Three replicas (f = 1), one client of two operations (a put, then a push), drops
    and one replica down at a time."""
    return vr_scenario(
        "vr-small", replicas=3, clients=1, ops=2, faults=VR_SMALL_FAULTS, max_steps=300,
        within=WITHIN,
    )  # fmt: skip


SPEED: dict[str, Callable[[], Scenario]] = {
    "echo": lambda: echo.scenario,
    "echo-no-faults": lambda: attrs.evolve(echo.scenario, name="echo-no-faults", faults=Faults()),
    "omega": lambda: omega.scenario,
    "omega-no-faults": lambda: attrs.evolve(
        omega.scenario, name="omega-no-faults", faults=Faults()
    ),
    "vr-small": vr_small,
}
"""The scenarios timed, by name (a child interpreter builds its own from the name)."""


COMMITTED = {
    "protocols.echo:bug_shared_cache": "schedules/echo/shared-cache.json",
    "protocols.omega:bug_no_self": "schedules/omega/no-self.json",
    "protocols.omega:bug_round_not_persisted": "schedules/omega/round-not-persisted.json",
}
"""The curated schedule of each bug that has one."""

SWEEP_SEEDS = 100
"""Seeds a sweep tries per trial: ``rabble-sim run``'s default."""


# -- one exploration, in a fresh interpreter ---------------------------------------------------


def child(name: str, max_states: int, traced: bool) -> dict[str, Any]:
    """Explore ``SPEED[name]`` once, in this (fresh) interpreter: the counts, the seconds,
    the peak resident set growth (and with ``traced`` the peak of Python's allocations:
    tracemalloc makes the exploration about five times slower), and the states expanded
    (each one's enabled events listed once), from which the frontier left at the end."""
    scenario = SPEED[name]()
    expanded = _count_expansions()
    before = _rss()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    report = explore(scenario, max_states=max_states)
    seconds = time.perf_counter() - started
    peak_traced = tracemalloc.get_traced_memory()[1] if traced else None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "states": report.states,
        "unique": report.unique,
        "depth": report.depth,
        "complete": report.complete,
        "seconds": seconds,
        "rss_growth": peak - before,
        "traced_peak": peak_traced,
        "expanded": expanded[0] if expanded else None,
    }


def _count_expansions() -> list[int]:
    """Counts the calls of exploration's ``branches`` (once per state expanded), if it
    still calls it by that name; an empty list if not."""
    branches = getattr(explore_module, "branches", None)
    if branches is None:
        return []
    count = [0]

    def counted(world: Any, *more: Any) -> Any:
        count[0] += 1
        return branches(world, *more)

    explore_module.branches = counted  # type: ignore[attr-defined,assignment]
    return count


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def explore_in_child(name: str, max_states: int, traced: bool = False) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", name, "--max-states", str(max_states)]
        + (["--tracemalloc"] if traced else []),
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"exploring {name} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# -- speed and memory --------------------------------------------------------------------------


def sim_rate(scenario: Scenario, steps: int, first_seed: int) -> float:
    """Simulated steps per second: runs of ``scenario`` (checks, faults and the liveness
    phase as in a sweep) under seeds from ``first_seed`` until ``steps`` steps are run."""
    done, seed = 0, first_seed
    started = time.perf_counter()
    while done < steps:
        done += run(scenario, RandomChooser(seed), seed=seed, messages=False).steps
        seed += 1
    return done / (time.perf_counter() - started)


def speed(name: str, max_states: int, repeat: int, sim_steps: int, traced: bool) -> dict[str, Any]:
    scenario = SPEED[name]()
    rows, sims = [], []
    for i in range(repeat):
        sims.append(sim_rate(scenario, sim_steps, 1000 * i))
        rows.append(explore_in_child(name, max_states))
    states_s = [r["states"] / r["seconds"] for r in rows]
    unique_s = [r["unique"] / r["seconds"] for r in rows]
    per_unique = [r["rss_growth"] / r["unique"] for r in rows]
    last = rows[-1]
    out: dict[str, Any] = {
        "figure": "explore_speed",
        "scenario": name,
        "max_states": max_states,
        "repeat": repeat,
        "states": last["states"],
        "unique": last["unique"],
        "depth": last["depth"],
        "states_per_unique": round(last["states"] / last["unique"], 2),
        "seconds": round(statistics.median(r["seconds"] for r in rows), 2),
        "states_per_s": round(statistics.median(states_s)),
        "unique_per_s": round(statistics.median(unique_s)),
        "sim_steps_per_s": round(statistics.median(sims)),
        "sim_steps_per_state": _ratio(sims, states_s),
        "sim_steps_per_unique": _ratio(sims, unique_s),
        "rss_bytes_per_unique": round(statistics.median(per_unique)),
    }
    if last["expanded"] is not None:
        # Breadth-first, each distinct state joins the frontier once and leaves it when it
        # is expanded (a stuck state leaves unexpanded: there are few).
        left = [r["unique"] - r["expanded"] for r in rows]
        out["frontier_left"] = left[-1]
        out["rss_bytes_per_frontier_state"] = round(
            statistics.median(r["rss_growth"] / max(n, 1) for r, n in zip(rows, left, strict=True))
        )
    if traced:
        measured = explore_in_child(name, max_states, traced=True)
        out["traced_bytes_per_unique"] = round(measured["traced_peak"] / measured["unique"])
    return out


def _ratio(numerators: list[float], denominators: list[float]) -> float:
    return round(statistics.median(n / d for n, d in zip(numerators, denominators, strict=True)), 2)


# -- exhaustion --------------------------------------------------------------------------------


def _explored(label: str, scenario: Scenario, **options: Any) -> dict[str, Any]:
    report = explore(scenario, **options)
    return {
        **report.counts(),
        "seconds": round(report.seconds, 2),
        "violation": report.violation.check if report.violation else None,
        "label": label,
    }


def exhaustion(
    lock_clients: int, max_states: int, echo_depth: int, omega_depth: int
) -> Iterator[dict[str, Any]]:
    """The lock server of ``tests/search/lock.py`` (clients interchangeable) to the end,
    with and without symmetry; echo and Omega, whose spaces never end, to a depth bound."""
    for count in range(2, lock_clients + 1):
        scenario = lock_scenario(count)
        with_ = _explored("symmetry", scenario, max_states=max_states)
        without = _explored("none", scenario, max_states=max_states, symmetry=())
        yield _pair(f"lock, {count} clients", "complete", with_, without)
    # Echo, two clients of one request, no faults: a client's retry timer resends its
    # request for as long as it is unanswered, so its retry count and the copies in
    # flight grow without end. Bounded instead; the clients are interchangeable.
    small_echo = _echo("echo-2x1", clients=2, requests=1)
    with_ = _explored(
        "symmetry", small_echo, depth=echo_depth, max_states=max_states, symmetry=[("c1", "c2")]
    )
    without = _explored("none", small_echo, depth=echo_depth, max_states=max_states)
    yield _pair("echo, 2 clients x 1 request, no faults", f"to depth {echo_depth}", with_, without)
    # Omega, two nodes, no faults: rounds grow with every heartbeat. No symmetry: the
    # smallest node is the one all must trust.
    small_omega = _omega("omega-2", ("a", "b"), faults=Faults(), max_steps=600)
    without = _explored("none", small_omega, depth=omega_depth, max_states=max_states)
    yield _pair("omega, 2 nodes, no faults", f"to depth {omega_depth}", None, without)


def _pair(
    config: str, bound: str, with_: dict[str, Any] | None, without: dict[str, Any]
) -> dict[str, Any]:
    row: dict[str, Any] = {"figure": "exhaustion", "config": config, "bound": bound}
    row.update({f"{k}_no_symmetry": v for k, v in without.items() if k != "label"})
    if with_ is not None:
        row.update({f"{k}_symmetry": v for k, v in with_.items() if k != "label"})
        row["reduction"] = round(without["unique"] / with_["unique"], 2)
    return row


# -- counterexamples ---------------------------------------------------------------------------


def counterexample(
    reference: str,
    scenario: Scenario,
    trials: int,
    budgets: dict[str, int],
    shrink_seconds: float | None = SHRINK_SECONDS,
) -> dict[str, Any]:
    """The shrunk schedules of ``trials`` sweeps (delta debugging within
    ``shrink_seconds``, the command line's budget; None: its 1,000 replays only), then a
    breadth-first exploration (with the liveness phase from every state if the sweeps'
    bug is a liveness one)."""
    shrunk: list[tuple[int, int]] = []
    checks: set[str] = set()
    sweep_seconds = []
    cut = 0  # shrinks that ran out of time
    for trial in range(trials):
        started = time.perf_counter()
        first = trial * 1000
        failure = sweep(scenario, range(first, first + SWEEP_SEEDS)).failure
        if failure is None:
            continue
        shrunk_run = shrink(Schedule.from_run(failure, reference), scenario, seconds=shrink_seconds)
        schedule = shrunk_run.schedule
        cut += "stopped after" in (shrunk_run.note or "")
        sweep_seconds.append(time.perf_counter() - started)
        assert schedule.violation is not None
        checks.add(schedule.violation["check"])
        shrunk.append(_lengths(len(schedule.events), schedule.liveness_from))
    liveness = any(check.startswith("liveness") for check in checks)
    max_states = budgets["liveness" if liveness else "safety"]
    report = explore(scenario, max_states=max_states, liveness=liveness)
    row: dict[str, Any] = {
        "figure": "counterexample",
        "scenario": reference,
        "liveness": liveness,
        "max_states": max_states,
        "explore_found": report.failure is not None,
        "explore_states": report.states,
        "explore_unique": report.unique,
        "explore_depth": report.depth,
        "explore_seconds": round(report.seconds, 2),
    }
    if report.failure is not None:
        found = _lengths(len(report.failure.events()), report.failure.liveness_from)
        row["explore_check"] = report.violation.check if report.violation else None
        row["explore_length"], row["explore_before_liveness"] = found
    elif report.violation is None:
        # Breadth-first, every state of fewer events than the deepest reached was checked.
        row["explore_shortest_at_least"] = report.depth
    row["sweeps_found"] = f"{len(shrunk)}/{trials}"
    if shrunk:
        row["sweep_and_shrink_seconds"] = round(statistics.median(sweep_seconds), 2)
        row["shrunk_lengths"] = sorted(total for total, _ in shrunk)
        row["shrunk_before_liveness"] = sorted(before for _, before in shrunk)
        row["shrinks_out_of_time"] = cut
    committed = COMMITTED.get(reference)
    if committed is not None:
        schedule = load(ROOT / committed)
        row["committed"] = committed
        row["committed_length"], row["committed_before_liveness"] = _lengths(
            len(schedule.events), schedule.liveness_from
        )
    if report.failure is not None and shrunk:
        best = row["explore_before_liveness"]
        row["shrunk_over_explore"] = (
            round(statistics.median(b for _, b in shrunk) / best, 2) if best else None
        )
    return row


def _lengths(events: int, liveness_from: int | None) -> tuple[int, int]:
    """A schedule's length, and how many of its events come before the liveness phase."""
    return events, (events if liveness_from is None else liveness_from - 1)


# -- where the time goes -----------------------------------------------------------------------


PHASES = {
    "fork": ("sim/_world.py", "fork"),
    "apply": ("sim/_world.py", "apply"),
    "process copies": ("sim/_postconditions.py", "copy_of"),
    "fingerprint": ("search/_fingerprint.py", "__call__"),
    "to_plain": ("codec/_plain.py", "to_plain"),
    "checks": ("search/_explore.py", "check"),
}
"""Parts of an exploration's time, as (file, function) whose inclusive time is the part's.
Process copies (before a process runs: copy on write, and the copy its postconditions
compare with) are inside ``apply``; ``to_plain`` is mostly inside ``fingerprint``."""


def profile(name: str, max_states: int) -> dict[str, Any]:
    """Each part's share of one exploration's time (cProfile: slower, shares only), and
    the files with the most self time."""
    scenario = SPEED[name]()
    profiler = cProfile.Profile()
    profiler.runcall(explore, scenario, max_states=max_states)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = max(cum for (_, _, fn), (_, _, _, cum, _) in stats.items() if fn == "explore")
    parts = dict.fromkeys(PHASES, 0.0)
    by_file: dict[str, float] = {}
    for (filename, _, function), (_, _, self_time, cumulative, _) in stats.items():
        for part, (suffix, wanted) in PHASES.items():
            if function == wanted and filename.endswith(suffix):
                parts[part] += cumulative
        key = _short(filename) if filename != "~" else function
        by_file[key] = by_file.get(key, 0.0) + self_time
    ranked = sorted(by_file.items(), key=lambda kv: -kv[1])[:6]
    return {
        "figure": "explore_profile",
        "scenario": name,
        "share": {part: round(t / total, 3) for part, t in parts.items()},
        "self_time_share": {k: round(v / total, 3) for k, v in ranked},
    }


def _short(filename: str) -> str:
    path = Path(filename)
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return path.name


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small budgets: about 30 s")
    parser.add_argument("--repeat", type=int, help="explorations per scenario [3; quick: 1]")
    parser.add_argument("--max-states", type=int, help="unique states each [20,000; quick: 2,000]")
    parser.add_argument("--sim-steps", type=int, help="baseline steps per repetition [20,000]")
    parser.add_argument("--trials", type=int, help="sweeps (then shrinks) per bug [3; quick: 1]")
    parser.add_argument(
        "--bug-states", type=int, help="unique states to find a liveness bug [5,000; quick: 500]"
    )
    parser.add_argument(
        "--shrink-seconds",
        type=float,
        default=SHRINK_SECONDS,
        help=f"each shrink's time budget [{SHRINK_SECONDS:g}, as run; 0: 1,000 replays only]",
    )
    parser.add_argument("--lock-clients", type=int, help="lock servers of 2 to N clients [6]")
    parser.add_argument("--only", default="", help="parts to run: speed,exhaustion,bugs")
    parser.add_argument("--scenarios", default=",".join(SPEED), help="the speed part's scenarios")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also Python's allocations (slow: 5x)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one exploration each")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    quick = args.quick
    max_states = args.max_states or (2_000 if quick else 20_000)
    if args.child:
        print(json.dumps(child(args.child, max_states, args.tracemalloc)))
        return
    repeat = args.repeat or (1 if quick else 3)
    sim_steps = args.sim_steps or (5_000 if quick else 20_000)
    trials = args.trials or (1 if quick else 3)
    budgets = {"safety": 20_000, "liveness": args.bug_states or (500 if quick else 5_000)}
    lock_clients = args.lock_clients or (4 if quick else 6)
    parts = set(args.only.split(",")) if args.only else {"speed", "exhaustion", "bugs"}
    started = time.perf_counter()

    speeds, profiles, exhausted, bugs = [], [], [], []
    if "speed" in parts:
        for name in args.scenarios.split(","):
            speeds.append(speed(name, max_states, repeat, sim_steps, args.tracemalloc))
            print(json.dumps(speeds[-1]), flush=True)
            if args.profile:
                profiles.append(profile(name, max_states // 4))
                print(json.dumps(profiles[-1]), flush=True)
    if "exhaustion" in parts:
        for row in exhaustion(lock_clients, 200_000, 12 if quick else 16, 10 if quick else 14):
            exhausted.append(row)
            print(json.dumps(row), flush=True)
    if "bugs" in parts:
        for reference, scenario in bug_scenarios(("protocols.echo", "protocols.omega")):
            bugs.append(
                counterexample(reference, scenario, trials, budgets, args.shrink_seconds or None)
            )
            print(json.dumps(bugs[-1]), flush=True)
    seconds = time.perf_counter() - started
    print(json.dumps({"figure": "explore_benchmark_seconds", "seconds": round(seconds, 1)}))
    _tables(speeds, exhausted, bugs)


def _tables(
    speeds: list[dict[str, Any]], exhausted: list[dict[str, Any]], bugs: list[dict[str, Any]]
) -> None:
    if speeds:
        print()
        print(f"{'scenario':<17}{'states/s':>9}{'unique/s':>9}{'states/uniq':>12}"
              f"{'sim steps/s':>12}{'steps/state':>12}{'steps/uniq':>11}"
              f"{'B/unique':>9}{'B/frontier':>11}")  # fmt: skip
        for r in speeds:
            print(
                f"{r['scenario']:<17}{r['states_per_s']:>9,}{r['unique_per_s']:>9,}"
                f"{r['states_per_unique']:>12}{r['sim_steps_per_s']:>12,}"
                f"{r['sim_steps_per_state']:>12}{r['sim_steps_per_unique']:>11}"
                f"{r['rss_bytes_per_unique']:>9,}{_num(r.get('rss_bytes_per_frontier_state')):>11}"
            )
        met = [r["scenario"] for r in speeds if r["unique_per_s"] >= 10_000]
        print(f"10,000 unique states/s met by: {', '.join(met) or 'none'}")
    if exhausted:
        print()
        print(f"{'configuration':<42}{'bound':<13}{'unique':>9}{'with symmetry':>15}"
              f"{'reduction':>10}{'complete':>10}")  # fmt: skip
        for r in exhausted:
            print(
                f"{r['config']:<42}{r['bound']:<13}{r['unique_no_symmetry']:>9,}"
                f"{_num(r.get('unique_symmetry')):>15}{_num(r.get('reduction')):>10}"
                f"{r['complete_no_symmetry']!s:>10}"
            )
    if bugs:
        print()
        print("Counterexamples, in events before the liveness phase (its steps in brackets):")
        print(f"{'bug':<44}{'explore (BFS)':>15}{'shrunk (run)':>16}{'committed':>12}"
              f"{'  explore searched'}")  # fmt: skip
        for r in bugs:
            print(_bug_line(r))


def _bug_line(r: dict[str, Any]) -> str:
    before = r.get("explore_before_liveness")
    if before is not None:
        found = f"{before} [{r['explore_length'] - before}]"
    else:  # none shorter than the deepest level reached
        found = f">= {r.get('explore_shortest_at_least', '?')}"
    shrunk = ",".join(map(str, r.get("shrunk_before_liveness", []))) or "-"
    committed = r.get("committed_before_liveness", "-")
    searched = f"depth {r['explore_depth']}, {r['explore_unique']:,} unique"
    return (
        f"{r['scenario']:<44}{found:>15}{shrunk:>16}{committed!s:>12}"
        f"  {searched}, {r['explore_seconds']} s"
    )


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,}"


if __name__ == "__main__":
    main()
