"""Seed sweeps on a real Dask cluster (a ``LocalCluster`` of worker processes): the same
verdict, counts, digest and saved schedule as one worker."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from protocols.lease import bug_lease_assumes_clocks_agree
from protocols.votes import scenario as votes
from rabble_sim.search import sweep
from rabble_sim.search._mutants import judge, mutants_of

from .cli_json import run_json

distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as local:
        yield local.scheduler_address


def summary(scenario: object, reference: str, seeds: range, dask: str | None) -> tuple[object, ...]:
    report = sweep(scenario, seeds, digests=True, dask=dask, reference=reference)  # type: ignore[arg-type]
    failure = report.failure
    return (
        report.seeds, report.steps, list(report.events.items()), list(report.faults.items()),
        report.trace_digest, None if failure is None else (failure.seed, failure.trace.digest()),
    )  # fmt: skip


def test_a_cluster_finds_the_lowest_failing_seed_with_a_single_workers_counts(
    cluster: str,
) -> None:
    reference = "protocols.lease:bug_lease_assumes_clocks_agree"
    seeds = range(3, 300)
    one = summary(bug_lease_assumes_clocks_agree, reference, seeds, None)
    assert one[-1] is not None
    assert summary(bug_lease_assumes_clocks_agree, reference, seeds, cluster) == one


def test_a_sweep_that_passes_on_a_cluster_has_a_single_workers_digest(cluster: str) -> None:
    seeds = range(0, 300)
    assert summary(votes, "protocols.votes:scenario", seeds, cluster) == summary(
        votes, "protocols.votes:scenario", seeds, None
    )


def test_run_dask_prints_and_saves_what_one_worker_does(cluster: str, tmp_path: Path) -> None:
    bug = "protocols.votes:bug_trusts_an_unreadable_vote"
    on_dask = run_json(bug, 200, tmp_path / "dask", "--dask", cluster)
    assert on_dask == run_json(bug, 200, tmp_path / "one", "--workers", "1")


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", "run", "protocols.votes:scenario",
         "--dask", "tcp://127.0.0.1:9", "--seeds", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr


def test_mutants_on_a_cluster_judge_as_they_do_here(cluster: str) -> None:
    processes = ROOT / "protocols" / "omega" / "processes.py"
    chosen = [
        m for m in mutants_of(processes)
        if m.description in ("deleted: self.candidates = set()", "flip == -> !=")
    ]  # fmt: skip
    assert len(chosen) == 2
    reference = "protocols.omega:scenario_crash_stop"
    _, here = judge(reference, chosen, seeds=40, jobs=2)
    _, there = judge(reference, chosen, seeds=40, jobs=1, dask=cluster)
    assert [(v.mutant.id, v.outcome) for v in there] == [(v.mutant.id, v.outcome) for v in here]
    assert {v.outcome for v in here} == {"killed"}
