"""The counter protocol as the text of a module, for tests that write a protocol module
to disk and run the real command line or pytest on it.

Node ``a`` sends bumps of 1, 2 and 3 to node ``b``, whose ``below_limit`` invariant says
its total stays at most ``LIMIT``: with ``COUNTER.format(limit=4)`` two of the bumps break
it (the bug), with ``limit=6`` nothing can (the fix). ``start`` and ``scenario`` are
module-level names, so that a test can append its own ``start`` and rebind ``scenario``.
"""

COUNTER = """
import attrs
from rabble_sim import Envelope, Pid, Scenario, message

LIMIT = {limit}

@message("counter.bump")
@attrs.frozen
class Bump:
    by: int

@attrs.define
class Counter:
    pid: Pid
    total: int = 0

    def init(self, output):
        if self.pid.node == "a":
            for by in (1, 2, 3):
                output.append(Envelope(Pid("counter", "b"), self.pid, Bump(by)))

    def handle(self, msg, from_, cid, output):
        self.total += msg.by

def below_limit(view):
    for proc in view.processes.values():
        assert proc.total <= LIMIT, f"total {{proc.total}} is over {{LIMIT}}"

start = lambda node, durable: [Counter(Pid("counter", node))]
scenario = Scenario("counter", ["a", "b"], start, [below_limit])
"""
