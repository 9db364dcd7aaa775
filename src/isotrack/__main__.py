"""``python -m isotrack`` runs the command line."""

from isotrack.cli import main

main()
