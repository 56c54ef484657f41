"""Serve :class:`~spotify_otel.receiver.prometheus.PrometheusState` at ``GET /metrics``."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any

from spotify_otel.receiver.http_server_base import QuickHTTPServer, make_server
from spotify_otel.receiver.prometheus import CONTENT_TYPE, PrometheusState


class PrometheusHTTPServer(QuickHTTPServer):
    """Holds the state the handler renders."""

    state: PrometheusState


class PrometheusHandler(BaseHTTPRequestHandler):
    """``GET /metrics`` (also ``HEAD``); anything else is 404."""

    protocol_version = "HTTP/1.1"
    server_version = "spotify-otel-receiver"
    timeout = 60
    server: PrometheusHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line of ``http.server``."""

    def _respond(self, with_body: bool) -> None:
        if self.path.split("?", 1)[0] != "/metrics":
            body, status, ctype = b"not found; scrape /metrics\n", 404, "text/plain; charset=utf-8"
        else:
            body, status, ctype = self.server.state.render().encode("utf-8"), 200, CONTENT_TYPE
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self) -> None:
        """Render the exposition."""
        self._respond(with_body=True)

    def do_HEAD(self) -> None:
        """Headers only."""
        self._respond(with_body=False)


def start_prometheus_server(host: str, port: int, state: PrometheusState) -> PrometheusHTTPServer:
    """Bind and start the ``/metrics`` endpoint on a daemon thread; raises OSError if the port is taken."""
    server = make_server(host, port, PrometheusHandler, PrometheusHTTPServer)
    server.state = state
    server.start("otlp-prometheus")
    return server
