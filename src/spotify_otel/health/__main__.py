"""``python -m spotify_otel.health``: the same arguments as ``spotify-otel health``."""

from __future__ import annotations

import sys

from spotify_otel.health._cli import main

if __name__ == "__main__":
    sys.exit(main())
