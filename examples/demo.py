"""The demo: a multi-tenant music API and its recommender, instrumented by spotify-otel, with traffic
from several tenants, and the local OTLP receiver printing what arrives (span trees with their tenant,
log lines, a per-tenant summary). No docker, no collector: the receiver is the embedded default.

    python -m examples.demo [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from examples.traffic import call, drive

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TENANTS = ("acme", "globex", "initech", "umbrella")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early (code {process.returncode})")
        if call(url, "", None) == 200:
            return
        time.sleep(0.2)
    raise SystemExit(f"{url} not ready after {timeout}s")


def start_server(name: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    argv = [str(BIN / "uvicorn"), "examples.fastapi_app.app:app", "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--log-level", "warning"]
    with log.open("ab") as out:
        return subprocess.Popen(argv, cwd=ROOT, env={**env, "OTEL_SERVICE_NAME": name, "PORT": str(port)},
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def traffic(base: str, seconds: float) -> dict[str, int]:
    paths = ["/api/tracks/1", "/api/tracks/2", "/api/search?q=miles", "/api/recommendations?genre=jazz",
             "/api/tracks/99", "/api/fail"]
    weights = [30, 20, 20, 15, 8, 4]
    sent = {tenant: 0 for tenant in TENANTS}
    rng = random.Random(7)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        tenant = rng.choice(TENANTS)
        call(base, rng.choices(paths, weights)[0], tenant)
        sent[tenant] += 1
        time.sleep(0.05)
    call(base, "/api/jobs/refresh?tenants=acme,globex", None, method="POST")  # background job, tenant_context
    return sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to send traffic")
    args = parser.parse_args(argv)

    grpc_port, http_port, api_port, reco_port = (free_port() for _ in range(4))
    logs = Path(tempfile.mkdtemp(prefix="spotify-otel-demo-"))
    receiver = subprocess.Popen([str(BIN / "spotify-otel"), "receive", "--grpc-port", str(grpc_port),
                                 "--http-port", str(http_port), "--summary-interval", "5",
                                 "--jsonl", str(logs / "telemetry.jsonl")], cwd=ROOT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SPOTIFY_OTEL_"))}
    env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{grpc_port}", "PYTHONPATH": str(ROOT),
                "ALERTMANAGER_URL": f"http://127.0.0.1:{free_port()}",  # none in the demo: failures are counted
                "SPOTIFY_OTEL_METRIC_EXPORT_INTERVAL": "2000", "SPOTIFY_OTEL_ENVIRONMENT": "demo"})
    recommender = start_server("recommender", reco_port, {**env, "SPOTIFY_OTEL_TRUST_INBOUND_BAGGAGE": "true",
                                                          "SPOTIFY_OTEL_TENANT_SOURCES": "header,baggage"},
                               logs / "recommender.log")
    api = start_server("music-api", api_port, {**env, "RECOMMENDER_URL": f"http://127.0.0.1:{reco_port}"},
                       logs / "music-api.log")
    try:
        wait_ready(f"http://127.0.0.1:{reco_port}/health", recommender)
        wait_ready(f"http://127.0.0.1:{api_port}/health", api)
        print(f"\n== demo: music-api on :{api_port} -> recommender on :{reco_port}; traffic from "
              f"{', '.join(TENANTS)} for {args.seconds:.0f}s ==\n", flush=True)
        sent = traffic(f"http://127.0.0.1:{api_port}", args.seconds)
        print(f"\n== requests sent per tenant: {sent} ==\n", flush=True)
        # one round of everything else: failed logins, an abuse burst, drifted ML inputs, slow requests ...
        print(f"\n== platform events (security, ML drift, SLO, cost): {drive(f'http://127.0.0.1:{api_port}')} ==\n",
              flush=True)
    finally:
        for server in (api, recommender):  # SIGTERM: each server flushes its telemetry before exiting
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
        for server in (api, recommender):
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        time.sleep(1.5)  # let the receiver print the last traces it grouped
        receiver.send_signal(signal.SIGINT)
        receiver.wait(10)
    print(f"\n== every span, log record and metric point as JSON lines: {logs / 'telemetry.jsonl'} ==")
    print(f"== server logs: {logs} ==")
    return 0


if __name__ == "__main__":
    sys.exit(main())
