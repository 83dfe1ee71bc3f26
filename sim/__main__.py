"""``python -m sim``: the same as the ``sim`` command."""

from sim.cli import entry_point

if __name__ == "__main__":
    entry_point()
