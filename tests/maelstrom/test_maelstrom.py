"""``rabble-sim maelstrom``: real node subprocesses, driven as Maelstrom drives them."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest

from rabble_sim import CorrelationId, Envelope, Pid
from rabble_sim.codec import Codec

from .counter import Add
from .driver import ROOT, Maelstrom, command

ECHO = "protocols.echo:maelstrom"
COUNTER = "tests.maelstrom.counter:node"

# doc/02-echo/index.md of jepsen-io/maelstrom. The init line as the guide's log shows
# Maelstrom sending it ("Received \"{\\\"dest\\\":\\\"n1\\\", ...}\""), and the first echo
# request, which the guide's log shows received from c3, written the same way.
GUIDE_INIT = (
    b'{"dest":"n1","body":{"type":"init","node_id":"n1","node_ids":["n1"],"msg_id":1},"src":"c1"}'
)
GUIDE_ECHO = b'{"dest":"n1","body":{"type":"echo","echo":"Please echo 29","msg_id":1},"src":"c3"}'
# What the guide's echo.rb writes for them: JSON.dump of {src:, dest:, body:}, the body
# the request's with type echo_ok (or {type: "init_ok"}), then msg_id and in_reply_to.
GUIDE_INIT_OK = b'{"src":"n1","dest":"c1","body":{"type":"init_ok","msg_id":1,"in_reply_to":1}}'
GUIDE_ECHO_OK = (
    b'{"src":"n1","dest":"c3","body":{"type":"echo_ok","echo":"Please echo 29",'
    b'"msg_id":2,"in_reply_to":1}}'
)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def error(code: int) -> Callable[[dict[str, object]], bool]:
    return lambda body: body["type"] == "error" and body["code"] == code


@pytest.fixture(scope="module")
def counter() -> Iterator[Maelstrom]:
    """One initialised node n1 of the counter protocol, shared by the tests of bad input
    (each uses a client of its own)."""
    with Maelstrom(COUNTER, ["n1"]) as cluster:
        cluster.init()
        yield cluster
    assert cluster.exit_codes == {"n1": 0}
    assert cluster.not_envelopes == []


# -- the echo of Maelstrom's guide ---------------------------------------------------------


def test_the_echo_exchange_of_maelstroms_guide_byte_for_byte() -> None:
    with Maelstrom(ECHO, ["n1"]) as cluster:
        cluster.write("n1", GUIDE_INIT)
        cluster.write("n1", GUIDE_ECHO)
        cluster.receive("c3")
        node = cluster.nodes["n1"]
    assert node.out == [GUIDE_INIT_OK, GUIDE_ECHO_OK]
    assert cluster.exit_codes == {"n1": 0}  # end of input: exit 0
    assert cluster.not_envelopes == []


def test_the_guides_last_run_gets_the_replies_its_log_shows() -> None:
    # The guide's passing run logs each reply Maelstrom got, e.g.
    # {:echo "Please echo 58", :type "echo_ok", :msg_id 2, :in_reply_to 1}.
    with Maelstrom(ECHO, ["n1"]) as cluster:
        cluster.init()
        replies = [
            cluster.request("n1", {"type": "echo", "echo": f"Please echo {n}"})
            for n in (58, 124, 12)
        ]
    assert replies == [
        {"echo": "Please echo 58", "type": "echo_ok", "msg_id": 2, "in_reply_to": 1},
        {"echo": "Please echo 124", "type": "echo_ok", "msg_id": 3, "in_reply_to": 2},
        {"echo": "Please echo 12", "type": "echo_ok", "msg_id": 4, "in_reply_to": 3},
    ]
    assert cluster.exit_codes == {"n1": 0}
    assert cluster.not_envelopes == []


def test_echo_sends_back_any_json_value() -> None:
    with Maelstrom(ECHO, ["n1"]) as cluster:
        cluster.init()
        for value in (0, -1.5, None, True, "ünïcødé ✓", [1, [2]], {"a": {"b": []}}):
            reply = cluster.request("n1", {"type": "echo", "echo": value})
            assert reply["type"] == "echo_ok" and reply["echo"] == value
    assert cluster.exit_codes == {"n1": 0}
    assert cluster.not_envelopes == []


# -- before and around init -------------------------------------------------------------------


def test_init_is_checked_and_a_node_waits_for_it() -> None:
    # An envelope from node n2 that comes before init: kept, and delivered after it.
    cid = CorrelationId(Pid("front", "n2"), 1)
    early = Envelope(Pid("counter", "n1"), Pid("front", "n2"), Add(5), cid)
    rabble = json.loads(Codec("json").encode_envelope(early))
    with Maelstrom(COUNTER, ["n1"]) as cluster:
        send = cluster.send
        send("n1", {"type": "rabble", "envelope": rabble}, src="n2")
        assert cluster.request("n1", {"type": "read"}) == {
            "type": "error",
            "code": 11,
            "text": "node n1 has not received Maelstrom's init yet",
            "msg_id": 1,
            "in_reply_to": 1,
        }
        bad_inits = [
            {"type": "init"},
            {"type": "init", "node_id": 1, "node_ids": ["n1"]},
            {"type": "init", "node_id": "n1", "node_ids": "n1"},
            {"type": "init", "node_id": "n1", "node_ids": ["n2"]},
            {"type": "init", "node_id": "n1", "node_ids": ["n1", "n1"]},
            {"type": "init", "node_id": "n1", "node_ids": ["n1", "maelstrom"]},
        ]
        for body in bad_inits:
            assert error(12)(cluster.request("n1", body)), body
        good = {"type": "init", "node_id": "n1", "node_ids": ["n1", "n2"]}
        assert cluster.request("n1", good)["type"] == "init_ok"
        assert cluster.request("n1", good)["type"] == "init_ok"  # the same again: the same answer
        other = {"type": "init", "node_id": "n2", "node_ids": ["n1", "n2"]}
        assert error(12)(cluster.request("n1", other))
        # The early Add counted; its reply went to n2, whose envelope the driver routes
        # nowhere (there is no n2 process here), so it is in n2's mailbox.
        assert cluster.request("n1", {"type": "read"})["value"] == 5
    assert cluster.exit_codes == {"n1": 0}
    assert cluster.not_envelopes == []


def test_end_of_input_before_init_exits_0() -> None:
    with Maelstrom(ECHO, ["n1"]) as cluster:
        pass
    assert cluster.exit_codes == {"n1": 0}
    assert cluster.nodes["n1"].out == []


# -- bad input -------------------------------------------------------------------------------


def test_lines_that_are_not_envelopes_are_logged_once_each_and_skipped(counter: Maelstrom) -> None:
    node = counter.nodes["n1"]
    before = len(node.err)
    bad = [
        b"not json",
        b"[1, 2, 3]",
        b'{"src": "c9", "dest": "n1"}',
        b'{"src": 1, "dest": "n1", "body": {"type": "read"}}',
        b'{"src": "c9", "dest": "n1", "body": {"msg_id": 5}}',
        b'{"src": "c9", "dest": "n1", "body": {"type": 3}}',
        b"\xff\xfe\x00",
        b'{"src": "c9", "dest": "n7", "body": {"type": "read", "msg_id": 1}}',
        b'{"src": "c9", "dest": "n1", "body": {"type": "read", "msg_id": 1}',  # cut short
    ]
    for line in [*bad, b"", b"   "]:
        counter.write("n1", line)
    assert counter.request("n1", {"type": "read"}, client="c9")["type"] == "read_ok"
    wait_for(lambda: len(node.err) >= before + len(bad))
    time.sleep(0.05)
    assert len(node.err) == before + len(bad), node.err[before:]  # one line each, no traceback
    assert not any("Traceback" in line for line in node.err[before:])
    assert counter.mailbox("c9") == []  # nothing answered them


def test_an_unknown_body_type_gets_error_10(counter: Maelstrom) -> None:
    for kind in ("frobnicate", "rabble", "init_ok"):
        reply = counter.request("n1", {"type": kind}, client="c10")
        assert error(10)(reply), reply
        assert repr(kind) in str(reply["text"])


def test_fields_that_do_not_fit_the_class_get_error_12(counter: Maelstrom) -> None:
    for body, says in [
        ({"type": "add"}, "missing required field `delta`"),
        ({"type": "add", "delta": "3"}, "Expected `int`, got `str` - at `$.delta`"),
        ({"type": "add", "delta": 1, "extra": 2}, "no field 'extra'"),
        ({"type": "cas", "key": 1, "from_": 1, "to": 2}, "no field 'from_'"),
        ({"type": "cas", "key": 1, "to": 2}, "missing required field `from`"),
    ]:
        reply = counter.request("n1", body, client="c12")
        assert error(12)(reply), reply
        assert says in str(reply["text"]), reply
    counter.send("n1", {"type": "read", "msg_id": "one"}, src="c12")
    reply = counter.receive("c12")["body"]
    assert error(12)(reply) and "in_reply_to" not in reply


def test_a_python_keyword_field_is_the_keyword_in_the_body(counter: Maelstrom) -> None:
    reply = counter.request("n1", {"type": "cas", "key": 1, "from": 2, "to": 3}, client="c13")
    assert list(reply.items())[:3] == [("type", "cas_ok"), ("from", 2), ("to", 3)]
    assert list(reply) == ["type", "from", "to", "msg_id", "in_reply_to"]


def test_an_exception_in_handle_answers_error_13_and_the_node_goes_on(counter: Maelstrom) -> None:
    reply = counter.request("n1", {"type": "crash"}, client="c14")
    assert error(13)(reply)
    assert "front::n1 raised while handling this 'crash'" in str(reply["text"])
    assert counter.request("n1", {"type": "add", "delta": 0}, client="c14")["type"] == "add_ok"
    wait_for(lambda: "RuntimeError: the front was asked to crash" in counter.nodes["n1"].log)


def test_a_reply_without_a_body_type_answers_error_13(counter: Maelstrom) -> None:
    reply = counter.request("n1", {"type": "mute"}, client="c15")
    assert error(13)(reply)
    assert "Unmapped, a message with no body type" in str(reply["text"])


def test_what_a_process_prints_goes_to_stderr(counter: Maelstrom) -> None:
    reply = counter.request("n1", {"type": "shout", "text": "HELLO FROM handle"}, client="c16")
    assert reply["type"] == "shout_ok"
    wait_for(lambda: "HELLO FROM handle" in counter.nodes["n1"].err)
    assert not any(b"HELLO" in line for line in counter.nodes["n1"].out)
    assert counter.not_envelopes == []


def test_timers_run_on_the_real_clock_and_random_comes_from_the_os(counter: Maelstrom) -> None:
    began = time.monotonic()
    assert counter.request("n1", {"type": "later", "ms": 100}, client="c17")["type"] == "later_ok"
    assert time.monotonic() - began >= 0.1
    roll = {"type": "roll", "below": 4}
    values = {counter.request("n1", roll, client="c17")["value"] for _ in range(40)}
    assert values <= {0, 1, 2, 3} and len(values) > 1


def test_a_request_to_a_service_gets_its_reply_back(counter: Maelstrom) -> None:
    counter.send("n1", {"type": "ask", "key": "k", "msg_id": 7}, src="c18")
    asked = counter.receive("lin-kv")
    assert asked["body"] == {"type": "kv_read", "key": "k", "msg_id": asked["body"]["msg_id"]}
    answer = {"type": "kv_read_ok", "value": 42, "in_reply_to": asked["body"]["msg_id"]}
    counter.send("n1", answer, src="lin-kv")
    assert counter.receive("c18")["body"]["value"] == 42


# -- the command -----------------------------------------------------------------------------


def test_a_bad_module_name_exits_2_with_one_line() -> None:
    references = ["protocols.echo", "no_such_module_here:node", "tests.maelstrom.counter:BODIES"]
    runs = [
        subprocess.Popen(
            [*command(), "maelstrom", ref],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for ref in references
    ]
    for ref, run in zip(references, runs, strict=True):
        out, err = run.communicate(timeout=10)
        assert run.returncode == 2, (ref, err)
        assert out == ""
        assert err.startswith("rabble-sim: error: ") and err.count("\n") == 1, err
    assert "is not a Maelstrom node; maelstrom nodes there: broken, elsewhere, node" in err


@pytest.mark.parametrize(
    ("name", "says"),
    [("broken", "raised RuntimeError('no processes today')"), ("elsewhere", "nobody::n1")],
)
def test_a_start_that_fails_answers_init_with_error_13_and_exits_2(name: str, says: str) -> None:
    with Maelstrom(f"tests.maelstrom.counter:{name}", ["n1"]) as cluster:
        cluster.send("n1", {"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": ["n1"]})
        reply = cluster.receive("c1")["body"]
        assert error(13)(reply) and says in str(reply["text"]), reply
    assert cluster.exit_codes == {"n1": 2}
    log = cluster.nodes["n1"].err
    assert log[-1].startswith("rabble-sim: error: ") and says in log[-1]
    assert not any("Traceback" in line for line in log)


# -- several nodes ---------------------------------------------------------------------------


def test_nodes_talk_to_each_other_through_maelstroms_network() -> None:
    with Maelstrom(COUNTER, ["n1", "n2", "n3"]) as cluster:
        cluster.init()
        assert cluster.request("n2", {"type": "add", "delta": 3})["type"] == "add_ok"
        assert cluster.request("n3", {"type": "add", "delta": 4}, client="c2")["type"] == "add_ok"
        assert cluster.request("n3", {"type": "read"})["value"] == 7  # n3 asked n1
        assert cluster.request("n1", {"type": "read"})["value"] == 7
        hops = [json.loads(line) for line in cluster.nodes["n2"].out]
        assert [h["dest"] for h in hops if h["body"]["type"] == "rabble"] == ["n1"]
        # Cut n2 off from n1: its requests go unanswered; n3's still work.
        cluster.blocked.add(("n2", "n1"))
        with pytest.raises(TimeoutError):
            cluster.request("n2", {"type": "read"}, timeout=0.3)
        assert cluster.request("n3", {"type": "read"})["value"] == 7
        # A front that stopped: the node answers its clients with error 11.
        cluster.send("n3", {"type": "halt", "msg_id": 99})
        reply = cluster.request("n3", {"type": "read"})
        assert error(11)(reply) and "front::n3" in str(reply["text"])
    assert cluster.exit_codes == {"n1": 0, "n2": 0, "n3": 0}
    assert cluster.not_envelopes == []
