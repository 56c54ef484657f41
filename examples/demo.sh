#!/usr/bin/env bash
# One command, fresh machine: create a virtualenv, install spotify-otel with the examples' dependencies,
# and run the demo (instrumented multi-tenant services + local OTLP receiver). No docker needed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[all]" uvicorn fastapi httpx requests
exec "$VENV/bin/python" -m examples.demo "$@"
