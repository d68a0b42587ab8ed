"""The TCP executor: nodes, the wire, membership, routing and services."""
