#!/usr/bin/env python
"""Django's command-line utility for the music example.

``python manage.py runserver --noreload`` sets up telemetry itself (one line below);
``opentelemetry-instrument python manage.py runserver --noreload`` sets it up before this file runs,
and the guard then leaves it alone.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run a management command; telemetry is set up for ``runserver`` only."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicsite.settings")
    if len(sys.argv) > 1 and sys.argv[1] == "runserver":
        from spotify_otel import get_telemetry, init_telemetry

        if get_telemetry() is None:  # not already set up by opentelemetry-instrument
            init_telemetry(os.environ.get("OTEL_SERVICE_NAME", "music-api"))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
