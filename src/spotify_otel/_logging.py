"""stdlib ``logging`` -> OTLP log records, and the optional JSON-lines console format.

Exactly one :class:`OTLPLogHandler` is installed per process: on the root logger, plus on the server
loggers that do not propagate to it (``uvicorn``, ``uvicorn.access``, ``gunicorn.error``,
``gunicorn.access``), never on a logger whose records already reach it, so no record is exported twice.
Servers that (re)configure logging after ``init_telemetry`` are covered by :func:`ensure_handlers`,
which the request middlewares call once per process.

The SDK's ``LoggingHandler`` is deprecated since 1.40 in favour of the contrib logging
instrumentation, whose releases lag the other contrib packages; this handler is the same translation,
with ``tenant.id`` added, nothing that can raise into the caller, and no feedback loop: records logged
while the SDK exports (its own export errors) are left to the other handlers.

Direct path: when the provider's only processor is the encoding batch processor (gRPC, the default)
and no attribute limit applies, a record is encoded straight from the ``logging`` record, skipping the
SDK's log record objects (a third of a log call's cost); the bytes are those the SDK path produces.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import LoggerProvider, LogRecord, SeverityNumber
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, get_current
from opentelemetry.sdk._logs._internal import LogRecordLimits, std_to_otel

from spotify_otel._encoding_processors import EncodingBatchLogRecordProcessor
from spotify_otel._otlp_encoding import framed_log, severity_fields
from spotify_otel.tenant import TENANT_ATTRIBUTE, current_scope

SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "gunicorn.error", "gunicorn.access")

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is exported.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_OTEL_SEVERITY_TEXT = {"WARNING": "WARN", "CRITICAL": "FATAL"}


@functools.lru_cache(maxsize=256)  # bounded, for applications passing variable ``extra`` keys
def _extra_keys(names: tuple[str, ...]) -> tuple[str, ...]:
    """The ``extra=`` fields among a record's attribute names (usually none or a few), sorted."""
    return tuple(key for key in sorted(set(names) - _RESERVED) if not key.startswith("_"))


@functools.lru_cache(maxsize=64)
def _severity(levelno: int, levelname: str) -> tuple[SeverityNumber, str, bytes]:
    """The OpenTelemetry severity number and text of a ``logging`` level, and their encoded fields."""
    number, text = std_to_otel(levelno), _OTEL_SEVERITY_TEXT.get(levelname, levelname)
    return number, text, severity_fields(number._value_, text)


@functools.lru_cache(maxsize=1024)  # bounded: logger names may be made from request data
def _from_server_logger(name: str) -> bool:
    """Whether a record of logger ``name`` passes a server logger (which carries the handler too)."""
    return any(name == server or name.startswith(server + ".") for server in SERVER_LOGGERS)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    fields = vars(record)
    extras: dict[str, Any] = {}
    # records logged from the same call site share their attribute names
    for key in _extra_keys(tuple(fields)):
        value = fields[key]
        extras[key] = value if isinstance(value, str | bool | int | float) else str(value)
    return extras


class OTLPLogHandler(logging.Handler):
    """Translate ``logging`` records into OpenTelemetry log records, tagged with the tenant."""

    def __init__(self, logger_provider: LoggerProvider, default_tenant: str, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self._provider = logger_provider
        self._default_tenant = default_tenant
        self._loggers: dict[str, Any] = {}
        self.failures = 0
        self._direct_for: Any = None  # the processors tuple the direct path was checked against
        self._direct: EncodingBatchLogRecordProcessor | None = None
        # The direct path skips the SDK's attribute checks: only for records within the provider's count
        # limit, and never when values must be truncated.
        limits = getattr(logger_provider, "_log_record_limits", None) or LogRecordLimits()
        truncates = limits.max_log_record_attribute_length is not None
        self._direct_max_attributes = 0 if truncates else limits.max_log_record_attributes or 0

    def _direct_processor(self) -> EncodingBatchLogRecordProcessor | None:
        """The encoding processor when it is the provider's only one (re-checked if processors change)."""
        multi = getattr(self._provider, "_multi_log_record_processor", None)
        processors = getattr(multi, "_log_record_processors", None)
        if processors is not self._direct_for:
            self._direct_for = processors
            only = processors[0] if processors and len(processors) == 1 else None
            self._direct = only if type(only) is EncodingBatchLogRecordProcessor else None
        return self._direct

    def handle(self, record: logging.LogRecord) -> bool:
        """``Handler.handle`` without the handler lock: :meth:`emit` is thread-safe on its own.

        When the only filter is the once-per-record one :func:`ensure_handlers` adds, it is consulted
        only for records of the server loggers, the only ones that can reach this handler twice."""
        filters = self.filters
        if len(filters) == 1 and type(filters[0]) is _OncePerRecord:
            if _from_server_logger(record.name) and not filters[0].filter(record):
                return False
        elif not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        # Records logged by the export pipeline itself (the batch processors suppress instrumentation
        # while exporting: "Failed to export ...") would be queued into the pipeline that is failing,
        # and a flush against a dead collector would never run dry. Other handlers still get them.
        context = get_current()
        if context.get(_SUPPRESS_INSTRUMENTATION_KEY):
            return
        try:
            name = record.name
            otel_logger = self._loggers.get(name)
            if otel_logger is None:
                otel_logger = self._loggers.setdefault(name, self._provider.get_logger(name))
            attributes = _extras(record)
            if record.exc_info and record.exc_info[0] is not None:
                exc_type, exc, _tb = record.exc_info
                attributes["exception.type"] = exc_type.__name__
                attributes["exception.message"] = str(exc)
                attributes["exception.stacktrace"] = logging.Formatter().formatException(record.exc_info)
            scope = current_scope()
            if scope is not None:
                attributes[TENANT_ATTRIBUTE] = scope.tenant or self._default_tenant
            body = record.getMessage() if record.args or isinstance(record.msg, str) else str(record.msg)
            timestamp = int(record.created * 1e9)
            severity, severity_text, severity_encoded = _severity(record.levelno, record.levelname)
            direct = self._direct_processor()
            if (direct is not None and len(attributes) <= self._direct_max_attributes
                    and getattr(otel_logger, "_is_enabled", None) is not None):
                if otel_logger._is_enabled():
                    span_context = trace.get_current_span(context).get_span_context()
                    direct.emit_framed(otel_logger.resource, otel_logger.instrumentation_scope, framed_log(
                        timestamp, severity_encoded, body, attributes, int(span_context.trace_flags),
                        span_context.trace_id, span_context.span_id, time.time_ns()))
                return
            otel_logger.emit(LogRecord(timestamp=timestamp, context=context, severity_text=severity_text,
                                       severity_number=severity, body=body, attributes=attributes))
        except Exception:  # a log call must never raise into the application
            self.failures += 1

    def flush(self) -> None:  # the provider is flushed by Telemetry.shutdown, with a deadline
        return None


class JsonLinesFormatter(logging.Formatter):
    """The seed's JSON log format: ``timestamp, level, service, tenant_id, message, metadata`` plus
    ``trace_id`` and ``span_id``; ``extra=`` fields go into ``metadata``."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        span_context = trace.get_current_span().get_span_context()
        scope = current_scope()
        payload: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "service": self.service,
            "tenant_id": scope.tenant if scope is not None else None,
            "message": record.getMessage(),
            "metadata": _extras(record),
            "trace_id": format(span_context.trace_id, "032x") if span_context.is_valid else None,
            "span_id": format(span_context.span_id, "016x") if span_context.is_valid else None,
            "logger": record.name,
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class _OncePerRecord(logging.Filter):
    """Lets a record through a handler once, even when the handler sits on several loggers of its
    propagation chain (root and a server logger that propagates)."""

    def __init__(self, handler: logging.Handler) -> None:
        super().__init__()
        self._mark = f"_spotify_otel_seen_{id(handler)}"

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, self._mark, False):
            return False
        setattr(record, self._mark, True)
        return True


_lock = threading.Lock()


def ensure_handlers(handlers: list[logging.Handler]) -> None:
    """Attach ``handlers`` to the root logger and to every server logger (which servers may later stop
    from propagating, as gunicorn does); a per-record filter keeps each record exported once."""
    with _lock:
        root = logging.getLogger()
        for handler in handlers:
            if not any(isinstance(f, _OncePerRecord) for f in handler.filters):
                handler.addFilter(_OncePerRecord(handler))
            if handler not in root.handlers:
                root.addHandler(handler)
            for name in SERVER_LOGGERS:
                server_logger = logging.getLogger(name)
                if handler not in server_logger.handlers:
                    server_logger.addHandler(handler)


def remove_handlers(handlers: list[logging.Handler]) -> None:
    """Undo :func:`ensure_handlers`."""
    with _lock:
        for logger in [logging.getLogger(), *(logging.getLogger(name) for name in SERVER_LOGGERS)]:
            for handler in handlers:
                if handler in logger.handlers:
                    logger.removeHandler(handler)


def json_console_handler(service: str) -> logging.Handler:
    """A stdout handler writing :class:`JsonLinesFormatter` lines."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLinesFormatter(service))
    return handler
