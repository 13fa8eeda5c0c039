"""`python -m pipeline` runs the same command line as the `mimamori` console script."""

import sys

from pipeline.cli import main

sys.exit(main())
