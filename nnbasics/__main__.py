"""Allow ``python -m nnbasics``."""

import sys

from nnbasics.cli import main

sys.exit(main())
