"""The remediation service as a plain ASGI application (no framework), served by uvicorn.

Endpoints:

* ``POST /webhook`` - Alertmanager webhook receiver. Requires ``Authorization: Bearer <token>``
  (Alertmanager: ``http_config.authorization.credentials_file``). Answers 200 with one result per
  alert, 422 when an alert was rejected (unsafe label value; the others are still processed), 400
  for a malformed payload, 401 without a valid token, 413 for a too large body, 415 for a body that
  is not JSON, 500 when the audit log cannot be written (no action runs without its record).
* ``GET /health`` - liveness, no authentication.

Every rejected request and every decision is written to the audit log.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from spotify_otel.remediation.audit import AuditLog
from spotify_otel.remediation.config import RemediationConfig
from spotify_otel.remediation.engine import Remediator
from spotify_otel.remediation.payload import PayloadError, parse_payload

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
SHUTDOWN_GRACE_S = 10.0


class _Reject(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class RemediationApp:
    """ASGI application: ``RemediationApp(config)`` is what uvicorn serves."""

    def __init__(self, config: RemediationConfig, audit: AuditLog | None = None) -> None:
        self.config = config
        self.audit = audit if audit is not None else AuditLog(config.audit_log)
        self.remediator = Remediator(config, self.audit)
        self._token = config.token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.audit.open()
                except OSError as exc:
                    await send({"type": "lifespan.startup.failed", "message": f"audit log: {exc}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.remediator.drain(SHUTDOWN_GRACE_S)
                self.audit.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope.get("path", ""), scope.get("method", "GET")
        if path == "/health":
            if method not in ("GET", "HEAD"):
                await _respond(send, 405, {"error": "use GET"}, {"allow": "GET, HEAD"})
                return
            await _respond(send, 200, {"status": "ok", "dry_run": self.config.dry_run,
                                       "running_actions": self.remediator.running})
            return
        if path != "/webhook":
            await _respond(send, 404, {"error": f"no such endpoint {path}; POST /webhook or GET /health"})
            return
        if method != "POST":
            await _respond(send, 405, {"error": "use POST"}, {"allow": "POST"})
            return
        remote = _remote(scope)
        try:
            headers = _headers(scope)
            self._authenticate(headers)
            body = await self._body(headers, receive)
            alerts = parse_payload(body)
        except _Reject as rejection:
            await self._reject(send, remote, path, rejection.status, rejection.reason)
            return
        except PayloadError as exc:
            await self._reject(send, remote, path, 400, f"malformed payload: {exc}")
            return
        try:
            decisions = self.remediator.handle(alerts, remote)
        except OSError as exc:
            error = f"audit log unavailable; no alert without an audit record was executed: {exc}"
            await _respond(send, 500, {"error": error})
            return
        results = [d.to_dict() for d in decisions]
        rejected = [d for d in decisions if d.decision == "rejected"]
        if rejected:
            error = f"{len(rejected)} alert(s) rejected: " + "; ".join(d.reason for d in rejected)
            await _respond(send, 422, {"status": "rejected", "error": error, "results": results})
            return
        await _respond(send, 200, {"status": "ok", "results": results})

    def _authenticate(self, headers: dict[str, bytes]) -> None:
        supplied = headers.get("authorization")
        if supplied is None:
            raise _Reject(401, "missing bearer token (Authorization: Bearer ...)")
        scheme, _, credentials = supplied.strip().partition(b" ")
        # compare_digest on every path: the time taken does not depend on how much of the token matched.
        valid = hmac.compare_digest(credentials.strip(), self._token)
        if scheme.lower() != b"bearer" or not valid:
            raise _Reject(401, "invalid bearer token")

    async def _body(self, headers: dict[str, bytes], receive: Receive) -> bytes:
        content_type = headers.get("content-type", b"").split(b";")[0].strip().lower()
        if content_type != b"application/json":
            raise _Reject(415, f"content type {content_type.decode('latin-1')!r} is not application/json")
        limit = self.config.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _Reject(413, f"body of {int(declared)} bytes exceeds {limit}")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Reject(400, "client disconnected before sending the body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _Reject(413, f"body exceeds {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _reject(self, send: Send, remote: str, path: str, status: int, reason: str) -> None:
        try:
            self.audit.write(
                "request", decision="rejected", status=status, reason=reason, remote=remote, path=path
            )
        except OSError:
            status, reason = 500, f"{reason} (and the audit log is unavailable)"
        extra = {"www-authenticate": 'Bearer realm="spotify-otel-remediation"'} if status == 401 else {}
        await _respond(send, status, {"error": reason}, extra)


def _headers(scope: Scope) -> dict[str, bytes]:
    return {bytes(name).decode("latin-1").lower(): bytes(value) for name, value in scope.get("headers", [])}


def _remote(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


async def _respond(
    send: Send, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None
) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app(config: RemediationConfig) -> RemediationApp:
    """Build the ASGI application for ``config``."""
    return RemediationApp(config)
