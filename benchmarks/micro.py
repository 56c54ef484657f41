"""In-process microbenchmarks: what one request costs, piece by piece (``python benchmarks/micro.py``).

Every figure is CPU time of the calling thread per operation (microseconds, median of 5 repeats), so
background threads and other processes do not blur it. Export encoding runs on a background thread in
production but on the same core (and under the same GIL) as the requests, so it is part of the bill.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness.servers import free_port, pin_this_process

REPEATS = 5
QUEUE = 1_000_000  # exports go nowhere here: queues that never fill, so no drop is measured


def per_op(func: Callable[[], object], n: int) -> float:
    """Median thread CPU microseconds per call of ``func`` over ``REPEATS`` runs of ``n`` calls."""
    samples = []
    for _ in range(REPEATS):
        start = time.thread_time()
        for _ in range(n):
            func()
        samples.append((time.thread_time() - start) / n * 1e6)
    return float(statistics.median(samples))


def asgi_scope(i: int) -> dict[str, Any]:
    """A realistic ASGI scope of ``GET /api/tracks/<i>`` from tenant ``tenant-<i % 50>``."""
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": f"/api/tracks/{i % 100}", "raw_path": b"", "root_path": "", "query_string": b"",
            "headers": [(b"host", b"127.0.0.1:8000"), (b"x-tenant-id", f"tenant-{i % 50}".encode()),
                        (b"user-agent", b"wrk")], "client": ("127.0.0.1", 40000 + i % 32),
            "server": ("127.0.0.1", 8000)}


def request_cost(app: Any, n: int) -> float:
    """Thread CPU microseconds per request driven straight through the ASGI app (no server, no socket)."""
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    async def many(count: int) -> None:
        for i in range(count):
            await app(asgi_scope(i), receive, send)

    asyncio.run(many(min(n, 2000)))  # warm up
    samples = []
    for _ in range(REPEATS):
        start = time.thread_time()
        asyncio.run(many(n))
        samples.append((time.thread_time() - start) / n * 1e6)
    return float(statistics.median(samples))


def components(n: int) -> list[tuple[str, float]]:
    """Each piece of an instrumented request, with spotify-otel initialised (exports go nowhere)."""
    from opentelemetry import context, trace
    from opentelemetry.trace import SpanKind

    from spotify_otel import init_telemetry, tenant
    from spotify_otel._lean_spans import LeanSpanStarter
    from spotify_otel.integrations._server_span import request_attributes
    from spotify_otel.integrations.asgi import AsgiRequestView

    telemetry = init_telemetry("micro", endpoint=f"http://127.0.0.1:{free_port()}", system_metrics=False,
                               metric_export_interval_ms=600_000, span_schedule_delay_ms=600_000,
                               log_schedule_delay_ms=600_000, span_max_queue_size=QUEUE,
                               log_max_queue_size=QUEUE)
    server = telemetry.server
    assert server is not None
    tracer = trace.get_tracer("micro")
    logger = logging.getLogger("bench.micro")
    scope = asgi_scope(7)
    results: list[tuple[str, float]] = []
    results.append(("tenant resolution (header)", per_op(lambda: server.resolver.resolve(AsgiRequestView(scope)), n)))

    def scope_open_close() -> None:
        tenant.close_scope(tenant.open_scope("tenant-7"))

    results.append(("tenant scope open + close", per_op(scope_open_close, n)))
    results.append(("server span attributes from the scope", per_op(lambda: request_attributes(scope), n)))
    attributes, _ = request_attributes(scope)
    token = tenant.open_scope("tenant-7")

    def span() -> None:
        tracer.start_span("GET /api/tracks/{track_id}", kind=SpanKind.SERVER, attributes=attributes).end()

    results.append(("server span start + end, SDK span (12 attributes, tenant, batch queue)", per_op(span, n)))
    starter = LeanSpanStarter(tracer)

    def lean_span() -> None:
        starter.start("GET /api/tracks/{track_id}", context.get_current(), SpanKind.SERVER, dict(attributes)).end()

    results.append(("server span start + end, lean span (the same, what the middlewares use)", per_op(lean_span, n)))
    metrics = server.metrics
    if metrics is not None:
        def record() -> None:
            active = metrics.started("GET", "http", "tenant-7")
            metrics.finished(active, 0.001, 200, "/api/tracks/{track_id}", "tenant-7")

        results.append(("HTTP metrics per request (active +1/-1, duration)", per_op(record, n)))
    results.append(("log emit (logger.info with extra=, tenant, batch queue)",
                    per_op(lambda: logger.info("track fetched", extra={"track_id": 7}), n)))
    tenant.close_scope(token)
    telemetry.shutdown(timeout=1)
    return results


def encoding(n_items: int) -> list[tuple[str, float]]:
    """Per-item OTLP encoding: the SDK encoders against spotify-otel's direct wire encoder."""
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs as sdk_logs
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_spans
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    from spotify_otel import _otlp_encoding
    from spotify_otel._logging import OTLPLogHandler
    from spotify_otel.integrations._server_span import request_attributes

    span_sink = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_sink))
    tracer = provider.get_tracer("micro")
    for i in range(n_items):
        attributes, _ = request_attributes(asgi_scope(i))
        attributes.update({"http.route": "/api/tracks/{track_id}", "http.response.status_code": 200,
                           "tenant.id": f"tenant-{i % 50}"})
        tracer.start_span("GET /api/tracks/{track_id}", kind=SpanKind.SERVER, attributes=attributes).end()
    spans = span_sink.get_finished_spans()
    log_sink = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_sink))
    handler = OTLPLogHandler(logger_provider, "unknown")
    records = [logging.LogRecord("bench", logging.INFO, __file__, 1, "track fetched", (), None) for _ in range(n_items)]
    for record in records:
        record.track_id = 7
        handler.emit(record)
    logs = log_sink.get_finished_logs()
    queued = [_otlp_encoding.Encoded(s.resource, s.instrumentation_scope, _otlp_encoding.encode_span(s)) for s in spans]
    return [
        (f"export request from {len(queued)} spans encoded at their end (per batch, export thread)",
         per_op(lambda: _otlp_encoding.encode_spans(queued), 20)),
        ("span encoding, SDK encoder (per span)", per_op(lambda: sdk_spans(spans), 1) / len(spans)),
        ("span encoding, spotify-otel wire encoder (per span)", per_op(lambda: _otlp_encoding.encode_spans(spans), 1)
         / len(spans)),
        ("log encoding, SDK encoder (per record)", per_op(lambda: sdk_logs(logs), 1) / len(logs)),
        ("log encoding, spotify-otel wire encoder (per record)", per_op(lambda: _otlp_encoding.encode_logs(logs), 1)
         / len(logs)),
    ]


def whole_requests(n: int) -> list[tuple[str, float]]:
    """Whole requests through the ASGI stack: uninstrumented, then spotify-otel defaults."""
    from benchmarks.apps._fastapi_routes import build_app
    from spotify_otel import init_telemetry
    from spotify_otel._telemetry import _reset_for_tests

    bare = request_cost(build_app(), n)
    telemetry = init_telemetry("micro", endpoint=f"http://127.0.0.1:{free_port()}", system_metrics=False,
                               metric_export_interval_ms=600_000, span_schedule_delay_ms=600_000,
                               log_schedule_delay_ms=600_000, span_max_queue_size=QUEUE, log_max_queue_size=QUEUE)
    instrumented = request_cost(build_app(), n)  # queues large enough: nothing dropped while measuring
    telemetry.shutdown(timeout=1)
    _reset_for_tests()
    return [("whole request, uninstrumented (ASGI, no socket)", bare),
            ("whole request, spotify-otel defaults (request thread only)", instrumented),
            ("  added by spotify-otel on the request thread", instrumented - bare)]


def main(argv: list[str] | None = None) -> int:
    """Print the cost table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=5000, help="operations per sample")
    args = parser.parse_args(argv)
    pin_this_process(0)
    for name in ("spotify_otel", "opentelemetry"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from spotify_otel._telemetry import _reset_for_tests

    rows = whole_requests(args.n)
    rows += components(args.n)
    _reset_for_tests()
    rows += encoding(512)
    width = max(len(name) for name, _ in rows)
    print(f"| {'operation'.ljust(width)} | us/op |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value:5.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
