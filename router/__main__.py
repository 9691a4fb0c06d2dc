"""`python -m router ...` is the `tokenwise` command."""

import sys

from router.cli import main

sys.exit(main())
