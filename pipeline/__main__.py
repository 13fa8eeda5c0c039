"""`python -m pipeline` runs the same command line as the `mimamori` console script."""

from pipeline.cli import entry

entry()
