"""``python -m redline``: the same as the ``redline`` command."""

from __future__ import annotations

import sys

from redline.cli.main import main

sys.exit(main())
