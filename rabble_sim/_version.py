"""The version of rabble-sim, written into every schedule file."""

__version__ = "0.1.0"
