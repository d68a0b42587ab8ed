"""``rabble-sim lincheck``: JSON shape, human explanations, exit codes, bad files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rabble_sim.cli import cli

GOOD = """\
INFO  jepsen.util - 0\t:invoke\t:write\t1
INFO  jepsen.util - 0\t:ok\t:write\t1
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:ok\t:read\t1
"""
STALE = (
    GOOD + "INFO  jepsen.util - 2\t:invoke\t:read\tnil\nINFO  jepsen.util - 2\t:ok\t:read\tnil\n"
)
KV_BAD = (
    '{:process 0, :type :invoke, :f :put, :key "a", :value "x"}\n'
    '{:process 0, :type :ok, :f :put, :key "a", :value "x"}\n'
    '{:process 1, :type :invoke, :f :get, :key "a", :value nil}\n'
    '{:process 1, :type :ok, :f :get, :key "a", :value ""}\n'
)


def lincheck(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", "lincheck", *map(str, args)],
        cwd=cwd,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_json_says_for_each_file_whether_it_is_linearizable(tmp_path: Path) -> None:
    (tmp_path / "good.log").write_text(GOOD)
    (tmp_path / "stale.log").write_text(STALE)
    done = lincheck("--model", "etcd-register", "good.log", "stale.log", "--json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    data = json.loads(done.stdout)
    assert data["ok"] is False and data["model"] == "etcd-register"
    assert data["files"] == 2 and data["not_linearizable"] == 1
    good, stale = data["results"]
    assert set(good) == {"file", "linearizable", "seconds"}
    assert (good["file"], good["linearizable"]) == ("good.log", True)
    assert isinstance(good["seconds"], float)
    assert (stale["file"], stale["linearizable"]) == ("stale.log", False)
    e = stale["explanation"]
    assert e["stuck"] == {"process": 2, "operation": "read -> nil", "invoked": 5, "returned": 6}
    assert [op["operation"] for op in e["linearization"]] == ["write 1", "read -> 1"]
    assert (e["prefix_events"], e["events"], e["state"]) == (5, 6, "1")
    assert e["stuck"] in e["involved"]


def test_all_linearizable_exits_0(tmp_path: Path) -> None:
    (tmp_path / "good.log").write_text(GOOD)
    done = lincheck("--model", "etcd-register", "good.log", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "linearizable" in done.stdout and "good.log" in done.stdout


def test_people_get_the_explanation(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_text(KV_BAD)
    done = lincheck("--model", "kv", "bad.txt", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert "not linearizable" in out
    assert "in bad.txt, key 'a':" in out
    assert "completion at line 4: process 1: get 'a' -> ''  (lines 3-4)" in out
    assert "longest prefix that can be linearized: the first 3 of 4 events" in out
    assert "1. process 0: put 'a' 'x'  (lines 1-2)" in out


def test_bad_input_exits_2_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "good.log").write_text(GOOD)
    (tmp_path / "broken.log").write_text(GOOD + "INFO  jepsen.util - 3\t:invoke\t:frob\t1\n")
    # One for real, in its own interpreter ...
    done = lincheck("--model", "etcd-register", "good.log", "broken.log", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "rabble-sim: error: broken.log:5: unknown operation :frob "
        "(expected :read, :write or :cas)\n"
    )
    # ... the others in this one.
    monkeypatch.chdir(tmp_path)
    cases = [
        (("--model", "etcd-register", "missing.log"), "missing.log: no such file"),
        (("--model", "kv", "good.log"), "good.log:1: cannot read EDN"),
        (("--model", "paxos", "good.log"), "Invalid value for '--model'"),
        (("good.log",), "Missing option '--model'"),
        (("--model", "kv"), "Missing argument 'FILE...'"),
    ]
    for args, reason in cases:
        result = CliRunner().invoke(cli, ["lincheck", *args])
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and reason in lines[0], (args, result.stderr)


def test_the_corpus_from_the_command_line(corpus: Path, tmp_path: Path) -> None:
    files = [corpus / "jepsen" / "etcd_000.log", corpus / "jepsen" / "etcd_002.log"]
    done = lincheck("--model", "etcd-register", *files, "--json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    results = json.loads(done.stdout)["results"]
    assert [r["linearizable"] for r in results] == [False, True]
