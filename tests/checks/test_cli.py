"""``rabble-sim lincheck``: JSON shape, human explanations, exit codes, bad files."""

from __future__ import annotations

import json
import os
import resource
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


ROOT = Path(__file__).resolve().parents[2]


def lincheck(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", "lincheck", *map(str, args)],
        cwd=cwd,
        env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)},
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
    assert set(good) == {"file", "linearizable", "seconds", "operations"}
    assert (good["file"], good["linearizable"], good["operations"]) == ("good.log", True, 2)
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


def test_a_history_not_judged_in_time_is_unknown_and_fails(tmp_path: Path) -> None:
    (tmp_path / "good.log").write_text(GOOD)
    # No search ends within a nanosecond; one of a minute ends as without a limit.
    done = lincheck("--model", "etcd-register", "good.log", "--timeout", "1e-9", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("unknown           good.log  (gave up after")
    data = json.loads(
        lincheck("--model", "etcd-register", "good.log", "--timeout", "1e-9", "--json",
                 cwd=tmp_path).stdout
    )  # fmt: skip
    assert (data["ok"], data["unknown"], data["results"][0]["linearizable"]) == (False, 1, None)
    roomy = lincheck("--model", "etcd-register", "good.log", "--timeout", "60", cwd=tmp_path)
    assert roomy.returncode == 0 and roomy.stdout.startswith("linearizable")


def recorded(path: Path, node: str, *events: tuple[str, int, object, int]) -> Path:
    """A node's history file: a start line, then (kind, op, value, time) of its client."""
    lines = [{"kind": "start", "node": node, "time": 0}] + [
        {"kind": kind, "client": f"g1::client::{node}", "op": op, "value": value, "time": t}
        for kind, op, value, t in events
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_recorded_histories_are_merged_and_checked_against_a_model_of_your_own(
    tmp_path: Path,
) -> None:
    recorded(tmp_path / "c1.jsonl", "c1", ("invoke", 1, ["put", "x", "a"], 10), ("ok", 1, "ok", 20))
    recorded(tmp_path / "c2.jsonl", "c2", ("invoke", 1, ["get", "x"], 15), ("ok", 1, None, 18))
    model = ("--model", "protocols.vr:KV_MODEL", "--recorded")
    done = lincheck(*model, "c1.jsonl", "c2.jsonl", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)["results"]
    assert (result["file"], result["linearizable"]) == ("c1.jsonl, c2.jsonl", True)

    # The read now starts after the put was answered: it must see "a".
    recorded(tmp_path / "c2.jsonl", "c2", ("invoke", 1, ["get", "x"], 25), ("ok", 1, None, 30))
    stale = lincheck(*model, "c1.jsonl", "c2.jsonl", cwd=tmp_path)
    assert stale.returncode == 1, stale.stderr
    assert "not linearizable  c1.jsonl, c2.jsonl" in stale.stdout
    assert "completion at event 3: process g1::client::c2: 'get' 'x' -> None" in stale.stdout

    # A call the model does not know is bad input: one line, exit 2.
    recorded(tmp_path / "c2.jsonl", "c2", ("invoke", 1, ["frob", "x"], 25), ("ok", 1, None, 30))
    bad = lincheck(*model, "c1.jsonl", "c2.jsonl", cwd=tmp_path)
    assert (bad.returncode, bad.stdout) == (2, ""), bad.stderr
    assert bad.stderr.startswith(
        "rabble-sim: error: c1.jsonl, c2.jsonl: the model protocols.vr:KV_MODEL raised "
        "ValueError: not a kv call: ('frob', 'x')"
    )


def test_a_model_of_your_own_that_exits_is_never_a_pass(tmp_path: Path) -> None:
    (tmp_path / "exiting.py").write_text(
        "import sys\n"
        "from protocols.vr import KV_MODEL\n"
        "class Exiting:\n"
        "    def init(self):\n"
        "        return KV_MODEL.init()\n"
        "    def step(self, state, input, output):\n"
        "        sys.exit(0)\n"
        "MODEL = Exiting()\n"
    )
    recorded(tmp_path / "c1.jsonl", "c1", ("invoke", 1, ["put", "x", "a"], 10), ("ok", 1, "ok", 20))
    done = subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", "lincheck", "--recorded",
         "--model", "exiting:MODEL", "c1.jsonl"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"},
    )  # fmt: skip
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "the model exiting:MODEL raised SystemExit: 0" in done.stderr


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
        (("--model", "paxos", "good.log"), "expected etcd-register, kv or MODULE:MODEL"),
        (("--model", "protocols.vr:KV_MODEL", "good.log"), "checks recorded histories"),
        (
            ("--model", "protocols.vr:TypedKvModel", "--recorded", "good.log"),
            "protocols.vr:TypedKvModel is not a model; models there: KV_MODEL",
        ),
        (("good.log",), "Missing option '--model'"),
        (("--model", "kv"), "Missing argument 'FILE...'"),
        (("--model", "kv", "--timeout", "0", "good.log"), "Invalid value for '--timeout'"),
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


def test_a_torn_last_line_is_skipped_with_one_warning_and_the_rest_checked(
    tmp_path: Path,
) -> None:
    path = recorded(
        tmp_path / "c1.jsonl", "c1", ("invoke", 1, ["put", "x", "a"], 10), ("ok", 1, "ok", 20)
    )
    path.write_text(path.read_text()[:-10])  # the machine crashed mid-line
    model = ("--model", "protocols.vr:KV_MODEL", "--recorded", "c1.jsonl")
    done = lincheck(*model, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("linearizable      c1.jsonl")
    warning = "rabble-sim: warning: c1.jsonl:3: skipped a torn line (the machine crashed"
    assert done.stderr.startswith(warning) and done.stderr.count("\n") == 1
    data = json.loads(lincheck(*model, "--json", cwd=tmp_path).stdout)
    assert [w[: len(warning) - 21] for w in data["warnings"]] == [warning[21:]]
    assert data["results"][0]["operations"] == 1

    # In the middle of a life (its node wrote on after it), it is no crash's doing.
    with path.open("a") as f:
        f.write('\n{"kind": "invoke", "client": "g1::client::c1", "op": 2, "value": '
                '["get", "x"], "time": 30}\n')  # fmt: skip
    done = lincheck(*model, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("rabble-sim: error: c1.jsonl:3: not JSON")


def test_a_history_without_operations_says_so_and_passes(tmp_path: Path) -> None:
    recorded(tmp_path / "c1.jsonl", "c1")  # a start line only: no client ever called
    (tmp_path / "empty.edn").write_text("")
    for args in (("--model", "kv", "--recorded", "c1.jsonl"), ("--model", "kv", "empty.edn")):
        done = lincheck(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "(no operations in it: nothing to check)" in done.stdout
        data = json.loads(lincheck(*args, "--json", cwd=tmp_path).stdout)
        assert (data["ok"], data["results"][0]["operations"]) == (True, 0)


def test_deeply_nested_json_in_a_recorded_history_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "deep.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    done = lincheck("--model", "kv", "--recorded", "deep.jsonl", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert (
        done.stderr == "rabble-sim: error: deep.jsonl:1: nested too deeply to be a history line\n"
    )


def hostile_inputs(tmp_path: Path) -> dict[str, Path]:
    """Files lincheck must refuse before reading: endless, blocking, not files, too big."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nobody ever writes to it: reading it would block forever
    big = tmp_path / "big.jsonl"
    with big.open("wb") as f:
        f.truncate(2 * 1024 * 1024)  # 2 MiB (sparse), over the limit set below
    return {"/dev/zero": Path("/dev/zero"), "a FIFO": fifo, "a directory": tmp_path, "too big": big}


SAYS = {
    "/dev/zero": "not a regular file (a device, a pipe or a socket), not a history",
    "a FIFO": "not a regular file (a device, a pipe or a socket), not a history",
    "a directory": "is a directory, not a history",
    "too big": "2,097,152 bytes is larger than the limit of 1,048,576 bytes for a history "
    "(set RABBLE_SIM_MAX_INPUT to allow more)",
}


@pytest.mark.parametrize("recorded_files", [False, True], ids=["kv", "recorded"])
def test_a_file_that_is_not_a_history_is_refused_without_being_read(
    tmp_path: Path, recorded_files: bool
) -> None:
    model = ("--model", "kv", "--recorded") if recorded_files else ("--model", "kv")
    for kind, path in hostile_inputs(tmp_path).items():
        done = subprocess.run(
            [sys.executable, "-m", "rabble_sim.cli", "lincheck", *model, str(path)],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT), "RABBLE_SIM_MAX_INPUT": "1M"},
            capture_output=True, text=True, check=False,
            timeout=30,  # a read of the FIFO would block, of /dev/zero would not end
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)),
        )  # fmt: skip
        assert (done.returncode, done.stdout) == (2, ""), (kind, done.stderr)
        assert done.stderr == f"rabble-sim: error: {path}: {SAYS[kind]}\n", kind
