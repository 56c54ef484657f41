"""A small HTTP client for probes (stdlib only) that turns transport failures into one clear line.

:func:`request` returns the response for any HTTP status; only transport failures (refused, timed
out, unresolvable, reset) raise :class:`ProbeError`, whose message is the reason shown to the operator.
Credentials in a URL (``http://user:pass@host``) become a Basic ``Authorization`` header and are never
shown: use :func:`display_url` for anything printed.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

MAX_BODY = 8 * 1024 * 1024


class ProbeError(Exception):
    """A probe failed; ``str(exc)`` is the human-readable reason."""


@dataclass(frozen=True)
class Response:
    """An HTTP response: status, body (capped) and the path that was requested."""

    status: int
    body: bytes
    path: str

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def error_reason(self) -> str:
        """The standard reason for a non-2xx answer, e.g. ``HTTP 503 from /-/ready``."""
        return f"HTTP {self.status} from {self.path}"


def display_url(url: str) -> str:
    """The URL without user info, safe to print."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def join(base: str, path: str) -> str:
    """Append ``path`` (starting with '/') to ``base`` without doubling the slash."""
    return base.rstrip("/") + path


def _host_port(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def transport_reason(exc: BaseException, url: str, timeout: float) -> str:
    """Describe a transport failure in one line naming the peer."""
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    peer = _host_port(url)
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"timed out after {timeout:.1f} s"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused to {peer}"
    if isinstance(exc, ConnectionResetError | http.client.RemoteDisconnected):
        return f"connection closed by {peer} before a response"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host {urllib.parse.urlsplit(url).hostname}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error with {peer}: {exc}"
    return f"{type(exc).__name__} talking to {peer}: {exc}"


def request(
    method: str,
    url: str,
    *,
    timeout: float,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Send one request and return the response (any status).

    Raises:
        ProbeError: connection refused, timeout, DNS failure, reset; the message says which.
    """
    parts = urllib.parse.urlsplit(url)
    all_headers = {"User-Agent": "spotify-otel-health", "Accept": "application/json", **(headers or {})}
    if parts.username is not None:
        userinfo = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        all_headers.setdefault("Authorization", "Basic " + base64.b64encode(userinfo.encode()).decode())
        url = display_url(url)
    path = parts.path or "/"
    req = urllib.request.Request(url, data=body, headers=all_headers, method=method)
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = resp.read(MAX_BODY)
            status = int(resp.status)
    except urllib.error.HTTPError as exc:
        try:
            data = exc.read(MAX_BODY)
        except OSError:
            data = b""
        status = exc.code
    except (OSError, http.client.HTTPException) as exc:
        raise ProbeError(transport_reason(exc, url, timeout)) from exc
    if time.monotonic() > deadline:
        raise ProbeError(f"timed out after {timeout:.1f} s")
    return Response(status=status, body=data, path=path)
