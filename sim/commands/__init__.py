"""Command-line verbs, one module each (see :mod:`sim.cli`)."""
