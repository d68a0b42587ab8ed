"""Reading Jepsen etcd logs and key-value EDN histories; malformed ones are errors naming
the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from rabble_sim.checks import UNKNOWN, Operation, parse_etcd, parse_kv, read_etcd
from rabble_sim.core import UsageError

ETCD = """\
INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:invoke\t:write\t4
INFO  jepsen.util - 2\t:invoke\t:cas\t[4 0]
INFO  jepsen.util - 0\t:ok\t:read\tnil
INFO  jepsen.util - 1\t:info\t:write\t:timed-out
INFO  jepsen.util - 2\t:fail\t:cas\t[4 0]
INFO  jepsen.util - 3\t:invoke\t:read\tnil

INFO  jepsen.util - 3   :fail   :read   :timed-out
INFO  jepsen.util - 4   :invoke :cas    [1 2]
INFO  jepsen.util - 4   :ok     :cas    [1 2]
INFO  jepsen.util - 5   :invoke :read   nil
INFO  jepsen.util - 5   :ok     :read   3
INFO  jepsen.util - 6   :invoke :write  1
"""


def test_an_etcd_log() -> None:
    h = parse_etcd(ETCD, "e.log")
    assert h.source == "e.log"
    assert h.operations == (
        Operation(0, ("read",), None, 1, 4),
        Operation(1, ("write", 4), UNKNOWN, 2, None),  # :info: pending to the end
        Operation(2, ("cas", 4, 0), False, 3, 6),  # the value was not 4
        Operation(3, ("read",), UNKNOWN, 7, 9),  # timed out: constrains nothing
        Operation(4, ("cas", 1, 2), True, 10, 11),
        Operation(5, ("read",), 3, 12, 13),
        Operation(6, ("write", 1), UNKNOWN, 14, None),  # never completed
    )


def test_the_nemesis_lines_of_a_jepsen_log_are_skipped() -> None:
    text = "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n" + ETCD

    def calls(text: str) -> list[tuple[object, ...]]:
        return [(op.process, op.input, op.output) for op in parse_etcd(text).operations]

    assert calls(text) == calls(ETCD)


def test_a_failed_write_did_not_happen() -> None:
    text = "INFO  jepsen.util - 1\t:invoke\t:write\t4\nINFO  jepsen.util - 1\t:fail\t:write\t4\n"
    assert parse_etcd(text).operations == ()


def test_a_kv_history() -> None:
    text = (
        '{:process 0, :type :invoke, :f :get, :key "7", :value nil}\n'
        '{:process 1, :type :invoke, :f :append, :key "7", :value "x \\"q\\" y"}\n'
        '{:process 0, :type :ok, :f :get, :key "7", :value ""}\n'
        '{:process 2, :type :invoke, :f :put, :key "8", :value "a"}\n'
        '{:process 2, :type :fail, :f :put, :key "8", :value "a"}\n'
        '{:process 3 :type :invoke :f :put :key "9" :value "b"}\n'
        '{:process 3, :type :info, :f :put, :key "9", :value "b"}\n'
    )
    assert parse_kv(text, "kv.txt").operations == (
        Operation(0, ("get", "7"), "", 1, 3),
        Operation(1, ("append", "7", 'x "q" y'), UNKNOWN, 2, None),
        Operation(3, ("put", "9", "b"), UNKNOWN, 6, None),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello\n", "e.log:1: not a line of a Jepsen etcd log"),
        ("INFO  jepsen.util - 1\t:invoke\t:frob\t1\n", "e.log:1: unknown operation :frob"),
        ("INFO  jepsen.util - 1\t:start\t:read\tnil\n", "e.log:1: unknown type :start"),
        ("INFO  jepsen.util - 1\t:invoke\t:write\t[1\n", "e.log:1: cannot read the value '\\[1'"),
        ("INFO  jepsen.util - 1\t:invoke\t:write\tnil\n", "e.log:1: a write takes a number"),
        ("INFO  jepsen.util - 1\t:invoke\t:cas\t4\n", "e.log:1: a cas takes \\[FROM TO\\]"),
        ("INFO  jepsen.util - 1\t:ok\t:read\t4\n", "e.log:1: process 1 completes :read, which"),
        (
            "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:write\t1\n",
            "e.log:2: process 1 completes :write, but invoked :read at line 1",
        ),
        (
            "INFO  jepsen.util - 1\t:invoke\t:write\t1\nINFO  jepsen.util - 1\t:ok\t:write\t2\n",
            "e.log:2: process 1 completes :write with other arguments than it invoked at line 1 "
            "\\(1\\)",
        ),
        (
            "INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]\n"
            "INFO  jepsen.util - 1\t:fail\t:cas\t[1 3]\n",
            "e.log:2: process 1 completes :cas with other arguments",
        ),
        (
            "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n"
            "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n",
            "e.log:2: process 1 invokes an operation while the one it invoked at line 1",
        ),
        (
            "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\t:x\n",
            "e.log:2: a read returns nil or a number",
        ),
    ],
)
def test_malformed_etcd_logs(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_etcd(text, "e.log")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("INFO  jepsen.util - 1\t:invoke\t:read\tnil", "k:1: cannot read EDN at column 1"),
        ('{:process 0, :type :invoke, :f :get, :key "7"', "k:1: expected one EDN map"),
        ("{:process 0, :type :invoke, :f :get, :key}", "k:1: an EDN map needs a value"),
        ('{"process" 0}', "k:1: EDN map keys must be keywords"),
        ('{:type :invoke, :f :get, :key "7"}', "k:1: no :process"),
        ('{:process 0, :type :invoke, :f :cas, :key "7"}', "k:1: unknown :f 'cas'"),
        ('{:process 0, :type :begin, :f :get, :key "7"}', "k:1: unknown :type ':begin'"),
        ('{:process 0, :type :invoke, :f :put, :key "7", :value 1}', "k:1: :put takes a string"),
        ('{:process 0, :type :ok, :f :get, :key "7", :value ""}', "k:1: process 0 completes :get"),
        (
            '{:process 0, :type :invoke, :f :get, :key "7", :value nil}\n'
            '{:process 0, :type :ok, :f :get, :key "7", :value nil}',
            "k:2: a :get returns a string",
        ),
        (
            '{:process 0, :type :invoke, :f :get, :key "7", :value nil}\n'
            '{:process 0, :type :ok, :f :get, :key "8", :value ""}',
            "k:2: process 0 completes :get with other arguments than it invoked "
            "at line 1 \\('7'\\)",
        ),
        (
            '{:process 0, :type :invoke, :f :get, :key "7", :value {:a 1}}',
            "k:1: expected one flat EDN map",
        ),
    ],
)
def test_malformed_kv_histories(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_kv(text, "k")


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        read_etcd(tmp_path / "missing.log")
    with pytest.raises(UsageError, match="is a directory"):
        read_etcd(tmp_path)
    (tmp_path / "bin.log").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UsageError, match=r"bin\.log: not UTF-8 text"):
        read_etcd(tmp_path / "bin.log")
