"""OTLP/HTTP: ``POST /v1/traces``, ``/v1/metrics``, ``/v1/logs`` on a threading ``http.server``.

Bodies are ``application/x-protobuf`` or ``application/json`` (OTLP/JSON, hex ids), optionally
``Content-Encoding: gzip`` or ``deflate``. The answer is the ``Export*ServiceResponse`` in the
request's content type. Errors, as the collector's OTLP receiver answers them (a
``google.rpc.Status`` body in the request's content type where one is known):

- 400 undecodable body or unsupported ``Content-Encoding``;
- 404 unknown path, 405 a method other than POST on a signal path;
- 411 no ``Content-Length`` (and not chunked); 413 body above ``max_body_bytes`` (also after
  decompression); 415 unknown ``Content-Type``;
- 503 / 429 with ``Retry-After`` under the injected faults "unavailable" / "resource_exhausted".
"""

from __future__ import annotations

import threading
import zlib
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from google.protobuf.message import DecodeError, Message
from google.rpc.status_pb2 import Status

from spotify_otel.receiver import otlp_json
from spotify_otel.receiver.http_server_base import QuickHTTPServer, make_server
from spotify_otel.receiver.ingest import SIGNAL_SPECS, SignalSpec, accept, admit
from spotify_otel.receiver.store import TelemetryStore

MAX_BODY_BYTES = 32 * 1024 * 1024
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_PATHS: dict[str, SignalSpec] = {f"/v1/{signal}": spec for signal, spec in SIGNAL_SPECS.items()}
_FAULT_STATUS = {"unavailable": HTTPStatus.SERVICE_UNAVAILABLE, "resource_exhausted": HTTPStatus.TOO_MANY_REQUESTS}
_GRPC_CODE = {400: 3, 413: 8, 429: 8, 503: 14}  # INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAVAILABLE


class BodyTooLarge(Exception):
    """The request body exceeds the configured cap."""


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """Undo ``Content-Encoding`` (identity, gzip, deflate) without inflating beyond ``limit`` bytes.

    Raises ValueError for an unknown encoding or corrupt data and BodyTooLarge above ``limit``.
    """
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = zlib.decompressobj()  # zlib wrapper, as the OTLP exporters send it
    else:
        raise ValueError(f"unsupported Content-Encoding {encoding!r} (use gzip, deflate or none)")
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"corrupt {encoding} body: {exc}") from exc
    if len(data) > limit:
        raise BodyTooLarge(f"decompressed body exceeds {limit} bytes")
    return data


class OTLPHTTPServer(QuickHTTPServer):
    """The OTLP/HTTP server; the handler reads its configuration from these attributes."""

    store: TelemetryStore
    stopping: threading.Event
    retry_after: float
    max_body_bytes: int


class OTLPHTTPHandler(BaseHTTPRequestHandler):
    """Handles one OTLP/HTTP connection (HTTP/1.1 keep-alive)."""

    protocol_version = "HTTP/1.1"
    server_version = "spotify-otel-receiver"
    timeout = 60  # idle keep-alive connections are closed after a minute
    server: OTLPHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line of ``http.server``."""

    # -- responses ---------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_message(self, status: int, message: Message, media: str, headers: dict[str, str] | None = None) -> None:
        body = otlp_json.dumps(message) if media == JSON else message.SerializeToString()
        self._send(status, body, media, headers)

    def _send_error(self, status: int, text: str, media: str | None = None, close: bool = False) -> None:
        headers = {"Connection": "close"} if close else None
        if close:
            self.close_connection = True
        if media in (PROTOBUF, JSON):
            self._send_message(status, Status(code=_GRPC_CODE.get(status, 2), message=text), media, headers)
        else:
            self._send(status, text.encode("utf-8"), "text/plain; charset=utf-8", headers)

    # -- request body ------------------------------------------------------------------------
    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline(64).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > limit:
                raise BodyTooLarge(f"body exceeds {limit} bytes")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _read_body(self, limit: int) -> bytes | None:
        """Return the raw body, or None after answering 411/413 (the connection is then closed)."""
        length_header = self.headers.get("Content-Length")
        try:
            if length_header is None:
                if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
                    self._send_error(HTTPStatus.LENGTH_REQUIRED, "Content-Length required", close=True)
                    return None
                return self._read_chunked(limit)
            length = int(length_header)
            if length < 0:
                raise ValueError(length_header)
        except BodyTooLarge as exc:
            self._send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, str(exc), close=True)
            return None
        except ValueError:
            self._send_error(HTTPStatus.BAD_REQUEST, f"invalid Content-Length {length_header!r}", close=True)
            return None
        if length > limit:
            self._send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body of {length} bytes exceeds {limit}", close=True)
            return None
        return self.rfile.read(length)

    # -- methods -----------------------------------------------------------------------------
    def do_POST(self) -> None:
        """Receive one OTLP export request."""
        spec = _PATHS.get(self.path.split("?", 1)[0])
        if spec is None:
            text = f"unknown path {self.path}; use /v1/traces, /v1/metrics or /v1/logs"
            self._send_error(HTTPStatus.NOT_FOUND, text, close=True)  # body left unread: close
            return
        media = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        server = self.server
        body = self._read_body(server.max_body_bytes)
        if body is None:
            return
        if media not in (PROTOBUF, JSON):
            text = f"unsupported Content-Type {media!r}; use {PROTOBUF} or {JSON}"
            self._send_error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, text)
            return
        encoding = self.headers.get("Content-Encoding", "").strip().lower()
        try:
            data = decompress(body, encoding, server.max_body_bytes)
            request = self._parse(data, media, spec)
        except BodyTooLarge as exc:
            self._send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, str(exc), media)
            return
        except ValueError as exc:
            server.store.record_invalid(spec.signal, "http")
            self._send_error(HTTPStatus.BAD_REQUEST, str(exc), media)
            return
        fault = admit(server.store, spec.signal, "http", server.stopping.is_set)
        if fault is not None:
            headers = {"Retry-After": _format_seconds(server.retry_after)}
            status = _FAULT_STATUS[fault]
            refusal = Status(code=_GRPC_CODE[status], message=f"spotify-otel receiver: injected fault {fault}")
            self._send_message(status, refusal, media, headers)
            return
        accept(server.store, spec, request, "http")
        self._send_message(HTTPStatus.OK, spec.response_type(), media)

    @staticmethod
    def _parse(data: bytes, media: str, spec: SignalSpec) -> Message:
        if media == JSON:
            return otlp_json.parse(data, spec.request_type)
        message = spec.request_type()
        try:
            message.ParseFromString(data)
        except (DecodeError, RuntimeError) as exc:
            raise ValueError(f"cannot decode {spec.request_type.__name__}: {exc}") from exc
        return message

    def _not_allowed(self) -> None:
        if self.path.split("?", 1)[0] in _PATHS:
            body = b"405 method not allowed, supported: [POST]"
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, body, "text/plain", {"Allow": "POST"})
        else:
            self._send_error(HTTPStatus.NOT_FOUND, f"unknown path {self.path}")

    do_GET = do_PUT = do_DELETE = do_PATCH = _not_allowed


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:.3f}".rstrip("0")


def start_http_server(
    host: str,
    port: int,
    store: TelemetryStore,
    stopping: threading.Event,
    retry_after: float,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> OTLPHTTPServer:
    """Bind and start the OTLP/HTTP server on a daemon thread; raises OSError if the port is taken."""
    server = make_server(host, port, OTLPHTTPHandler, OTLPHTTPServer)
    server.store = store
    server.stopping = stopping
    server.retry_after = retry_after
    server.max_body_bytes = max_body_bytes
    server.start("otlp-http")
    return server
