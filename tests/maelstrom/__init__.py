"""Tests of ``rabble-sim maelstrom``, against a driver that plays Maelstrom's side."""
