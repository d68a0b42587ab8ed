"""Checks of a whole run: client histories and their linearizability.

``check_linearizability(model, history)`` runs the Wing-Gong/Lowe search (with
memoisation, P-compositionality and operations never completed) against a sequential
``Model``: ``RegisterModel`` and ``KvModel`` come with it. ``read_etcd`` and ``read_kv``
read Jepsen histories, ``read_recorded`` and ``recorded_events`` the ``history.jsonl``
files of real nodes; ``linearizable(model)`` checks a run's client history.
"""

from ._history import (
    UNKNOWN as UNKNOWN,
    History as History,
    Operation as Operation,
    history_from_events as history_from_events,
)
from ._linearizability import (
    Explanation as Explanation,
    LinearizabilityResult as LinearizabilityResult,
    check_linearizability as check_linearizability,
    linearizable as linearizable,
)
from ._models import KvModel as KvModel, Model as Model, RegisterModel as RegisterModel
from ._parse import (
    parse_etcd as parse_etcd,
    parse_kv as parse_kv,
    read_etcd as read_etcd,
    read_kv as read_kv,
)
from ._recorded import (
    TornLineWarning as TornLineWarning,
    read_recorded as read_recorded,
    recorded_events as recorded_events,
)

__all__ = [
    "UNKNOWN",
    "Explanation",
    "History",
    "KvModel",
    "LinearizabilityResult",
    "Model",
    "Operation",
    "RegisterModel",
    "TornLineWarning",
    "check_linearizability",
    "history_from_events",
    "linearizable",
    "parse_etcd",
    "parse_kv",
    "read_etcd",
    "read_kv",
    "read_recorded",
    "recorded_events",
]
