"""OTLP/JSON: the protobuf JSON mapping, except that trace and span ids are hex strings.

The OTLP specification deviates from the canonical proto3 JSON mapping for ``traceId``,
``spanId`` and ``parentSpanId`` (hex instead of base64). ``google.protobuf.json_format`` only
knows base64, so ids are converted before parsing and after printing.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
_M = TypeVar("_M", bound=Message)


class OTLPJSONError(ValueError):
    """The body is not valid OTLP/JSON for the expected message."""


def _map_ids(node: Any, convert: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: convert(k, v) if k in _ID_KEYS and isinstance(v, str) and v else _map_ids(v, convert)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_map_ids(v, convert) for v in node]
    return node


def _hex_to_b64(key: str, value: str) -> str:
    try:
        raw = bytes.fromhex(value)
    except ValueError as exc:
        raise OTLPJSONError(f"{key} {value!r} is not a hex string") from exc
    return base64.b64encode(raw).decode("ascii")


def _b64_to_hex(key: str, value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - json_format always emits base64
        raise OTLPJSONError(f"{key} {value!r} is not base64") from exc


def parse(body: bytes, message_type: type[_M]) -> _M:
    """Parse an OTLP/JSON body into ``message_type``; raises :class:`OTLPJSONError`."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise OTLPJSONError(f"invalid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise OTLPJSONError("an OTLP/JSON body must be a JSON object")
    message: _M = message_type()
    try:
        json_format.ParseDict(_map_ids(document, _hex_to_b64), message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise OTLPJSONError(str(exc)) from exc
    return message


def to_dict(message: Message) -> dict[str, Any]:
    """Render ``message`` as an OTLP/JSON document (camelCase keys, hex ids)."""
    document = json_format.MessageToDict(message)
    converted: dict[str, Any] = _map_ids(document, _b64_to_hex)
    return converted


def dumps(message: Message) -> bytes:
    """Serialise ``message`` as compact OTLP/JSON bytes."""
    return json.dumps(to_dict(message), separators=(",", ":")).encode("utf-8")
