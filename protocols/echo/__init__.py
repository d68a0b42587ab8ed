"""Echo: clients send numbered requests to one server and retry until each is answered.

The smallest useful request/reply protocol: it exercises timers, retries, stale and
duplicated replies, and a server crash. ``scenario`` is correct; ``bug_shared_cache``
caches replies by request number alone and hands one client another's payload. Each has
a ``*_generated`` twin whose clients send payloads given as generated inputs (``Say``).
"""

from .maelstrom import maelstrom
from .messages import EchoReply, EchoRequest, Say
from .processes import EchoClient, EchoServer, payload_for, replies_match_requests
from .scenarios import (
    PAYLOADS,
    SERVER,
    bug_shared_cache,
    bug_shared_cache_generated,
    client_pid,
    every_client_done,
    make_say,
    many_clients,
    scenario,
    scenario_generated,
)

__all__ = [
    "PAYLOADS",
    "SERVER",
    "EchoClient",
    "EchoReply",
    "EchoRequest",
    "EchoServer",
    "Say",
    "bug_shared_cache",
    "bug_shared_cache_generated",
    "client_pid",
    "every_client_done",
    "maelstrom",
    "make_say",
    "many_clients",
    "payload_for",
    "replies_match_requests",
    "scenario",
    "scenario_generated",
]
