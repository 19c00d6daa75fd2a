"""``python -m symbo``: the ``symbo`` command line (see :mod:`symbo.cli`)."""

import sys

from symbo.cli import main

if __name__ == "__main__":
    sys.exit(main())
