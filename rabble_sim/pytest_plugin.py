"""The pytest plugin: schedule files as tests, and fixtures for scenario tests.

Every rabble-sim schedule file (a ``*.json`` whose ``format`` is a rabble-sim schedule's)
under one of the folders named by the ``rabble_dirs`` ini option (``regressions`` and
``schedules`` by default) is collected as one test that replays it; other JSON files there
are left alone. A regression passes once its violation no longer occurs (the bug is
fixed); a schedule with ``"expect": "violation"`` (a known-bug demonstration) passes only
while its violation reproduces; any other schedule passes while it replays without a
violation. A replay that no longer fits its schedule fails either way.

    def test_lock_server(rabble_sweep):
        rabble_sweep(scenario)          # fails the test with the violation and its schedule

    def test_the_known_bug(rabble_sweep):
        rabble_sweep(bug_scenario, expect="violation")   # passes while the bug is found

A developer's sweeps start from a new seed each session (printed in the header; repeat one
with ``--rabble-seed``); on CI (as Hypothesis tells it: its ``ci`` profile is current) they
start from 0, so that CI runs the same seeds every time.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from hypothesis import settings

from .core import RabbleError, UsageError, read_input_text
from .schedule import (
    DIVERGENCES_SHOWN,
    FORMAT,
    check_against,
    load,
    load_scenario,
    replay,
)
from .search import (
    STRATEGIES,
    ExploreReport,
    SweepReport,
    _profiles,  # noqa: F401  (registers the rabble-* profiles as the plugin loads)
    check_determinism,
    default_workers,
    explore,
    sweep,
)
from .search._saving import reference_of, save_failure
from .sim import RunResult, Scenario, Trace, summarize

if TYPE_CHECKING:
    from .search import CheckReport

Sweep = Callable[..., SweepReport]
"""The type of the ``rabble_sweep`` fixture: ``rabble_sweep(scenario, seeds=None,
reference=None, expect=None) -> SweepReport``."""
Check = Callable[..., "CheckReport"]
"""The type of the ``rabble_check`` fixture: ``rabble_check(scenario, reference=None,
expect=None, examples=None) -> CheckReport``."""
Explore = Callable[..., ExploreReport]
"""The type of the ``rabble_explore`` fixture: ``rabble_explore(scenario, depth=None,
reference=None, expect=None, **options) -> ExploreReport``."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rabble-sim")
    group.addoption(
        "--rabble-seeds",
        type=int,
        default=100,
        help="how many seeds rabble_sweep runs per scenario (default: 100)",
    )
    group.addoption(
        "--rabble-seed",
        type=int,
        default=None,
        help="the first seed of every rabble_sweep (default: 0 on CI, else a new one each "
        "session, shown in the header)",
    )
    group.addoption(
        "--rabble-strategy",
        default="swarm",
        choices=[*STRATEGIES, "hypothesis"],
        help="the strategy rabble_sweep searches with (default: swarm)",
    )
    group.addoption(
        "--rabble-workers",
        default="1",
        help="processes that run a rabble_sweep's seeds at once, or 'auto' for the machine's "
        "cores; the verdict is the same for any number (default: 1)",
    )
    group.addoption(
        "--rabble-save-dir",
        default=None,
        help="where rabble_sweep saves failing schedules, relative to the rootdir (default: "
        "regressions/<scenario>/, or schedules/<scenario>/ for an expected violation)",
    )
    group.addoption(
        "--rabble-determinism",
        action="store_true",
        help="rabble_sweep also runs its failing seed (or, when none fails, its first) in two "
        "interpreters under different hash seeds, and fails on a difference",
    )
    parser.addini(
        "rabble_dirs",
        "folders whose rabble-sim schedule files are collected as tests",
        type="args",
        default=list(SCHEDULE_FOLDERS),
    )


FIRST_SEED = pytest.StashKey[int]()
WORKERS = pytest.StashKey[int]()


def pytest_configure(config: pytest.Config) -> None:
    chosen = config.getoption("--rabble-seed")
    if chosen is None:
        # A new first seed each session tries new schedules run after run; CI stays put.
        # CI as Hypothesis tells it (its ci profile), or a derandomized profile loaded
        # (--hypothesis-profile=rabble-ci): either way, runs that repeat are wanted.
        on_ci = settings.get_current_profile_name() == "ci" or settings().derandomize
        chosen = 0 if on_ci else random.SystemRandom().randrange(1_000_000)
    config.stash[FIRST_SEED] = chosen
    config.stash[WORKERS] = _workers(config.getoption("--rabble-workers"))


def pytest_report_header(config: pytest.Config) -> str:
    first = config.stash[FIRST_SEED]
    return f"rabble-sim: sweeps start at seed {first} (repeat with --rabble-seed {first})"


@pytest.fixture
def rabble_seeds(request: pytest.FixtureRequest) -> int:
    """The number of seeds given with ``--rabble-seeds``."""
    return int(request.config.getoption("--rabble-seeds"))


@pytest.fixture
def rabble_sweep(request: pytest.FixtureRequest, rabble_seeds: int) -> Sweep:
    """``rabble_sweep(scenario, seeds=None, reference=None, expect=None)`` searches the
    scenario under ``--rabble-seeds`` seeds from the session's first seed
    (``--rabble-seed``), with ``--rabble-strategy``.

    Without ``expect``, the first violation fails the test, after its shrunk schedule is
    saved under ``regressions/<scenario>/`` (named by ``reference``, ``MODULE:SCENARIO``,
    so that it can be replayed). With ``expect="violation"`` (a known bug), finding it
    passes the test and saves the schedule, marked ``"expect": "violation"``, under
    ``schedules/<scenario>/``: a demonstration that passes while the bug reproduces; not
    finding it fails the test."""
    save_dir = request.config.getoption("--rabble-save-dir")
    strategy = request.config.getoption("--rabble-strategy")
    determinism = request.config.getoption("--rabble-determinism")
    workers = request.config.stash[WORKERS]
    first = request.config.stash[FIRST_SEED]
    root = request.config.rootpath

    def run_sweep(
        scenario: Scenario,
        seeds: range | None = None,
        reference: str | None = None,
        expect: str | None = None,
    ) -> SweepReport:
        _expectation(expect)
        # A known bug must be found run after run: its seeds do not move between sessions.
        start = 0 if expect else first
        chosen = seeds if seeds is not None else range(start, start + rabble_seeds)
        report = _searched(scenario, lambda: _search(scenario, chosen, strategy, workers))
        failure = report.failure
        if determinism and strategy != "hypothesis" and len(chosen):
            seed = chosen.start if failure is None or failure.seed is None else failure.seed
            _same_under_any_hash_seed(reference or reference_of(scenario, root), seed, strategy)
        searched = (
            f"{report.seeds} {'examples' if strategy == 'hypothesis' else 'seeds'} ({chosen})"
        )
        _judge(failure, scenario, reference, expect, root, save_dir, searched)
        return report

    return run_sweep


@pytest.fixture
def rabble_check(request: pytest.FixtureRequest) -> Check:
    """``rabble_check(scenario, reference=None, expect=None, examples=None)`` searches the
    scenario with Hypothesis (``rabble_sim.search.check``): with the profile loaded
    (``--hypothesis-profile``) or the ``rabble-*`` one for where it runs, and the example
    database, so that a failure found once is tried first the next time. A failure, or
    an expected one, is shrunk and saved as with ``rabble_sweep``."""
    save_dir = request.config.getoption("--rabble-save-dir")
    root = request.config.rootpath

    def run_check(
        scenario: Scenario,
        reference: str | None = None,
        expect: str | None = None,
        examples: int | None = None,
    ) -> CheckReport:
        from .search._check import check  # noqa: PLC0415  (imports Hypothesis: only if used)

        _expectation(expect)
        # A known bug is searched for the same way every time (a seed of its own).
        report = _searched(
            scenario,
            lambda: check(scenario, examples=examples, shrink=False, seed=0 if expect else None),
        )
        _judge(
            report.failure, scenario, reference, expect, root, save_dir,
            f"{report.runs} examples", f"\n(found by Hypothesis in {report.runs} runs)",
        )  # fmt: skip
        return report

    return run_check


@pytest.fixture
def rabble_explore(request: pytest.FixtureRequest) -> Explore:
    """``rabble_explore(scenario, depth=None, reference=None, expect=None, **options)``
    visits every state of the scenario within ``depth`` events (``rabble_sim.search.explore``;
    ``options``: ``max_states``, ``order``, ``symmetry``, ``liveness``). A violation fails
    the test after its schedule (breadth-first, a shortest one: not shrunk) is saved as with
    ``rabble_sweep``; with ``expect="violation"``, finding it passes. A search that
    ``max_states`` cut fails the test: "no violation within depth N" must have looked at
    every state within it."""
    save_dir = request.config.getoption("--rabble-save-dir")
    root = request.config.rootpath

    def run_explore(
        scenario: Scenario,
        depth: int | None = None,
        reference: str | None = None,
        expect: str | None = None,
        **options: Any,
    ) -> ExploreReport:
        _expectation(expect)
        report = _searched(scenario, lambda: explore(scenario, depth=depth, **options))
        searched = f"{report.unique:,} distinct states within {report.depth} steps"
        if report.ok and not report.exhausted:
            pytest.fail(
                f"{scenario.name}: not every state within the bound was visited: max_states "
                f"cut the search at {report.unique:,} distinct states, depth {report.depth} "
                "(raise max_states or lower depth)",
                pytrace=False,
            )
        _judge(
            report.failure, scenario, reference, expect, root, save_dir, searched,
            found_by="breadth-first exploration" if options.get("order", "bfs") == "bfs"
            else "depth-first exploration",
        )  # fmt: skip
        return report

    return run_explore


def _expectation(expect: str | None) -> None:
    if expect not in (None, "violation"):
        raise UsageError(f'expect is "violation" or None, not {expect!r}')


def _judge(
    failure: RunResult | None, scenario: Scenario, reference: str | None, expect: str | None,
    root: Path, save_dir: str | None, searched: str, found_note: str = "", *,
    found_by: str | None = None,
) -> None:  # fmt: skip
    """The verdict of a search in a test: a failure is saved (in ``save_dir``, relative to
    ``root``; by default ``regressions/<scenario>/``, or ``schedules/`` for a known bug)
    and fails the test unless it was expected; a known bug not found fails it. A failure
    ``found_by`` exploration is saved as found (no shorter schedule fails)."""
    if failure is None or failure.violation is None:
        if expect == "violation":
            pytest.fail(
                f"{scenario.name}: the known bug was not found in {searched}", pytrace=False
            )
        return
    folder = "schedules" if expect else "regressions"
    directory = root / save_dir if save_dir else root / folder / scenario.name
    text = _saved(failure, scenario, directory, reference, expect, root, found_by)
    if expect is None:
        pytest.fail(text + found_note, pytrace=False)


R = TypeVar("R")


def _searched(scenario: Scenario, search: Callable[[], R]) -> R:
    """What ``search`` returns, or the test failed with the ``RabbleError`` it raised (a
    run that cannot be made again, say), without a traceback."""
    try:
        return search()
    except RabbleError as e:
        error = str(e)
    pytest.fail(f"{scenario.name}: {error}", pytrace=False)


def _saved(
    failure: RunResult, scenario: Scenario, directory: Path, reference: str | None,
    expect: str | None, root: Path, found_by: str | None,
) -> str:  # fmt: skip
    """``save_failure``'s report, or the test failed with why the schedule cannot be saved
    (a scenario reference that would not load again)."""
    try:
        return save_failure(
            failure, scenario, directory, reference=reference, expect=expect, root=root,
            shrinking=found_by is None, found_by=found_by,
        )[1]  # fmt: skip
    except UsageError as e:
        why = str(e)
    pytest.fail(f"{scenario.name}: {failure.violation}\nnot saved: {why}", pytrace=False)


def _same_under_any_hash_seed(reference: str, seed: int, strategy: str) -> None:
    """Fail the test if seed ``seed`` runs otherwise under another hash seed (a ``handle``
    that iterates a set of strings, or calls ``random``)."""
    report = check_determinism(reference, [seed], strategy=strategy)
    difference = report.difference
    if difference is not None:
        parts = ", ".join(difference.parts) or "how long the run is"
        pytest.fail(
            f"{reference}: seed {seed} is not deterministic: under PYTHONHASHSEED "
            f"{report.hash_seeds[0]} and {report.hash_seeds[1]} its runs part at step "
            f"{difference.step} ({parts} differ); rabble-sim determinism {reference} "
            f"--seed {seed} shows both",
            pytrace=False,
        )


def _workers(option: str) -> int:
    """``--rabble-workers``: a count, or ``auto`` for the machine's cores."""
    if option == "auto":
        return default_workers()
    if not option.isdigit() or int(option) < 1:
        raise pytest.UsageError(
            f"--rabble-workers is a count of 1 or more, or auto, not {option!r}"
        )
    return int(option)


def _search(scenario: Scenario, seeds: range, strategy: str, workers: int) -> SweepReport:
    """A seed sweep, or, for ``hypothesis``, a Hypothesis search of as many examples."""
    if strategy != "hypothesis":
        return sweep(scenario, seeds, strategy=strategy, workers=workers)
    from .search._check import check  # noqa: PLC0415  (the sweep never needs it)

    found = check(scenario, examples=max(len(seeds), 1), seed=seeds.start)
    return SweepReport(
        "hypothesis", seeds=found.runs, steps=found.steps, events=Counter(found.events),
        failure=found.failure,
    )  # fmt: skip


SCHEDULE_FOLDERS = ("regressions", "schedules")
CONTEXT = 6  # events shown on each side of the failing step


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    config = parent.config
    folders = config.getini("rabble_dirs")
    if (
        file_path.suffix == ".json"
        and in_schedule_folder(file_path, config.rootpath, folders)
        and is_schedule_file(file_path)
    ):
        return ScheduleFile.from_parent(parent, path=file_path)
    return None


def in_schedule_folder(path: Path, root: Path, folders: Sequence[str] = SCHEDULE_FOLDERS) -> bool:
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = path.parts
    return any(part in folders for part in parts[:-1])


def is_schedule_file(path: Path) -> bool:
    """Whether ``path`` is a rabble-sim schedule file, or looks like a broken one (which
    its test then reports): any other JSON file is none of rabble-sim's business."""
    try:
        text = read_input_text(path, "schedule")
    except RabbleError:
        return True  # unreadable: the test says why
    try:
        data = json.loads(text)
    except ValueError:
        return "rabble-sim/schedule" in text[:4096]
    fmt = data.get("format") if isinstance(data, dict) else None
    return isinstance(fmt, str) and fmt.startswith(FORMAT.split("@")[0])


def scenario_folders(path: Path, root: Path) -> list[Path]:
    """Where the scenario module of the schedule at ``path`` is looked for before
    ``sys.path``, nearest first: the schedule's folder and each one above it, up to the
    rootdir or the folder that holds its ``regressions/`` (``schedules/``), whichever is
    higher, then on up while that folder is a package: pytest imports a test module in a
    package from the first folder above it that is not (its basedir)."""
    chain = [path.parent, *path.parent.parents]
    # The rootdir need not be above the project: pytest takes the common ancestor of the
    # arguments and the current directory, or the folder of an ini file.
    holder = next((d.parent for d in chain if d.name in SCHEDULE_FOLDERS), path.parent)
    top = max(chain.index(d) for d in (root, holder) if d in chain)
    folders = chain[: top + 1]
    while (folders[-1] / "__init__.py").is_file() and len(folders) < len(chain):
        folders.append(chain[len(folders)])
    return folders


class ScheduleFile(pytest.File):
    """A schedule file: one test."""

    def collect(self) -> list[pytest.Item]:
        return [ScheduleItem.from_parent(self, name=self.path.stem)]


class ScheduleFailed(Exception):
    """A schedule did not replay as it should; the message says how."""


class ScheduleItem(pytest.Item):
    """Replays a schedule file and judges it by its ``expect``."""

    def runtest(self) -> None:
        try:
            schedule = load(self.path)
            scenario = load_scenario(
                schedule.scenario, scenario_folders(self.path, self.config.rootpath)
            )
            check_against(schedule, scenario, str(self.path))
            outcome = replay(schedule, scenario)
        except RabbleError as e:
            raise ScheduleFailed(str(e)) from None
        v = outcome.violation
        if schedule.expect == "violation":
            if not outcome.reproduces(schedule):
                what = f"a different violation, {v}" if v is not None else "no violation"
                raise ScheduleFailed(
                    f"this known bug no longer reproduces: the replay found {what} "
                    f"instead of {schedule.violation}\n{_render(outcome.result.trace, None)}"
                )
        elif v is not None:
            kind = "still occurs" if outcome.reproduces(schedule) else "occurs"
            raise ScheduleFailed(
                f"violation {kind} at step {v.step}: {v}\n{_render(outcome.result.trace, v.step)}"
            )
        elif not outcome.fits:
            divergences = "\n".join(f"  {d}" for d in outcome.divergences[:DIVERGENCES_SHOWN])
            raise ScheduleFailed(f"{outcome.misfit()}\n{divergences}")

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: object = None
    ) -> str:
        if isinstance(excinfo.value, ScheduleFailed):
            return f"{self.path}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"schedule {self.path.name}"


def _render(trace: Trace, step: int | None) -> str:
    """The events around ``step`` (the last ones if None), one a line, the step marked."""
    last = trace.steps if step is None else step
    lines = []
    for i in range(max(1, last - CONTEXT), min(trace.steps, last + CONTEXT) + 1):
        mark = ">>" if i == step else "  "
        lines.append(f"{mark} {i:>5}  {summarize(trace.step_plain(i))}")
    return "\n".join(lines)
