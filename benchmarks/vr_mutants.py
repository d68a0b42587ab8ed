"""Mutation benchmark: which small bugs planted in VR's replica code a seed sweep finds, with
the fixed workloads and with generated ones.

Run from the repository root: ``python benchmarks/vr_mutants.py [--seeds 100]
[--workers 2] [--only S1,N2] [--unit-tests]``. Each mutant is one edit (a flipped
comparison, an off-by-one, a deleted statement) of one of ``protocols/vr``'s replica
modules, kept here as (file, the exact original snippet, its replacement): the real
sources are never touched. For each mutant the ``protocols/`` tree is copied into a
temporary folder, the snippet (which must occur exactly once) is replaced, and a fresh
interpreter with that folder first on ``sys.path`` sweeps ``--seeds`` seeds of
``protocols.vr:scenario`` (fixed workloads) and of ``protocols.vr:scenario_generated``
(generated calls, the same faults), each until its first violation. The unmutated copy
runs first, as a control: it must survive both. With ``--unit-tests``, the hand-written
replica tests (``tests/protocols/test_vr_replica.py``) also run against each mutant.

Prints one JSON object per mutant, a summary JSON line, then a table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parent.parent
VR = ROOT / "protocols" / "vr"
SCENARIOS = {"fixed": "scenario", "generated": "scenario_generated"}
UNIT_TESTS = ROOT / "tests" / "protocols" / "test_vr_replica.py"
UNIT_TIMEOUT = 120.0
"""Seconds the unit tests may take against a mutant (they take under one)."""
MEMORY = 2 * 1024**3
"""Bytes of address space a mutant's interpreter may take."""
STEP_TIMEOUT = 2.0
"""Seconds a step may take in a mutant (a VR step takes microseconds; some mutants loop)."""


@attrs.frozen
class Mutant:
    id: str
    file: str
    description: str
    original: str
    replacement: str


def _m(id: str, file: str, description: str, original: str, replacement: str) -> Mutant:
    return Mutant(id, file, description, original, replacement)


MUTANTS: tuple[Mutant, ...] = (
    # -- state.py -------------------------------------------------------------------------
    _m("S1", "state.py", "a quorum is f, one short", "return self.f + 1", "return self.f"),
    _m("S2", "state.py", "commit number lags the op executed by one",
       "self.commit = i + 1", "self.commit = i"),
    _m("S3", "state.py", "an executed op is not recorded in the client table",
       "            self.table[str(entry.client)] = Cached(entry.request, result)\n", ""),
    _m("S4", "state.py", "the first uncommitted op is not 'in progress'",
       "for e in self.log[self.commit :])", "for e in self.log[self.commit + 1 :])"),
    _m("S5", "state.py", "becoming normal does not record the view as last normal",
       "        self.last_normal = view\n", ""),
    _m("S6", "state.py", "entering a view keeps the old view's acknowledgements",
       "        self.acked = {}\n", ""),
    # -- normal.py ------------------------------------------------------------------------
    _m("N1", "normal.py", "a primary takes requests while not normal",
       "if r.status != NORMAL or not r.is_primary:\n        return\n    if not r.bugs",
       "if not r.is_primary:\n        return\n    if not r.bugs"),
    _m("N2", "normal.py", "a retry of the last executed request is executed again",
       "msg.request <= cached.request", "msg.request < cached.request"),
    _m("N3", "normal.py", "the cached reply goes to old retries instead of the last",
       "if msg.request == cached.request:", "if msg.request != cached.request:"),
    _m("N4", "normal.py", "the primary appends a request without counting it",
       "    r.log.append(entry)\n    r.op += 1\n", "    r.log.append(entry)\n"),
    _m("N5", "normal.py", "a backup does not re-acknowledge its last op",
       "if msg.op <= r.op:", "if msg.op < r.op:"),
    _m("N6", "normal.py", "a backup acknowledges one op more than it appended",
       "        r.op += 1\n        r.send(output, sender, PrepareOk(r.view, r.op))",
       "        r.op += 1\n        r.send(output, sender, PrepareOk(r.view, r.op + 1))"),
    _m("N7", "normal.py", "the primary never records an acknowledgement",
       "if msg.op > r.acked.get(key, 0):", "if msg.op < r.acked.get(key, 0):"),
    _m("N8", "normal.py", "acknowledgements of another view count",
       "if r.status != NORMAL or not r.is_primary or msg.view != r.view:",
       "if r.status != NORMAL or not r.is_primary:"),
    _m("N9", "normal.py", "the primary waits for one acknowledgement more than f",
       "if acks < needed:", "if acks <= needed:"),
    _m("N10", "normal.py", "an ack counts only for ops before the one it names",
       "r.acked.get(str(pid), 0) >= n)", "r.acked.get(str(pid), 0) > n)"),
    _m("N11", "normal.py", "a heartbeat's Prepare says everything prepared is committed",
       "Prepare(r.view, r.log[acked], acked + 1, r.commit)",
       "Prepare(r.view, r.log[acked], acked + 1, r.op)"),
    _m("N12", "normal.py", "a new op's Prepare says it is committed",
       "Prepare(r.view, entry, r.op, r.commit)", "Prepare(r.view, entry, r.op, r.op)"),
    _m("N13", "normal.py", "a backup not normal in the view takes its primary's messages",
       "if view > r.view or r.status != NORMAL:", "if view > r.view:"),
    _m("N14", "normal.py", "hearing from the primary does not reset the backup's timer",
       "        return False\n    r.silent = 0\n", "        return False\n"),
    # -- viewchange.py --------------------------------------------------------------------
    _m("V1", "viewchange.py", "view changes in a row do not wait longer",
       "r.changes = r.changes + 1 if r.status == VIEW_CHANGE else 1", "r.changes = 1"),
    _m("V2", "viewchange.py", "a StartViewChange of the current view starts it again",
       "    if msg.view > r.view:\n        start_view_change(r, msg.view, output)\n"
       "    if msg.view != r.view or r.status != VIEW_CHANGE:",
       "    if msg.view >= r.view:\n        start_view_change(r, msg.view, output)\n"
       "    if msg.view != r.view or r.status != VIEW_CHANGE:"),
    _m("V3", "viewchange.py", "the new primary forgets the DoViewChanges it receives",
       "    r.dvcs[str(sender)] = msg\n", ""),
    _m("V4", "viewchange.py", "a replica sends DoViewChange before any vote",
       "len(r.votes) < r.f:", "len(r.votes) < r.f - 1:"),
    _m("V5", "viewchange.py", "the new primary starts the view with f DoViewChanges",
       "len(r.dvcs) < r.quorum:", "len(r.dvcs) < r.f:"),
    _m("V6", "viewchange.py", "the longest log wins over the latest view's",
       "key=lambda d: (d.last_normal, d.op))", "key=lambda d: (d.op, d.last_normal))"),
    _m("V7", "viewchange.py", "the new view starts from the lowest commit number",
       "commit = max(d.commit for d in dvcs)", "commit = min(d.commit for d in dvcs)"),
    _m("V8", "viewchange.py", "a normal replica adopts a StartView of its own view again",
       "if msg.view < r.view or (msg.view == r.view and r.status == NORMAL):",
       "if msg.view < r.view:"),
    _m("V9", "viewchange.py", "a DoViewChange claims the current view as last normal",
       "DoViewChange(r.view, tuple(r.log), r.last_normal, r.op, r.commit)",
       "DoViewChange(r.view, tuple(r.log), r.view, r.op, r.commit)"),
    # -- recovery.py ----------------------------------------------------------------------
    _m("R1", "recovery.py", "a replica answers a recovery while not normal",
       "    if r.status != NORMAL:\n        return\n    if r.is_primary:", "    if r.is_primary:"),
    _m("R2", "recovery.py", "a recovery completes with f answers",
       "if len(r.responses) < r.quorum:", "if len(r.responses) < r.f:"),
    _m("R3", "recovery.py", "a recovery adopts the earliest view among the answers",
       "latest = max(answer.view for", "latest = min(answer.view for"),
    _m("R4", "recovery.py", "a recovered replica keeps its commit number over an empty store",
       "    r.commit = 0\n", ""),
    _m("R5", "recovery.py", "answers to an earlier recovery count",
       "if msg.nonce != r.restarts and", "if msg.nonce > r.restarts and"),
    _m("R6", "recovery.py", "the restart count (the nonce) is not persisted",
       "    output.append(persist(r.pid, r.restarts))\n", ""),
    _m("R7", "recovery.py", "a replica catching up claims the view before it has its log",
       "r.enter(view, TRANSFERRING, r.log[: r.commit])",
       "r.become_normal(view, r.log[: r.commit])"),
    _m("R8", "recovery.py", "a replica catching up keeps its uncommitted ops",
       "r.enter(view, TRANSFERRING, r.log[: r.commit])", "r.enter(view, TRANSFERRING, r.log)"),
    _m("R9", "recovery.py", "a state transfer skips the first op asked for",
       "entries = tuple(r.log[msg.op :])", "entries = tuple(r.log[msg.op + 1 :])"),
    _m("R10", "recovery.py", "a state transfer appends ops the replica already has",
       "log = r.log + list(msg.entries[r.op - msg.start :])", "log = r.log + list(msg.entries)"),
    # -- replica.py -----------------------------------------------------------------------
    _m("P1", "replica.py", "a recovering replica takes part in everything",
       "        if self.status == RECOVERING and not isinstance(msg, RecoveryResponse):\n"
       "            return  # a recovering replica knows nothing yet, so it answers nothing\n",
       ""),
    _m("P2", "replica.py", "a backup never counts silent ticks",
       "            self.silent += 1\n            if self.silent >= self.patience:",
       "            if self.silent >= self.patience:"),
    _m("P3", "replica.py", "a suspicious backup starts a view change of its own view",
       "viewchange.start_view_change(self, self.view + 1, output)",
       "viewchange.start_view_change(self, self.view, output)"),
    _m("P4", "replica.py", "the periodic timer is not started again after a tick",
       "            viewchange.start_view_change(self, self.view + 1, output)\n"
       "        output.append(start_timer(self.pid, self.tick_ms, self.timer))\n",
       "            viewchange.start_view_change(self, self.view + 1, output)\n"),
    _m("P5", "replica.py", "a restarted replica rejoins at once; with the bug flag, recovers",
       "status = NORMAL if bugs.no_recovery else RECOVERING",
       "status = RECOVERING if bugs.no_recovery else NORMAL"),
)  # fmt: skip

CONTROL = Mutant("none", "", "the unmutated protocol (control)", "", "")


def patched(mutant: Mutant) -> str:
    """The mutant's file with its one edit made; raises unless the snippet occurs once."""
    source = (VR / mutant.file).read_text()
    count = source.count(mutant.original)
    if count != 1:
        raise SystemExit(f"mutant {mutant.id}: its snippet occurs {count} times in {mutant.file}")
    result = source.replace(mutant.original, mutant.replacement)
    if result == source:
        raise SystemExit(f"mutant {mutant.id}: its replacement changes nothing")
    return result


def measure(mutant: Mutant, seeds: int, unit_tests: bool = False) -> dict[str, Any]:
    """Sweep both scenarios against a copy of ``protocols/`` with the mutant applied (and
    run the replica's unit tests against it, with ``unit_tests``)."""
    with tempfile.TemporaryDirectory(prefix=f"vr-mutant-{mutant.id}-") as folder:
        copy = Path(folder)
        shutil.copytree(
            ROOT / "protocols", copy / "protocols", ignore=shutil.ignore_patterns("__pycache__")
        )
        if mutant.file:
            (copy / "protocols" / "vr" / mutant.file).write_text(patched(mutant))
        done = subprocess.run(
            [sys.executable, __file__, "--child", folder, "--seeds", str(seeds)],
            capture_output=True, text=True, check=False, cwd=folder,
        )  # fmt: skip
        failed_units = _unit_tests_fail(mutant, copy) if unit_tests else None
    if done.returncode != 0:
        raise SystemExit(f"mutant {mutant.id}: the sweep failed to run:\n{done.stderr}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    row: dict[str, Any] = {"mutant": mutant.id, "file": mutant.file}
    row["description"] = mutant.description
    for kind in SCENARIOS:
        row[f"found_{kind}"] = found[kind]["found"]
    for kind in SCENARIOS:
        row[f"seeds_to_failure_{kind}"] = found[kind]["seeds"] if found[kind]["found"] else None
        row[f"check_{kind}"] = found[kind]["check"]
    if unit_tests:
        row["found_unit_tests"] = failed_units
    return row


def _unit_tests_fail(mutant: Mutant, copy: Path) -> bool:
    """Whether the replica's unit tests fail against the mutated copy in ``copy``: a test
    that fails, runs out of memory, or does not end within ``UNIT_TIMEOUT``."""
    shutil.copy(UNIT_TESTS, copy / UNIT_TESTS.name)
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child-tests", str(copy)],
            capture_output=True, text=True, check=False, cwd=copy, timeout=UNIT_TIMEOUT,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return True  # a mutant that makes a test loop for ever fails it
    if done.returncode not in (0, 1):  # 1: tests failed; anything else: they did not run
        raise SystemExit(f"mutant {mutant.id}: the unit tests did not run:\n{done.stdout}")
    return done.returncode == 1


def _limit_memory() -> None:
    """Some mutants loop appending to a process's output: a MemoryError, not a swapped box."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def child_tests(folder: str) -> int:
    """In the fresh interpreter: the replica's unit tests against the mutated copy."""
    _limit_memory()
    sys.path.insert(0, folder)
    import pytest

    args = ["-q", "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", folder]
    return int(pytest.main([*args, str(Path(folder) / UNIT_TESTS.name)]))


def child(folder: str, seeds: int) -> None:
    """In the fresh interpreter: sweep both scenarios of the mutated copy."""
    _limit_memory()
    sys.path.insert(0, folder)
    import protocols.vr  # only now: the mutated copy is first on sys.path
    from rabble_sim.search import sweep

    where = Path(protocols.vr.__file__).resolve()
    assert where.is_relative_to(Path(folder).resolve()), f"imported the real VR: {where}"
    found = {}
    for kind, name in SCENARIOS.items():
        report = sweep(getattr(protocols.vr, name), range(seeds), step_timeout=STEP_TIMEOUT)
        violation = report.failure.violation if report.failure is not None else None
        found[kind] = {
            "found": violation is not None,
            "seeds": report.seeds,
            "check": violation.check if violation is not None else None,
        }
    print(json.dumps(found))


def summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    fixed = {r["mutant"] for r in rows if r["found_fixed"]}
    generated = {r["mutant"] for r in rows if r["found_generated"]}
    result = {
        "summary": "vr_mutants",
        "mutants": len(rows),
        "killed_fixed": len(fixed),
        "killed_generated": len(generated),
        "killed_both": len(fixed & generated),
        "killed_only_fixed": sorted(fixed - generated),
        "killed_only_generated": sorted(generated - fixed),
        "survivors": [r["mutant"] for r in rows if r["mutant"] not in fixed | generated],
    }
    if rows and "found_unit_tests" in rows[0]:
        units = {r["mutant"] for r in rows if r["found_unit_tests"]}
        result["killed_unit_tests"] = len(units)
        result["survivors_of_sweeps_and_unit_tests"] = [
            r["mutant"] for r in rows if r["mutant"] not in fixed | generated | units
        ]
    return result


def table(rows: Sequence[dict[str, Any]]) -> str:
    def cell(row: dict[str, Any], kind: str) -> str:
        if not row[f"found_{kind}"]:
            return "-"
        return f"{row[f'seeds_to_failure_{kind}']} ({row[f'check_{kind}']})"

    units = bool(rows) and "found_unit_tests" in rows[0]
    head = "| mutant | what it breaks | fixed: seeds (check) | generated: seeds (check) |"
    lines = [head + (" unit tests |" if units else ""), "| --- " * (5 if units else 4) + "|"]
    for row in rows:
        where = f"{row['mutant']} `{row['file']}`" if row["file"] else row["mutant"]
        line = (
            f"| {where} | {row['description']} | {cell(row, 'fixed')} | {cell(row, 'generated')} |"
        )
        if units:
            line += " failed |" if row["found_unit_tests"] else " - |"
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated mutant ids")
    parser.add_argument("--unit-tests", action="store_true", help="run the replica's tests too")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-tests", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.seeds)
        return
    if args.child_tests:
        sys.exit(child_tests(args.child_tests))
    chosen = [m for m in MUTANTS if not args.only or m.id in args.only.split(",")]
    ids = [m.id for m in MUTANTS]
    if len(set(ids)) != len(ids):
        raise SystemExit("two mutants share an id")
    for mutant in chosen:
        patched(mutant)  # every snippet occurs exactly once, before anything runs

    control = measure(CONTROL, args.seeds, args.unit_tests)
    print(json.dumps(control), flush=True)
    if any(value is True for key, value in control.items() if key.startswith("found_")):
        raise SystemExit("the unmutated protocol fails: no mutant can be judged")
    with ThreadPoolExecutor(max_workers=args.workers) as pool:  # each job is a subprocess
        rows = []
        for row in pool.map(lambda m: measure(m, args.seeds, args.unit_tests), chosen):
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(json.dumps(summary(rows)))
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
