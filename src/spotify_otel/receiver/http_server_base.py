"""A small ``ThreadingHTTPServer`` base that binds fast, never blocks on close, and can drop its clients.

The standard server resolves its own host name on bind (``getfqdn``: a DNS lookup) and joins every
handler thread in ``server_close()``; a test receiver must start in milliseconds and stop even when
a handler is parked (fault mode "hang") or a client keeps an idle keep-alive connection open.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar


class QuickHTTPServer(ThreadingHTTPServer):
    """Daemon-threaded HTTP server that tracks open connections so :meth:`close` can cut them."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__(address, handler)

    def server_bind(self) -> None:
        """Bind without the reverse DNS lookup ``HTTPServer.server_bind`` does."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Remember the connection, then serve it on a daemon thread."""
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection once its handler is done."""
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def start(self, name: str) -> None:
        """Serve on a daemon thread."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
        )
        self._thread.start()

    def close(self, timeout: float = 1.0) -> None:
        """Stop serving, close the listening socket and shut every open client connection."""
        if self._thread is not None:
            self.shutdown()  # returns once serve_forever has left its loop (<= poll_interval)
            self._thread.join(timeout)
            self._thread = None
        self.server_close()
        with self._connections_lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


_S = TypeVar("_S", bound=QuickHTTPServer)


def make_server(host: str, port: int, handler: type[BaseHTTPRequestHandler], server_class: type[_S]) -> _S:
    """Bind ``server_class`` on ``host:port`` (IPv6 when ``host`` contains ':'); raises OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    cls: type[_S] = type(server_class.__name__, (server_class,), {"address_family": family})
    return cls((host, port), handler)
