"""The ``isotrack`` command: a thin shell over the library.

Exit codes: 0 ran, 1 bad input (one-line message on stderr), 2 usage error.
"""

from __future__ import annotations

from isotrack.cli.app import app, main

__all__ = ["app", "main"]
