"""Echo: clients send numbered requests to one server and retry until each is answered.

The smallest useful request/reply protocol: it exercises timers, retries, stale and
duplicated replies, and a server crash. ``scenario`` is correct; ``bug_shared_cache``
caches replies by request number alone and hands one client another's payload.
"""

from .messages import EchoReply, EchoRequest
from .processes import EchoClient, EchoServer, payload_for, replies_match_requests
from .scenarios import (
    SERVER,
    bug_shared_cache,
    client_pid,
    every_client_done,
    many_clients,
    scenario,
)

__all__ = [
    "SERVER",
    "EchoClient",
    "EchoReply",
    "EchoRequest",
    "EchoServer",
    "bug_shared_cache",
    "client_pid",
    "every_client_done",
    "many_clients",
    "payload_for",
    "replies_match_requests",
    "scenario",
]
