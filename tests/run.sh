#!/usr/bin/env bash
# One command, fresh machine: install everything the suite needs, then lint, type-check and test.
#   bash tests/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

# Debian packages: real Prometheus/promtool and Alertmanager/amtool (health, collector, alert tests),
# wrk (benchmark harness smoke test).
if ! command -v promtool >/dev/null || ! command -v amtool >/dev/null || ! command -v prometheus-alertmanager >/dev/null \
   || ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager wrk >/dev/null
  else
    echo "tests/run.sh: promtool/amtool missing and not root: run 'sudo apt-get install prometheus prometheus-alertmanager wrk'" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
export PATH="$PWD/$VENV/bin:$PATH"

echo "== ruff =="
ruff check .
echo "== mypy =="
mypy
echo "== pytest =="
exec python -m pytest "$@"
