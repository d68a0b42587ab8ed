"""The pytest plugin: --rabble-seeds and the rabble_sweep fixture, in a real pytest run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from tests.counter import COUNTER
from tests.search.test_determinism import SET_ORDER_STATE

pytest_plugins = ["pytester"]


def greeters(tag: str) -> str:
    """A protocol module's start: two greeters, each greeting the other once, with their
    message registered under ``tag`` (two modules in one session need two tags)."""
    return f"""
import attrs
from rabble_sim import Envelope, Pid, Scenario, message

@message("{tag}")
@attrs.frozen
class Hello:
    pass

@attrs.define
class Greeter:
    pid: Pid
    greeted: int = 0

    def init(self, output):
        output.append(Envelope(Pid("g", "b" if self.pid.node == "a" else "a"), self.pid, Hello()))

    def handle(self, msg, from_, cid, output):
        self.greeted += 1
"""


TESTS = (
    greeters("plugin.hello")
    + """
def at_most_one_greeting(view):
    assert sum(p.greeted for p in view.processes.values()) <= LIMIT, "too many greetings"

LIMIT = {limit}
start = lambda node, durable: [Greeter(Pid("g", node))]
scenario = Scenario("greet", ["a", "b"], start, [at_most_one_greeting])

def test_greet(rabble_sweep, rabble_seeds):
    report = rabble_sweep(scenario, reference="test_greet:scenario")
    assert report.seeds == rabble_seeds
"""
)


def test_a_passing_scenario_runs_the_requested_seeds(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_greet=TESTS.format(limit=2))
    result = pytester.runpytest("--rabble-seeds", "7", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    for strategy in ("random", "pct", "hypothesis"):
        pytester.runpytest("--rabble-seeds", "7", "--rabble-strategy", strategy).assert_outcomes(
            passed=1
        )


def test_a_violation_fails_the_test_and_saves_a_replayable_schedule(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_greet=TESTS.format(limit=1))
    result = pytester.runpytest(
        "--rabble-seeds", "3", "--rabble-seed", "0", "--rabble-save-dir", "saved"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*greet: seed 0, step 2: at_most_one_greeting: too many greetings*"]
    )
    saved = list(Path(pytester.path, "saved").glob("*.json"))
    assert len(saved) == 1
    result.stdout.fnmatch_lines([f"*rabble-sim replay saved/{saved[0].name}*"])


def test_a_sweep_on_two_workers_runs_every_seed_and_finds_the_same_failure(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_greet=TESTS.format(limit=2))
    pytester.runpytest_subprocess("--rabble-seeds", "40", "--rabble-workers", "2").assert_outcomes(
        passed=1
    )
    pytester.makepyfile(test_greet=TESTS.format(limit=1))
    result = pytester.runpytest_subprocess(
        "--rabble-seeds", "40", "--rabble-seed", "0", "--rabble-workers", "auto"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*greet: seed 0, step 2: at_most_one_greeting: too many greetings*"]
    )
    bad = pytester.runpytest_subprocess("test_greet.py", "--rabble-workers", "none")
    bad.stderr.fnmatch_lines(["*--rabble-workers is a count of 1 or more, or auto, not 'none'*"])
    assert bad.ret == pytest.ExitCode.USAGE_ERROR


def saved_schedule(pytester: pytest.Pytester, folder: str, *, expect: str | None = None) -> Path:
    """Find the counter bug with the real command line and keep its schedule in ``folder``."""
    pytester.makepyfile(counter=COUNTER.format(limit=4))
    command = ["run", "counter:scenario", "--save-dir", folder, "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", *command],
        cwd=pytester.path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    path = Path(pytester.path, json.loads(done.stdout)["schedule"])
    if expect is not None:
        data = json.loads(path.read_text())
        data["expect"] = expect
        path.write_text(json.dumps(data))
    return path


def test_a_regression_fails_while_the_bug_is_there_and_passes_once_fixed(
    pytester: pytest.Pytester,
) -> None:
    path = saved_schedule(pytester, "regressions/counter")
    result = pytester.runpytest("regressions")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{path.name}*violation still occurs at step*below_limit*"])
    result.stdout.fnmatch_lines(["*>> *deliver #*counter::a -> counter::b: counter.bump(by=*"])
    pytester.makepyfile(counter=COUNTER.format(limit=6))  # the fix
    pytester.runpytest("regressions").assert_outcomes(passed=1)


def test_a_regression_that_no_longer_fits_the_code_fails_instead_of_passing(
    pytester: pytest.Pytester,
) -> None:
    path = saved_schedule(pytester, "regressions/counter")
    data = json.loads(path.read_text())
    data["events"][0]["to"] = "counter::a"  # a delivery today's code can never make
    path.write_text(json.dumps(data))
    pytester.makepyfile(counter=COUNTER.format(limit=6))  # the "fix"
    result = pytester.runpytest("regressions")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the schedule no longer fits the code (1 of its * events*"])
    result.stdout.fnmatch_lines(["*step 1 (*): no such message is in flight today*"])


NOISY = """
import attrs
from rabble_sim import Envelope, Pid, Scenario, message

@message("plugin.noise")
@attrs.frozen
class Noise:
    pass

@attrs.define
class Node:
    pid: Pid
    heard: int = 0

    def init(self, output):
        for _ in range(10):
            output.append(Envelope(self.pid, self.pid, Noise()))
        output.append(Envelope(Pid("n", "b"), self.pid, Noise()))

    def handle(self, msg, from_, cid, output):
        if from_.node != self.pid.node:
            self.heard += 1

def quiet(view):
    assert view.processes[Pid("n", "b")].heard == 0, f"heard at step {view.step}"

scenario = Scenario("noisy", ["a", "b"], lambda node, durable: [Node(Pid("n", node))], [quiet])

def test_noisy(rabble_sweep):
    rabble_sweep(scenario, reference="test_noisy:scenario")
"""


def test_a_failing_sweep_reports_the_violation_of_the_schedule_it_saved(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_noisy=NOISY)
    result = pytester.runpytest(
        "--rabble-seeds", "1", "--rabble-seed", "0", "--rabble-save-dir", "saved"
    )
    result.assert_outcomes(failed=1)
    (saved,) = Path(pytester.path, "saved").glob("*.json")
    schedule = json.loads(saved.read_text())
    assert schedule["violation"]["message"].startswith("heard at step 1\n")
    result.stdout.fnmatch_lines(["*noisy: seed 0, step 1: quiet: heard at step 1*"])
    result.stdout.fnmatch_lines(["*(shrunk to 1 step from 11, which failed at step 11 with quiet*"])


FORGETFUL = """
import attrs
from rabble_sim import Pid, Scenario

RUNS = []

@attrs.define
class Forgetful:
    pid: Pid

    def init(self, output):
        RUNS.append(self.pid.node)  # global state: later runs differ from the first two

    def handle(self, msg, from_, cid, output):
        pass

def early_runs_only(view):
    assert len(RUNS) > 2, "an early run"

start = lambda node, durable: [Forgetful(Pid("f", node))]
scenario = Scenario("forgetful", ["a"], start, [early_runs_only])

def test_forgetful(rabble_sweep):
    rabble_sweep(scenario, reference="test_forgetful:scenario")
"""


def test_a_failure_that_does_not_reproduce_is_saved_as_found_and_said_not_shrunk(
    pytester: pytest.Pytester,
) -> None:
    # The sweep's run and its recording fail; the shrinker's replay, the third run, passes.
    pytester.makepyfile(test_forgetful=FORGETFUL)
    result = pytester.runpytest(
        "--rabble-seeds", "1", "--rabble-seed", "0", "--rabble-save-dir", "saved"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*(not shrunk: replaying it did not fail the same check again*"])
    result.stdout.no_fnmatch_line("*shrunk to*")
    assert len(list(Path(pytester.path, "saved").glob("*.json"))) == 1


def test_a_known_bug_demonstration_passes_only_while_it_reproduces(
    pytester: pytest.Pytester,
) -> None:
    saved_schedule(pytester, "schedules/demo", expect="violation")
    pytester.runpytest("schedules").assert_outcomes(passed=1)
    pytester.makepyfile(counter=COUNTER.format(limit=6))
    result = pytester.runpytest("schedules")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*this known bug no longer reproduces: the replay found no violation*"]
    )


def test_a_broken_schedule_file_is_a_failure_that_names_the_problem(
    pytester: pytest.Pytester,
) -> None:
    folder = pytester.mkdir("regressions")
    (folder / "broken.json").write_text('{"format": "rabble-sim/schedule@1", "events": [')
    (folder / "notes.txt").write_text("not collected")
    result = pytester.runpytest("regressions")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*broken.json: not valid JSON*"])


def test_json_files_elsewhere_are_not_collected(pytester: pytest.Pytester) -> None:
    pytester.mkdir("data").joinpath("x.json").write_text("{}")
    pytester.runpytest("data").assert_outcomes()


# A project beside others: pytest run from the folder above it, or from inside it, must
# replay the project's schedules against the project's own protocol module.


def counter_bug_schedule(reference: str, directory: Path) -> Path:
    """Find the counter bug in this process and save it under ``directory``, naming its
    scenario ``reference``, as ``rabble_sweep`` or ``run`` would."""
    from rabble_sim.schedule import Schedule
    from rabble_sim.search import sweep

    module = types.ModuleType("counter_bug")
    exec(compile(COUNTER.format(limit=4), "counter_bug.py", "exec"), module.__dict__)
    failure = sweep(module.scenario, range(20)).failure
    assert failure is not None
    return Schedule.from_run(failure, reference).save(directory)


STILL_OCCURS = "*violation still occurs at step*below_limit: total * is over 4*"


def test_a_project_folder_replays_its_schedules_from_the_folder_above_and_from_inside(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = pytester.mkdir("myproto")
    (project / "myproto_mod.py").write_text(COUNTER.format(limit=4))
    (project / "test_myproto.py").write_text(
        "from myproto_mod import scenario\n\n"
        "def test_named():\n    assert scenario.name == 'counter'\n"
    )
    path = counter_bug_schedule("myproto_mod:scenario", project / "regressions" / "counter")
    result = pytester.runpytest("myproto/")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([STILL_OCCURS])
    # one schedule alone, by the node id pytest printed: no test module imported
    result = pytester.runpytest(f"myproto/regressions/counter/{path.name}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([STILL_OCCURS])
    monkeypatch.chdir(project)
    result = pytester.runpytest("regressions")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([STILL_OCCURS])


def test_a_package_project_replays_its_schedules_from_above_and_from_inside_the_package(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = pytester.mkdir("proj")
    package = repo / "myproto"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "scenarios.py").write_text(COUNTER.format(limit=4))
    for folder in (package, repo):  # schedules inside the package and beside it
        counter_bug_schedule("myproto.scenarios:scenario", folder / "regressions" / "counter")
    # importlib mode: pytest puts no folder of the package on sys.path
    result = pytester.runpytest("proj/", "--import-mode=importlib")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([STILL_OCCURS, STILL_OCCURS])
    result = pytester.runpytest("proj/regressions")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([STILL_OCCURS])
    monkeypatch.chdir(package)
    result = pytester.runpytest("regressions", "--import-mode=importlib")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([STILL_OCCURS])
    (package / "scenarios.py").write_text(COUNTER.format(limit=6))  # the fix
    pytester.runpytest("regressions").assert_outcomes(passed=1)


def test_a_scenario_module_that_cannot_be_found_names_where_it_was_looked_for(
    pytester: pytest.Pytester,
) -> None:
    project = pytester.mkdir("myproto")
    project.joinpath("lib").mkdir()
    (project / "lib" / "myproto_mod.py").write_text(COUNTER.format(limit=4))
    counter_bug_schedule("myproto_mod:scenario", project / "regressions" / "counter")
    result = pytester.runpytest("myproto/regressions")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*.json: cannot import module 'myproto_mod': not in the schedule's folders "
            "(myproto/regressions/counter, myproto/regressions, myproto, .) "
            "nor on sys.path (PYTHONPATH, pytest's pythonpath option)"
        ]
    )
    # pytest's own pythonpath option is honoured (the ini file makes myproto the rootdir)
    (project / "pytest.ini").write_text("[pytest]\npythonpath = lib\n")
    result = pytester.runpytest("myproto/regressions")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([STILL_OCCURS])


def test_a_projects_folder_shadows_no_module_of_later_tests_yet_stays_importable(
    pytester: pytest.Pytester,
) -> None:
    project = pytester.mkdir("myproto")
    # The protocol imports a neighbour only when a node starts, after its module loaded.
    lazy_start = (
        "\ndef start(node, durable):\n"
        "    from myproto_names import GROUP\n"
        "    return [Counter(Pid(GROUP, node))]\n\n"
        'scenario = Scenario("counter", ["a", "b"], start, [below_limit])\n'
    )
    (project / "myproto_mod.py").write_text(COUNTER.format(limit=4) + lazy_start)
    (project / "myproto_names.py").write_text('GROUP = "counter"\n')
    (project / "util.py").write_text('WHO = "myproto"\n')
    counter_bug_schedule("myproto_mod:scenario", project / "regressions" / "counter")
    other = pytester.mkdir("zother")
    (other / "util.py").write_text('WHO = "zother"\n')
    (other / "test_late.py").write_text(
        "def test_util_is_this_folders():\n"
        "    import util  # after the schedule replayed\n\n"
        '    assert util.WHO == "zother"\n'
    )
    result = pytester.runpytest("myproto/regressions", "zother")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([STILL_OCCURS])


def test_two_projects_with_one_module_name_are_not_replayed_against_the_wrong_one(
    pytester: pytest.Pytester,
) -> None:
    for name in ("a", "b"):
        pytester.mkdir(name).joinpath("proto.py").write_text(COUNTER.format(limit=4))
        counter_bug_schedule("proto:scenario", pytester.path / name / "regressions" / "counter")
    pytester.path.joinpath("b", "proto.py").write_text(COUNTER.format(limit=6))  # b is fixed
    result = pytester.runpytest("a", "b")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            f"*a{os.sep}regressions*{STILL_OCCURS}",
            f"*b{os.sep}regressions*: cannot import module 'proto': 'proto' is already imported "
            f"from a{os.sep}proto.py, not from this schedule's b{os.sep}proto.py; "
            "give the two modules different names",
        ]
    )


KNOWN_BUG = TESTS.replace(
    """def test_greet(rabble_sweep, rabble_seeds):
    report = rabble_sweep(scenario, reference="test_greet:scenario")
    assert report.seeds == rabble_seeds""",
    """def test_the_known_bug(rabble_sweep):
    rabble_sweep(scenario, reference="test_greet:scenario", expect="violation")""",
)


def test_a_known_bug_test_passes_when_the_bug_is_found_and_keeps_it_under_schedules(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_greet=KNOWN_BUG.format(limit=1))
    pytester.runpytest("test_greet.py").assert_outcomes(passed=1)
    (saved,) = Path(pytester.path, "schedules", "greet").glob("*.json")
    assert json.loads(saved.read_text())["expect"] == "violation"
    assert not Path(pytester.path, "regressions").exists(), "a known bug is no regression"
    # The demonstration is itself a test, which passes while the bug reproduces.
    pytester.runpytest("schedules").assert_outcomes(passed=1)


def test_a_known_bug_test_fails_when_the_bug_is_not_found(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_greet=KNOWN_BUG.format(limit=2))
    result = pytester.runpytest("test_greet.py", "--rabble-seeds", "5")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*greet: the known bug was not found in 5 seeds*"])


def test_only_rabble_sim_schedules_are_collected_from_the_configured_folders(
    pytester: pytest.Pytester,
) -> None:
    path = saved_schedule(pytester, "regressions/counter")
    for folder in ("regressions", "schedules"):
        unrelated = pytester.mkdir(folder) if folder == "schedules" else Path(pytester.path, folder)
        unrelated.joinpath("nightly.json").write_text('{"jobs": ["build"]}')
        unrelated.joinpath("other.json").write_text('{"format": "someone-else@2"}')
    pytester.runpytest("regressions", "schedules").assert_outcomes(failed=1)  # the counter bug
    # Another folder, named in the ini file: the same schedule is collected from there only.
    moved = pytester.mkdir("known").joinpath(path.name)
    path.rename(moved)
    pytester.makeini("[pytest]\nrabble_dirs = known\n")
    pytester.runpytest("known", "regressions").assert_outcomes(failed=1)


# The variables by which Hypothesis (and rabble-sim after it) knows it runs on CI.
CI_VARIABLES = (
    "CI", "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI", "TF_BUILD", "bamboo.buildKey", "BUILDKITE",
    "CIRCLECI", "CIRRUS_CI", "CODEBUILD_BUILD_ID", "GITHUB_ACTIONS", "GITLAB_CI",
    "HEROKU_TEST_RUN_ID", "TEAMCITY_VERSION",
)  # fmt: skip


def leave_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the pytest sessions of a test as on a developer's machine, even on CI."""
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_sweeps_start_from_a_new_seed_each_session_except_on_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_greet=TESTS.format(limit=2))

    def first_seed(*args: str) -> str:
        result = pytester.runpytest_subprocess("test_greet.py", "--rabble-seeds", "2", *args)
        result.assert_outcomes(passed=1)
        (line,) = [line for line in result.outlines if line.startswith("rabble-sim: sweeps")]
        return line

    leave_ci(monkeypatch)
    sessions = {first_seed() for _ in range(3)}
    assert len(sessions) > 1, "three sessions, one first seed"
    assert first_seed("--rabble-seed", "42") == (
        "rabble-sim: sweeps start at seed 42 (repeat with --rabble-seed 42)"
    )
    monkeypatch.setenv("CI", "true")
    assert first_seed() == "rabble-sim: sweeps start at seed 0 (repeat with --rabble-seed 0)"


def test_the_save_dir_is_relative_to_the_rootdir(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_greet=TESTS.format(limit=1))
    sub = pytester.mkdir("sub")
    monkeypatch.chdir(sub)
    result = pytester.runpytest(
        str(Path(pytester.path, "test_greet.py")), "--rabble-seeds", "3",
        "--rabble-save-dir", "saved", "--rootdir", str(pytester.path),
    )  # fmt: skip
    result.assert_outcomes(failed=1)
    assert len(list(Path(pytester.path, "saved").glob("*.json"))) == 1
    assert not Path(sub, "saved").exists()


def test_the_rabble_profiles_exist_as_soon_as_the_plugin_loads(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_profile="""
from hypothesis import settings

def test_profile():
    assert settings.default.max_examples == 200 and settings.default.derandomize
"""
    )
    result = pytester.runpytest_subprocess("--hypothesis-profile=rabble-ci")
    result.assert_outcomes(passed=1)


CHECKED = TESTS.replace(
    """def test_greet(rabble_sweep, rabble_seeds):
    report = rabble_sweep(scenario, reference="test_greet:scenario")
    assert report.seeds == rabble_seeds""",
    """def test_greet(rabble_check):
    report = rabble_check(scenario, reference="test_greet:scenario")
    print("runs:", report.runs)""",
)


def test_rabble_check_saves_a_failure_and_keeps_it_in_the_example_database(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    leave_ci(monkeypatch)  # on CI, Hypothesis's own profile keeps no example database
    pytester.makepyfile(test_greet=CHECKED.format(limit=1))
    first = pytester.runpytest_subprocess("test_greet.py")
    first.assert_outcomes(failed=1)
    first.stdout.fnmatch_lines(
        ["*greet: Hypothesis, step *: at_most_one_greeting: too many greetings*",
         "*replay it with: rabble-sim replay regressions/greet/*.json*",
         "*debug it with: rabble-sim debug regressions/greet/*.json*"]
    )  # fmt: skip
    assert len(list(Path(pytester.path, "regressions", "greet").glob("*.json"))) == 1
    assert list(Path(pytester.path, ".hypothesis").rglob("*")), "the failure is in the database"
    # A known-bug test of the same scenario passes, and keeps it under schedules/.
    pytester.makepyfile(
        test_greet=CHECKED.format(limit=1).replace(
            'report = rabble_check(scenario, reference="test_greet:scenario")',
            'report = rabble_check(scenario, reference="test_greet:scenario", expect="violation")',
        )
    )
    pytester.runpytest_subprocess("test_greet.py").assert_outcomes(passed=1)
    assert len(list(Path(pytester.path, "schedules", "greet").glob("*.json"))) == 1


def test_rabble_check_honours_the_hypothesis_profile_loaded(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "from hypothesis import settings\n"
        "settings.register_profile('three', settings(max_examples=3))\n"
    )
    pytester.makepyfile(test_greet=CHECKED.format(limit=2))
    result = pytester.runpytest_subprocess("test_greet.py", "-s", "--hypothesis-profile=three")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*runs: 3*"])


GIVEN = TESTS.replace(
    """def test_greet(rabble_sweep, rabble_seeds):
    report = rabble_sweep(scenario, reference="test_greet:scenario")
    assert report.seeds == rabble_seeds""",
    """from hypothesis import given, settings
from rabble_sim.search import fail_with_schedule, runs

@settings(max_examples=20, database=None)
@given(runs(scenario))
def test_greet(result):
    fail_with_schedule(result, reference="test_greet:scenario")""",
)


def test_a_given_test_of_your_own_saves_the_smallest_failing_run(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_greet=GIVEN.format(limit=1))
    result = pytester.runpytest_subprocess("test_greet.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*debug it with: rabble-sim debug regressions/greet/hypothesis.json*"]
    )
    (saved,) = Path(pytester.path, "regressions", "greet").glob("*.json")
    assert saved.name == "hypothesis.json"
    assert json.loads(saved.read_text())["violation"]["check"] == "at_most_one_greeting"
    pytester.makepyfile(test_greet=GIVEN.format(limit=2))
    pytester.runpytest_subprocess("test_greet.py").assert_outcomes(passed=1)


SET_ORDER = (
    SET_ORDER_STATE
    + """
def test_collector(rabble_sweep):
    rabble_sweep(scenario, reference="set_order:scenario")
"""
)


def test_rabble_determinism_catches_a_protocol_that_depends_on_the_hash_seed(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(set_order=SET_ORDER)
    pytester.makepyfile(test_set_order="from set_order import *\n")
    pytester.runpytest_subprocess("test_set_order.py", "--rabble-seeds", "2").assert_outcomes(
        passed=1
    )
    result = pytester.runpytest_subprocess(
        "test_set_order.py", "--rabble-seeds", "2", "--rabble-determinism"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*set_order:scenario: seed * is not deterministic: under PYTHONHASHSEED * and * "
         "its runs part at step 0 (states differ)*"]
    )  # fmt: skip


PARAMETRIZED = (
    greeters("plugin.param.hello")
    + """
import pytest

def greeting(limit):
    def at_most(view):
        assert sum(p.greeted for p in view.processes.values()) <= limit, "too many greetings"
    start = lambda node, durable: [Greeter(Pid("g", node))]
    return Scenario(f"greet-{limit}", ["a", "b"], start, [at_most])

@pytest.mark.parametrize("limit", [1])
def test_named(rabble_sweep, limit):
    rabble_sweep(greeting(limit), reference=f"greetings:greeting({limit})")

def test_unnamed(rabble_sweep):
    rabble_sweep(greeting(1))
"""
)


def test_a_parametrized_scenario_is_saved_by_its_factory_and_replays(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(greetings=PARAMETRIZED)
    result = pytester.runpytest("greetings.py", "--rabble-seeds", "3")
    result.assert_outcomes(failed=2)
    (saved,) = Path(pytester.path, "regressions", "greet-1").glob("*.json")
    assert json.loads(saved.read_text())["scenario"] == "greetings:greeting(1)"
    # A scenario that no reference loads again is not saved: the failure says how to name it.
    result.stdout.fnmatch_lines(
        ["*scenario 'greet-1' is not bound to a module-level name*MODULE:FACTORY(args)*"]
    )
    # The schedule replays from the regression suite, against the factory's scenario.
    replayed = pytester.runpytest("regressions")
    replayed.assert_outcomes(failed=1)
    replayed.stdout.fnmatch_lines(["*violation still occurs at step 2*"])


def test_a_scenario_of_a_test_module_is_saved_so_that_it_replays_from_the_rootdir(
    pytester: pytest.Pytester,
) -> None:
    local = TESTS.format(limit=1).replace(
        'report = rabble_sweep(scenario, reference="test_greet:scenario")',
        "report = rabble_sweep(scenario)",
    )
    pytester.mkdir("tests").joinpath("test_local_scenario.py").write_text(local)
    found = pytester.runpytest_subprocess("tests", "--rabble-seeds", "3")
    found.assert_outcomes(failed=1)
    (saved,) = Path(pytester.path, "regressions", "greet").glob("*.json")
    assert json.loads(saved.read_text())["scenario"] == "tests.test_local_scenario:scenario"
    # Replayed on its own, without the test module imported first: it still loads.
    replayed = pytester.runpytest_subprocess("regressions")
    replayed.assert_outcomes(failed=1)
    replayed.stdout.fnmatch_lines(["*violation still occurs at step 2*"])


EXPLORED = TESTS.replace(
    """def test_greet(rabble_sweep, rabble_seeds):
    report = rabble_sweep(scenario, reference="test_greet:scenario")
    assert report.seeds == rabble_seeds""",
    """def test_greet(rabble_explore):
    report = rabble_explore(scenario, depth=4, reference="test_greet:scenario"{options})
    print("distinct:", report.unique)""",
)


def test_rabble_explore_passes_a_whole_bound_and_fails_a_violation_with_its_schedule(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_greet=EXPLORED.format(limit=2, options=""))
    pytester.runpytest("-s").assert_outcomes(passed=1)
    pytester.makepyfile(test_greet=EXPLORED.format(limit=1, options=""))
    failed = pytester.runpytest()
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(
        ["*greet: breadth-first exploration, step 2: at_most_one_greeting: too many greetings*",
         "*2 steps, as breadth-first exploration found it*",
         "*replay it with: rabble-sim replay regressions/greet/*.json*"]
    )  # fmt: skip
    (saved,) = Path(pytester.path, "regressions", "greet").glob("*.json")
    assert len(json.loads(saved.read_text())["events"]) == 2
    # The saved schedule is a regression that fails until the bug is fixed.
    pytester.runpytest("regressions").assert_outcomes(failed=1)
    known = EXPLORED.format(limit=1, options=', expect="violation"')
    pytester.makepyfile(test_greet=known)
    pytester.runpytest("test_greet.py").assert_outcomes(passed=1)


def test_rabble_explore_fails_a_search_that_max_states_cut(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_greet=EXPLORED.format(limit=2, options=", max_states=2"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*not every state within the bound was visited*"])
