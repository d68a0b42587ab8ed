"""Seed sweeps on several cores: seeds per second with N workers, and on a Dask
``LocalCluster`` of N worker processes, against one worker, in one run.

Run from the repository root: ``python benchmarks/sweep_workers.py [--repeat 5]
[--seeds 600] [--workers 2] [--no-dask]``. Each measurement is a whole sweep of a correct
scenario (so that every seed runs), timed from the call to the report, the workers' forks
(or the cluster's round trips) included; the cluster is started once, before timing. The
baseline is the same sweep with one worker, measured in the same run, alternating with the
others so that the machine's noise falls on all. Prints one JSON object per scenario
(medians of ``--repeat``, and the ratios of the medians), then a table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rabble_sim.schedule import load_scenario  # noqa: E402
from rabble_sim.search import default_workers, sweep  # noqa: E402

SCENARIOS = ("protocols.omega:scenario", "protocols.votes:scenario", "protocols.vr:scenario")


def seeds_per_second(reference: str, seeds: int, workers: int, dask: str | None = None) -> float:
    scenario = load_scenario(reference)
    started = time.perf_counter()
    report = sweep(scenario, range(seeds), workers=workers, dask=dask, reference=reference)
    seconds = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"{reference} failed seed {report.failure and report.failure.seed}")
    return report.seeds / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=600)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--no-dask", action="store_true", help="skip the LocalCluster")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        dask = None if args.no_dask else stack.enter_context(_local_cluster(args.workers))
        rows = [_measure(reference, args, dask) for reference in SCENARIOS]
    print(f"\n{'scenario':28} {'1 worker':>9} {f'{args.workers} forked':>9} {'x':>5} "
          f"{'cluster':>9} {'x':>5}")  # fmt: skip
    for row in rows:
        print(
            f"{row['scenario']:28} {row['one_worker_seeds_per_s']:>9} "
            f"{row['workers_seeds_per_s']:>9} {row['speedup']:>5} "
            f"{row.get('cluster_seeds_per_s', '-'):>9} {row.get('cluster_speedup', '-'):>5}"
        )


def _measure(reference: str, args: argparse.Namespace, dask: str | None) -> dict[str, object]:
    one: list[float] = []
    many: list[float] = []
    cluster: list[float] = []
    for _ in range(args.repeat):
        one.append(seeds_per_second(reference, args.seeds, 1))
        many.append(seeds_per_second(reference, args.seeds, args.workers))
        if dask is not None:
            cluster.append(seeds_per_second(reference, args.seeds, 1, dask))
    base = statistics.median(one)
    row: dict[str, object] = {
        "figure": "sweep_workers",
        "scenario": reference,
        "seeds": args.seeds,
        "workers": args.workers,
        "one_worker_seeds_per_s": round(base, 1),
        "workers_seeds_per_s": round(statistics.median(many), 1),
        "speedup": round(statistics.median(many) / base, 2),
    }
    if cluster:
        row["cluster_seeds_per_s"] = round(statistics.median(cluster), 1)
        row["cluster_speedup"] = round(statistics.median(cluster) / base, 2)
    print(json.dumps(row), flush=True)
    return row


@contextlib.contextmanager
def _local_cluster(workers: int) -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


if __name__ == "__main__":
    main()
