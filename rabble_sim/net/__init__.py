"""The TCP executor: the processes tested in simulation, run by nodes that talk over TCP."""

from ._client import fetch_status as fetch_status, parse_addr as parse_addr
from ._config import NodeConfig as NodeConfig
from ._executor import LocalExecutor as LocalExecutor
from ._framing import MAX_FRAME as MAX_FRAME
from ._handshake import load_secret as load_secret
from ._node import (
    CallLost as CallLost,
    CallTimeout as CallTimeout,
    Node as Node,
)
from ._serve import (
    client_tls as client_tls,
    run as run_node,
    serve as serve,
    tls_contexts as tls_contexts,
)

__all__ = [
    "MAX_FRAME",
    "CallLost",
    "CallTimeout",
    "LocalExecutor",
    "Node",
    "NodeConfig",
    "client_tls",
    "fetch_status",
    "load_secret",
    "parse_addr",
    "run_node",
    "serve",
    "tls_contexts",
]
