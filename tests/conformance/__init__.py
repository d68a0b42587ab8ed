"""The conformance suite: the same processes and requests on the simulator and on real
nodes on loopback must give the same replies, states, dead letters and durable data."""
