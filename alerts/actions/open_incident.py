#!/usr/bin/env python3
"""Example remediation action: open (or update) an incident file for a tenant.

Run by `spotify-otel remediate` as an argv list (never through a shell):

    open_incident.py --service spotify/example-fastapi --tenant acme --alert 4f1c2a9be0d3c7aa

The alert itself arrives as JSON on stdin. The incident lands in $INCIDENT_DIR (set through the
action's `env` in remediation.yaml) as <tenant>.json, which a real deployment would replace with a
call to its incident tool, a feature-flag flip or a traffic shift for that tenant.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/@-]{0,199}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--alert", required=True, help="Alertmanager fingerprint")
    args = parser.parse_args(argv)
    for value in (args.service, args.tenant, args.alert):
        if not SAFE.fullmatch(value) or ".." in value:  # defence in depth: the service validated already
            print(f"refusing unsafe value {value!r}", file=sys.stderr)
            return 2
    alert = json.loads(sys.stdin.read() or "{}")
    directory = Path(os.environ.get("INCIDENT_DIR", "/var/lib/spotify-otel/incidents"))
    directory.mkdir(parents=True, exist_ok=True)
    record = {
        "opened": datetime.now(UTC).isoformat(),
        "service": args.service,
        "tenant": args.tenant,
        "fingerprint": args.alert,
        "alertname": alert.get("alertname", ""),
        "summary": alert.get("annotations", {}).get("summary", ""),
    }
    (directory / f"{args.tenant}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"incident for tenant {args.tenant} on {args.service} recorded in {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
