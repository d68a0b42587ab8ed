"""Seed sweeps on a Dask cluster (``dask.distributed``): batches of seeds as tasks.

The scenario travels by name: its module's source (the file, or its top-level package as
a zip) is uploaded to every worker (``Client.upload_file``), and each task is
``run_batch(reference, seeds, options)`` with plain data in and out: the worker imports
the scenario, runs the seeds in order until one fails, and returns each seed's
``SeedOutcome`` as a dict. Batches go out in seed order; those that start past the lowest
failing seed found so far are cancelled; the sweep ends once every seed below that one
has run. The caller then runs the lowest failing seed again itself, exactly as a one-worker
sweep would: the report is the same whatever the cluster. A task whose worker died is
retried by Dask on another (``retries``); one that fails for good ends the sweep with an
error that names its seeds.
"""

from __future__ import annotations

import functools
import importlib.util
import socket
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from ..core import RabbleError, UsageError
from ..schedule import load_scenario
from ..sim import Scenario
from ._seeds import RunOptions, SeedLedger, SeedOutcome, batches, run_seed

RETRIES = 2
"""How many times Dask runs a batch again when the worker running it dies."""


def run_on_dask(
    address: str,
    reference: str,
    seeds: range,
    options: RunOptions,
    *,
    on_seed: Callable[[int], None] | None = None,
) -> list[SeedOutcome]:
    """Run ``seeds`` of ``reference`` (``MODULE:SCENARIO``) on the Dask scheduler at
    ``address`` until the lowest failing seed is known; the outcomes of every seed up to
    it (all, if none failed), in seed order."""
    with connect(address) as client:  # first: it says what to do if the extra is missing
        from distributed import as_completed  # noqa: PLC0415  (an optional extra)

        _ship(client, reference)
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        ledger = SeedLedger(seeds)
        plain = attrs.asdict(options)
        futures = {
            client.submit(run_batch, reference, batch, plain, retries=RETRIES, pure=False): batch
            # Fewer, larger tasks than forked workers take: a task costs a round trip.
            for batch in batches(seeds, workers, most=256, each=4)
        }
        try:
            for future in as_completed(list(futures)):
                batch = futures[future]
                if future.cancelled():
                    continue
                if future.status == "error":
                    raise RabbleError(
                        f"the Dask task of seeds {batch[0]}..{batch[-1]} failed: "
                        f"{future.exception()!r}"
                    )
                for plain_outcome in future.result():
                    outcome = SeedOutcome(**plain_outcome)
                    if ledger.add(outcome) and on_seed is not None:
                        on_seed(outcome.seed)
                late = [f for f, b in futures.items() if b[0] > ledger.lowest and not f.done()]
                if late:
                    client.cancel(late)
                if ledger.complete():
                    break
        finally:
            client.cancel([f for f in futures if not f.done()])
    return ledger.counted()


def connect(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``; a ``UsageError`` that says
    what to do if the extra is not installed or nothing answers there."""
    try:
        from distributed import Client  # noqa: PLC0415  (an optional extra)
    except ImportError:
        raise UsageError(
            "--dask needs dask.distributed: pip install 'rabble-sim[cluster]'"
        ) from None
    _reachable(address)
    try:
        return Client(address, timeout=30)
    except OSError as e:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {e}") from None


def _reachable(address: str) -> None:
    """A ``UsageError`` at once if nothing listens at a TCP ``address`` (``Client`` would
    retry for its whole timeout before saying so)."""
    scheme, _, rest = address.rpartition("://")
    if scheme not in ("", "tcp"):
        return  # tls://, inproc://...: Client knows best
    host, _, port = rest.rpartition(":")
    if not port.isdigit():
        raise UsageError(f"a Dask scheduler's address is tcp://HOST:PORT, not {address!r}")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except OSError as e:
        raise UsageError(
            f"cannot reach the Dask scheduler at {address}: {e.strerror or e}"
        ) from None


def run_batch(reference: str, seeds: list[int], options: dict[str, Any]) -> list[dict[str, Any]]:
    """A Dask task: run ``seeds`` of ``reference`` in order, until one fails; each seed's
    outcome as plain data."""
    scenario = _scenario(reference)
    run_options = RunOptions(**options)
    outcomes = []
    for seed in seeds:
        try:
            result, faults = run_seed(scenario, seed, run_options)
        except Exception:  # raised where the sweep runs too, when it runs the seed again
            outcomes.append(SeedOutcome.raised(seed).plain())
            break
        outcomes.append(SeedOutcome.of(seed, result, faults, run_options.digests).plain())
        if result.violation is not None:
            break
    return outcomes


@functools.lru_cache(maxsize=8)
def _scenario(reference: str) -> Scenario:
    """The scenario ``reference`` names, imported once per worker process."""
    return load_scenario(reference)


def _ship(client: Any, reference: str) -> None:
    """Upload the source of ``reference``'s module to every worker: the module's file, or
    its top-level package zipped. A module the workers import from elsewhere (an
    installed package) is left alone."""
    top = reference.partition(":")[0].split(".")[0]
    spec = importlib.util.find_spec(top)
    if spec is None or spec.origin is None:
        raise UsageError(f"cannot find the module {top!r} to send to the Dask workers")
    origin = Path(spec.origin)
    if "site-packages" in origin.parts:
        return  # installed: the workers have it too, or not at all
    if spec.submodule_search_locations is None:  # a single module
        client.upload_file(str(origin))
        return
    package = origin.parent
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / f"{top}.zip"
        with zipfile.ZipFile(archive, "w") as zipped:
            for path in sorted(package.rglob("*.py")):
                zipped.write(path, path.relative_to(package.parent))
        client.upload_file(str(archive))
