"""Seed sweeps on every core: worker processes forked from this one, each running batches of
seeds and answering one JSON line per seed over a pipe.

The verdict never depends on the number of workers. Batches are handed out in seed order,
none starting past the lowest failing seed found so far, and the sweep ends once every seed
below that one has run: the failure reported is the lowest failing seed's, run again here
exactly as a one-worker sweep runs it, and the counts are summed over the same seeds, so
the report (its digest too) is the one a single worker would give. A worker that dies
mid-batch is named, and its unfinished seeds run again in another; a seed that kills two
workers is an error that names it, never a seed silently skipped. Forking shares the
loaded scenario with the workers, so nothing but seeds and counts crosses a pipe (JSON,
never pickle); where the OS cannot fork, the sweep runs in this process.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
from collections import deque
from collections.abc import Callable
from typing import IO

import attrs

from ..core import RabbleError
from ..sim import RunResult
from ._seeds import SeedLedger, SeedOutcome, batches

SeedRun = Callable[[int], "tuple[RunResult, list[str]]"]
"""Runs one seed: its result (events only) and the kinds of fault its mix had on."""

CAN_FORK = hasattr(os, "fork")


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover  (not Linux)
        return max(1, os.cpu_count() or 1)


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep in workers: which seeds were done."""

    def __init__(self, ledger: SeedLedger) -> None:
        super().__init__(ledger.seeds)
        self.first = ledger.seeds.start
        self.done_below = ledger.done_below
        """Every seed from the first up to this one (not included) was done."""
        self.beyond = sum(1 for seed in ledger.outcomes if seed > self.done_below)

    def __str__(self) -> str:
        if self.done_below > self.first:
            done = f"seeds {self.first} to {self.done_below - 1} were done"
        else:
            done = "no seed was done"
        beyond = f", and {self.beyond} past them" if self.beyond else ""
        return f"interrupted: every worker stopped; {done}{beyond}"


class WorkerDied(RabbleError):
    """A seed killed the worker running it twice (protocol code that calls ``os._exit``,
    or a run that ran out of memory): named, never skipped."""


@attrs.define
class _Worker:
    pid: int
    tasks: IO[str]
    results: int
    """The read end of its results pipe (read raw: a buffered reader would hide lines
    from the selector)."""
    batch: deque[int] = attrs.Factory(deque)
    """The seeds it was given and has not reported yet, in order."""
    pending: bytes = b""
    """What it sent after its last full line."""

    def lines(self) -> list[str] | None:
        """The lines it sent since last asked (None: it died: its pipe closed)."""
        data = os.read(self.results, 1 << 16)
        if not data:
            return None
        *lines, self.pending = (self.pending + data).split(b"\n")
        return [line.decode() for line in lines]


def run_in_workers(
    seeds: range,
    workers: int,
    run_seed: SeedRun,
    *,
    digests: bool,
    on_seed: Callable[[int], None] | None = None,
) -> tuple[list[SeedOutcome], list[str]]:
    """Run ``seeds`` with ``run_seed`` in ``workers`` forked processes until the lowest
    failing seed is known; return the outcome of every seed up to it (all, if none failed)
    in seed order, and a line for each worker that died on the way."""
    ledger = SeedLedger(seeds)
    todo = deque(batches(seeds, workers, most=32))
    deaths: dict[int, int] = {}
    notes: list[str] = []
    pool: dict[int, _Worker] = {}
    selector = selectors.DefaultSelector()
    try:
        for _ in range(min(workers, len(todo))):
            worker = _fork(run_seed, digests)
            pool[worker.pid] = worker
            selector.register(worker.results, selectors.EVENT_READ, worker)
        for worker in pool.values():
            _give(worker, todo, ledger)
        # Until every seed below the lowest failing one has run (a worker still busy with
        # seeds past it is not waited for).
        while not ledger.complete():
            for key, _ in selector.select():
                worker = key.data
                lines = worker.lines()
                if lines is None:  # it died: its unfinished seeds go to another worker
                    selector.unregister(worker.results)
                    del pool[worker.pid]
                    _stop(worker)
                    notes.append(_death(worker, deaths))
                    if worker.batch:
                        todo.appendleft(list(worker.batch))
                    replacement = _fork(run_seed, digests)
                    pool[replacement.pid] = replacement
                    selector.register(replacement.results, selectors.EVENT_READ, replacement)
                    _give(replacement, todo, ledger)
                    continue
                for line in lines:
                    outcome = SeedOutcome(**json.loads(line))
                    worker.batch.popleft()
                    if ledger.add(outcome) and on_seed is not None:
                        on_seed(outcome.seed)
                if not worker.batch:
                    _give(worker, todo, ledger)
    except KeyboardInterrupt:
        raise SweepInterrupted(ledger) from None
    finally:
        selector.close()
        for worker in pool.values():
            _stop(worker)
    return ledger.counted(), notes


def _give(worker: _Worker, todo: deque[list[int]], ledger: SeedLedger) -> None:
    """The next batch of seeds still worth running, if any, to ``worker``."""
    while todo:
        batch = ledger.wanted(todo.popleft())
        if batch:
            worker.batch.extend(batch)
            worker.tasks.write(json.dumps(batch) + "\n")
            worker.tasks.flush()
            return


def _death(worker: _Worker, deaths: dict[int, int]) -> str:
    """The line that names a dead worker; ``WorkerDied`` if its seed killed one before."""
    if not worker.batch:
        return f"worker {worker.pid} died between batches"
    seed = worker.batch[0]
    deaths[seed] = deaths.get(seed, 0) + 1
    if deaths[seed] > 1:
        raise WorkerDied(
            f"seed {seed} killed the worker running it twice (protocol code that exits the "
            f"process, or runs out of memory?): run it alone with --seed {seed} --workers 1"
        )
    return f"worker {worker.pid} died running seed {seed}: seeds {_span(worker.batch)} ran again"


def _span(seeds: deque[int]) -> str:
    return f"{seeds[0]}..{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])


def _fork(run_seed: SeedRun, digests: bool) -> _Worker:
    tasks_read, tasks_write = os.pipe()
    results_read, results_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        code = 0
        try:
            os.close(tasks_write)
            os.close(results_read)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
            _serve(os.fdopen(tasks_read), os.fdopen(results_write, "w"), run_seed, digests)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(tasks_read)
    os.close(results_write)
    return _Worker(pid, os.fdopen(tasks_write, "w"), results_read)


def _serve(tasks: IO[str], results: IO[str], run_seed: SeedRun, digests: bool) -> None:
    """A worker's loop: a batch of seeds a line, one JSON line back per seed run."""
    for line in tasks:
        for seed in json.loads(line):
            try:
                result, faults = run_seed(seed)
            except Exception:  # raised in the parent too, when it runs the seed again
                outcome = SeedOutcome.raised(seed)
            else:
                outcome = SeedOutcome.of(seed, result, faults, digests)
            results.write(json.dumps(outcome.plain()) + "\n")
            results.flush()


def _reap(worker: _Worker) -> None:
    with contextlib.suppress(OSError):
        worker.tasks.close()
    with contextlib.suppress(ChildProcessError):
        os.waitpid(worker.pid, 0)


def _stop(worker: _Worker) -> None:
    """End a worker: at once (it may be mid-run, past the lowest failing seed)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(worker.pid, signal.SIGKILL)
    _reap(worker)
    with contextlib.suppress(OSError):
        os.close(worker.results)
