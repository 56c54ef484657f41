"""``python -m spotify_otel`` runs the command line."""

import sys

from spotify_otel.cli import main

sys.exit(main())
