"""``python -m heroes_sa``: the same as the ``heroes-sa`` command."""

import sys

from heroes_sa.cli import main

sys.exit(main())
