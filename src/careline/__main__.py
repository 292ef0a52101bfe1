"""`python -m careline`: the same as the `careline` command."""

from careline.entrypoints.cli.main import run

run()
