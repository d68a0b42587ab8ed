"""examples/pytest_project, a project that tests its protocol with rabble-sim through the
public API, run as its users run it: its tests, its regression suite, its type check."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "examples" / "pytest_project"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "pytest_project"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns(".hypothesis", "__pycache__"))
    return copy


def pytest_in(project: Path, *args: str, ci: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=project, env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def counts(done: subprocess.CompletedProcess[str]) -> dict[str, int]:
    last = done.stdout.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|error)", last)}


def test_the_project_passes_and_leaves_unrelated_json_alone(project: Path) -> None:
    done = pytest_in(project)
    assert done.returncode == 0, done.stdout + done.stderr
    # Four tests and the known bug's committed demonstration; not schedules/nightly.json.
    assert counts(done) == {"passed": 5}
    assert "nightly" not in done.stdout


def test_a_bug_is_kept_as_a_regression_that_fails_until_it_is_fixed(project: Path) -> None:
    scenarios = project / "ticketing" / "scenarios.py"
    fixed = scenarios.read_text()
    scenarios.write_text(fixed.replace("office(durable=True,", "office(durable=False,"))
    done = pytest_in(project, "tests", "-k", "test_every_ticket_goes_to_one_customer")
    assert counts(done)["failed"] == 2, done.stdout
    assert "replay it with: rabble-sim replay regressions/ticketing/" in done.stdout
    saved = list((project / "regressions" / "ticketing").glob("*.json"))
    assert saved, "the failures are saved as regressions"
    assert counts(pytest_in(project, "regressions"))["failed"] == len(saved)
    scenarios.write_text(fixed)
    assert counts(pytest_in(project, "regressions")) == {"passed": len(saved)}


def test_a_hypothesis_failure_is_tried_first_on_the_next_run(project: Path) -> None:
    scenarios = project / "ticketing" / "scenarios.py"
    scenarios.write_text(
        scenarios.read_text().replace("office(durable=True,", "office(durable=False,")
    )
    test = "tests/test_office.py::test_every_ticket_goes_to_one_customer_under_hypothesis"
    runs = []
    for _ in range(2):
        # Not on CI: the rabble-ci profile is derandomized, which leaves the database alone.
        done = pytest_in(project, test, ci=False)
        assert counts(done) == {"failed": 1}, done.stdout
        runs.append(int(re.search(r"found by Hypothesis in (\d+) runs", done.stdout)[1]))  # type: ignore[index]
    assert runs[1] == 2, f"the saved failure, then its report ({runs})"
    assert runs[0] >= runs[1]


def test_a_hypothesis_profile_switch(project: Path) -> None:
    test = "tests/test_office.py::test_every_ticket_goes_to_one_customer_under_hypothesis"
    done = pytest_in(project, test, "--hypothesis-profile=rabble-ci", ci=False)
    assert counts(done) == {"passed": 1}, done.stdout + done.stderr


def test_the_project_type_checks_under_mypy_strict() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         str(PROJECT / "ticketing"), str(PROJECT / "tests")],
        cwd=ROOT, env={**os.environ, "MYPYPATH": str(PROJECT)},
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
