"""Traffic from several tenants that exercises every kind of telemetry the example app produces:
requests, errors, slow requests (SLO), logins failing, authorization failures, an abuse burst, ML
inferences with drifted inputs, conversions, incidents. Used by the demo and the end-to-end tests.

    python -m examples.traffic http://127.0.0.1:8000 [rounds]
"""

from __future__ import annotations

import random
import sys
import urllib.error
import urllib.parse
import urllib.request

TENANTS = ("acme", "globex", "initech")


def call(base_url: str, path: str, tenant: str | None, method: str = "GET",
         headers: dict[str, str] | None = None) -> int:
    """One request; returns the HTTP status (0 when the server could not be reached)."""
    all_headers = dict(headers or {})
    if tenant is not None:
        all_headers["X-Tenant-ID"] = tenant
    request = urllib.request.Request(base_url + path, headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def drive(base_url: str, rounds: int = 1, seed: int = 7) -> dict[str, int]:
    """Send ``rounds`` rounds of mixed traffic; returns the count of responses per status code."""
    rng = random.Random(seed)
    statuses: dict[str, int] = {}

    def hit(path: str, tenant: str | None, method: str = "GET", headers: dict[str, str] | None = None) -> None:
        status = str(call(base_url, path, tenant, method, headers))
        statuses[status] = statuses.get(status, 0) + 1

    for _ in range(rounds):
        for tenant in TENANTS:
            for track in (1, 2, 3, 99):  # 99: a 404
                hit(f"/api/tracks/{track}", tenant)
            hit("/api/search?q=miles", tenant)
            # ML: initech's listeners drift to much faster tempos than the training data
            for _ in range(12):
                tempo = rng.gauss(175, 10) if tenant == "initech" else rng.gauss(120, 12)
                genre = rng.choice(["electronic", "electronic", "jazz"]) if tenant == "initech" else "jazz"
                hit("/api/recommendations?" + urllib.parse.urlencode({"tempo": f"{tempo:.1f}", "genre": genre}),
                    tenant)
            hit("/api/login?user=eve&password=guess", tenant, "POST")
            hit("/api/admin/reports", tenant)
            hit(f"/api/checkout?active_users={rng.randint(50, 500)}", tenant, "POST")
            hit("/api/slow?ms=350", tenant)  # over the 300 ms latency objective
        hit("/api/fail", "acme")  # errors for one tenant only
        hit("/api/search?q=x", "not a tenant!")  # rejected by validation, served as tenant "unknown"
        hit("/api/incidents?name=search_outage&impact_usd=125.5&queue=7", "acme", "POST")
        for _ in range(25):  # one client of globex goes over the abuse threshold (20 in 10 s)
            hit("/api/search?q=a", "globex", headers={"X-Client-ID": "scraper-1"})
    return statuses


if __name__ == "__main__":
    print(drive(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1))
