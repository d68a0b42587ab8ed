"""Reference protocols: each a package with its messages, processes, scenarios and known bugs."""
