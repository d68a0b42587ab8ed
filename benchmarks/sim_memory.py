"""Simulator memory: what a run keeps per step, against a run of no steps.

Run from the repository root: ``python benchmarks/sim_memory.py``. Each measurement is a
fresh interpreter that runs a token ring (10 processes forwarding 10 tokens, so that the
world itself never grows) for N steps and reports its peak resident set size; the
baseline is the same interpreter running no steps (imports, the scenario, the world).
Per-step figures are ``(peak(N) - peak(0)) / N``, medians of ``--repeat`` runs.

Three ways to run: as a seed sweep does (``rabble-sim run``: the trace keeps the events
only), as a replay does (``run()``'s default: the trace keeps what each step delivered and
sent, encoded), and the command line itself, ``rabble-sim run --max-steps``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import resource, sys
sys.path.insert(0, {root!r})
sys.path.insert(0, {bench!r})
from sim_throughput import token_ring
from rabble_sim import RandomChooser, run
steps, messages = int(sys.argv[1]), sys.argv[2] == "messages"
result = run(token_ring(10), RandomChooser(1), max_steps=steps, messages=messages)
assert result.steps == steps
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""

CLI = """
import atexit, resource, sys
sys.path.insert(0, {root!r})
sys.path.insert(0, {bench!r})
import sim_throughput
atexit.register(lambda: print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))
sim_throughput.ring = sim_throughput.token_ring(10)
sys.modules["ring_bench"] = sim_throughput
from rabble_sim.cli import main
main(["run", "ring_bench:ring", "--seed", "1", "--max-steps", sys.argv[1], "--json"])
"""


def peak(code: str, *args: str) -> int:
    """The peak resident set size, in bytes, of a fresh interpreter running ``code``."""
    source = code.format(root=str(ROOT), bench=str(ROOT / "benchmarks"))
    done = subprocess.run(
        [sys.executable, "-c", source, *args], capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"the measurement failed: {done.stderr.strip()}")
    return int(done.stdout.strip().splitlines()[-1])


def figure(
    way: str, code: str, steps: list[int], repeat: int, extra: tuple[str, ...]
) -> dict[str, Any]:
    base = statistics.median(peak(code, "0", *extra) for _ in range(repeat))
    rows: dict[int, dict[str, float]] = {}
    for n in steps:
        top = statistics.median(peak(code, str(n), *extra) for _ in range(repeat))
        rows[n] = {"peak_mb": round(top / 2**20, 1), "bytes_per_step": round((top - base) / n, 1)}
    return {
        "figure": "sim_memory",
        "way": way,
        "baseline_mb": round(base / 2**20, 1),
        "runs": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", default="100000,300000,1000000")
    args = parser.parse_args()
    steps = [int(n) for n in args.steps.split(",")]
    figures = [
        figure("sweep (events only)", CHILD, steps, args.repeat, ("events",)),
        figure("replay (messages kept)", CHILD, steps, args.repeat, ("messages",)),
        figure("rabble-sim run --max-steps", CLI, steps, args.repeat, ()),
    ]
    for row in figures:
        print(json.dumps(row))
    print()
    print(f"{'way':<30}{'steps':>11}{'peak MB':>10}{'bytes/step':>12}   (baseline MB)")
    for row in figures:
        for n, r in row["runs"].items():
            print(
                f"{row['way']:<30}{n:>11,}{r['peak_mb']:>10}{r['bytes_per_step']:>12}"
                f"   ({row['baseline_mb']})"
            )


if __name__ == "__main__":
    main()
