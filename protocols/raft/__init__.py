"""Raft (Ongaro and Ousterhout, 2014) as an embeddable library, and a replicated key-value
service on it with Maelstrom's ``lin-kv`` semantics.

``Raft`` is what a host process embeds (``raft``); ``Server`` is such a host, a key-value
store (``server``, ``kv``); ``Client`` a simulated client taking generated inputs. The
scenarios ``scenario`` (three servers) and ``five_servers`` are correct; each ``bug_*``
scenario reintroduces one classic mistake. ``maelstrom`` runs a server as a Maelstrom
``lin-kv`` node.
"""

from .checks import INVARIANTS, POSTCONDITIONS, every_request_completes
from .client import Answer, Client, client_pid
from .kv import LIN_KV, LinKvModel, Store, outcome
from .maelstrom import maelstrom
from .messages import (
    Appended,
    AppendEntries,
    Call,
    Cas,
    CasOk,
    Command,
    Entry,
    Forward,
    Persistent,
    Read,
    ReadOk,
    RequestVote,
    Vote,
    Write,
    WriteOk,
)
from .raft import Raft
from .scenarios import (
    FAULTS,
    bug_figure8,
    bug_figure8_five,
    bug_no_log_check,
    bug_skip_prev_check,
    bug_stale_leader_reads,
    bug_truncate_on_append,
    bug_vote_not_persisted,
    five_servers,
    raft_scenario,
    scenario,
)
from .server import Server, server_pid
from .state import CANDIDATE, FOLLOWER, LEADER, NO_BUGS, Bugs, RaftState

__all__ = [
    "CANDIDATE",
    "FAULTS",
    "FOLLOWER",
    "INVARIANTS",
    "LEADER",
    "LIN_KV",
    "NO_BUGS",
    "POSTCONDITIONS",
    "Answer",
    "AppendEntries",
    "Appended",
    "Bugs",
    "Call",
    "Cas",
    "CasOk",
    "Client",
    "Command",
    "Entry",
    "Forward",
    "LinKvModel",
    "Persistent",
    "Raft",
    "RaftState",
    "Read",
    "ReadOk",
    "RequestVote",
    "Server",
    "Store",
    "Vote",
    "Write",
    "WriteOk",
    "bug_figure8",
    "bug_figure8_five",
    "bug_no_log_check",
    "bug_skip_prev_check",
    "bug_stale_leader_reads",
    "bug_truncate_on_append",
    "bug_vote_not_persisted",
    "client_pid",
    "every_request_completes",
    "five_servers",
    "maelstrom",
    "outcome",
    "raft_scenario",
    "scenario",
    "server_pid",
]
