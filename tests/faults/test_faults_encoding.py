"""The direct OTLP wire encoder (export off the request core's budget) must produce exactly what the
SDK encoder produces, for any attribute values, events, links, statuses and log bodies."""

from __future__ import annotations

import contextlib
import itertools
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs as sdk_encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from spotify_otel import _logging, _otlp_encoding
from spotify_otel._logging import OTLPLogHandler

# Exporter threads left retrying by earlier tests draw from `random` (backoff jitter) while Hypothesis
# generates data, which it reports as a strategy using `random`; our own code here does not.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
scalars = (st.text(max_size=20) | st.booleans() | st.integers(-(2**63), 2**63 - 1)
           | st.floats(allow_nan=False) | st.binary(max_size=10))
values = scalars | st.lists(st.text(max_size=5) | st.integers(-1000, 1000), max_size=4)
attributes = st.dictionaries(st.text(max_size=12), values, max_size=8)
RESOURCE = Resource.create({"service.name": "fuzz", "tenant.count": 3})


class CountingIds(IdGenerator):
    """Deterministic ids (the SDK's default generator uses the `random` module)."""

    def __init__(self) -> None:
        self._next = itertools.count(1)

    def generate_span_id(self) -> int:
        return next(self._next)

    def generate_trace_id(self) -> int:
        return next(self._next) << 64 | 1


def spans_for(attrs: list[dict[str, Any]], kind: SpanKind, remote_parent: bool, status: StatusCode) -> list[Any]:
    sink = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE, id_generator=CountingIds())
    provider.add_span_processor(SimpleSpanProcessor(sink))
    tracers = [provider.get_tracer("a"), provider.get_tracer("b", "1.0", schema_url="https://s",
                                                            attributes={"scope.attr": 1})]
    parent = SpanContext(0x1234, 0x5678, is_remote=remote_parent, trace_flags=TraceFlags(1))
    from opentelemetry.trace import set_span_in_context

    context = set_span_in_context(NonRecordingSpan(parent))
    for i, attributes_i in enumerate(attrs):
        span = tracers[i % 2].start_span(f"span-{i}", context=context if i % 3 else None, kind=kind,
                                         attributes=attributes_i, links=[Link(parent, attributes_i)])
        span.add_event("event", attributes_i)
        span.set_status(Status(status, "because" if status is StatusCode.ERROR else None))
        span.end()
    return list(sink.get_finished_spans())


@FUZZ
@given(attrs=st.lists(attributes, min_size=1, max_size=4), kind=st.sampled_from(list(SpanKind)),
       remote=st.booleans(), status=st.sampled_from(list(StatusCode)))
def test_span_encoding_equals_the_sdk_encoder(attrs: list[dict[str, Any]], kind: SpanKind, remote: bool,
                                              status: StatusCode) -> None:
    spans = spans_for(attrs, kind, remote, status)
    ours = ExportTraceServiceRequest.FromString(_otlp_encoding.encode_spans(spans))
    assert ours == sdk_encode_spans(spans)
    # twice: the second run goes through the key/value cache
    assert ExportTraceServiceRequest.FromString(_otlp_encoding.encode_spans(spans)) == sdk_encode_spans(spans)


@FUZZ
@given(extras=st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True).filter(lambda k: k not in vars(
           logging.LogRecord("", 0, "", 0, "", (), None))), scalars, max_size=5),
       message=st.text(max_size=30) | st.integers(), level=st.sampled_from([10, 20, 30, 40, 50]))
def test_log_encoding_equals_the_sdk_encoder(extras: dict[str, Any], message: Any, level: int) -> None:
    sink = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(sink))
    handler = OTLPLogHandler(provider, "unknown")
    record = logging.LogRecord("fuzz", level, __file__, 1, message, (), None)
    for key, value in extras.items():
        setattr(record, key, value)
    handler.emit(record)
    logs = list(sink.get_finished_logs())
    assert len(logs) == 1
    assert ExportLogsServiceRequest.FromString(_otlp_encoding.encode_logs(logs)) == sdk_encode_logs(logs)


def test_unencodable_attribute_is_skipped_like_the_sdk_does() -> None:
    spans = spans_for([{"ok": "yes", "huge": 2**70}], SpanKind.SERVER, False, StatusCode.UNSET)
    ours = ExportTraceServiceRequest.FromString(_otlp_encoding.encode_spans(spans))
    keys = [kv.key for kv in ours.resource_spans[0].scope_spans[0].spans[0].attributes]
    assert "ok" in keys and "huge" not in keys
    assert ours == sdk_encode_spans(spans)


@FUZZ
@given(attrs=st.lists(attributes, min_size=1, max_size=4), kind=st.sampled_from(list(SpanKind)),
       remote=st.booleans())
def test_spans_encoded_at_their_end_export_the_same_request(attrs: list[dict[str, Any]], kind: SpanKind,
                                                           remote: bool) -> None:
    spans = spans_for(attrs, kind, remote, StatusCode.OK)
    queued = [_otlp_encoding.Encoded(s.resource, s.instrumentation_scope, _otlp_encoding.encode_span(s))
              for s in spans]
    assert ExportTraceServiceRequest.FromString(_otlp_encoding.encode_spans(queued)) == sdk_encode_spans(spans)


RESOURCES = [RESOURCE, Resource.create({"service.name": "other"}, schema_url="https://opentelemetry.io/schemas/1.2")]
SCOPES = [("a", None, None), ("b", "1.0", "https://opentelemetry.io/schemas/1.3"), ("", None, None)]


@FUZZ
@given(picks=st.lists(st.tuples(st.integers(0, len(RESOURCES) - 1), st.integers(0, len(SCOPES) - 1)),
                      min_size=1, max_size=12))
def test_batches_of_encoded_spans_group_like_the_sdk(picks: list[tuple[int, int]]) -> None:
    """Any mix of resources and scopes (with schema URLs): the one-resource-one-scope shortcut and the
    general grouping both give the SDK encoder's request."""
    providers = []
    for resource in RESOURCES:
        sink = InMemorySpanExporter()
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(SimpleSpanProcessor(sink))
        providers.append((provider, sink))
    for resource_index, scope_index in picks:
        provider, _ = providers[resource_index]
        name, version, schema_url = SCOPES[scope_index]
        provider.get_tracer(name, version, schema_url=schema_url).start_span(f"s{scope_index}").end()
    finished = {id(sink): list(sink.get_finished_spans()) for _, sink in providers}
    spans = [finished[id(providers[r][1])].pop(0) for r, _ in picks]
    queued = [_otlp_encoding.Encoded(s.resource, s.instrumentation_scope, _otlp_encoding.encode_span(s))
              for s in spans]
    assert ExportTraceServiceRequest.FromString(_otlp_encoding.encode_spans(queued)) == sdk_encode_spans(spans)
    for provider, _ in providers:
        provider.shutdown()


def test_encoding_processors_deliver_what_the_sdk_processors_deliver() -> None:
    """End to end through the gRPC exporter's translation: encoded at end, batched, merged with any
    record that could not be encoded early (SDK fallback), parsed back."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from spotify_otel._encoding_processors import EncodingBatchSpanProcessor
    from spotify_otel._fast_exporters import FastGrpcSpanExporter

    received: list[Any] = []

    class Capture(InMemorySpanExporter):
        def export(self, spans: Any) -> Any:
            received.append(list(spans))
            return super().export(spans)

    for processor_class in (EncodingBatchSpanProcessor, BatchSpanProcessor):
        provider = TracerProvider(resource=RESOURCE, id_generator=CountingIds())
        processor = processor_class(Capture(), schedule_delay_millis=60_000)
        provider.add_span_processor(processor)
        tracer = provider.get_tracer("e2e", "1")
        for i in range(5):
            tracer.start_span(f"s{i}", attributes={"i": i, "tenant.id": "acme"}).end()
        assert processor.force_flush()
        provider.shutdown()
    encoded_batch, sdk_batch = received
    assert all(isinstance(item, _otlp_encoding.Encoded) for item in encoded_batch)
    exporter = FastGrpcSpanExporter(endpoint="http://127.0.0.1:9", insecure=True)
    try:
        sent = exporter._translate_data(encoded_batch)  # the bytes handed to gRPC as they are
        mixed = exporter._translate_data([*encoded_batch[:2], *sdk_batch[2:]])  # with SDK-encoded records
    finally:
        exporter.shutdown()
    assert isinstance(sent, bytes)
    ours = ExportTraceServiceRequest.FromString(sent)
    def flat(request: Any) -> list[tuple[str, list[str]]]:  # a mixed batch is two ResourceSpans (one per encoder)
        return [(s.name, [kv.key for kv in s.attributes])
                for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]

    assert flat(ExportTraceServiceRequest.FromString(mixed)) == flat(ours)
    expected = sdk_encode_spans(sdk_batch)
    names = [s.name for rs in ours.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert names == [s.name for rs in expected.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert [kv.key for kv in ours.resource_spans[0].scope_spans[0].spans[0].attributes] == ["i", "tenant.id"]


def test_protobuf_uses_the_upb_backend() -> None:
    """The pure-Python backend makes every export ~12x more expensive; spotify-otel warns about it, and
    CI must never run on it."""
    from spotify_otel._exporters import check_protobuf_backend

    assert check_protobuf_backend() == "upb"


def _direct_handler() -> tuple[OTLPLogHandler, list[Any]]:
    """A handler whose provider's only processor is the encoding one, its queue captured."""
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter as Sink

    from spotify_otel._encoding_processors import EncodingBatchLogRecordProcessor

    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    processor = EncodingBatchLogRecordProcessor(Sink(), schedule_delay_millis=600_000)
    queued: list[Any] = []
    processor._enqueue = queued.append  # type: ignore[method-assign]  # what would go to the batch queue
    original = processor.on_emit

    def on_emit(log_record: Any) -> None:  # the SDK path: tagged so tests can tell the two apart
        queued.append("sdk path")
        original(log_record)

    processor.on_emit = on_emit  # type: ignore[method-assign]
    provider.add_log_record_processor(processor)
    return OTLPLogHandler(provider, "unknown"), queued


@FUZZ
@given(extras=st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True).filter(lambda k: k not in vars(
           logging.LogRecord("", 0, "", 0, "", (), None))), scalars, max_size=5),
       message=st.text(max_size=30) | st.integers(), level=st.sampled_from([10, 20, 30, 40, 50]),
       in_span=st.booleans(), tenant=st.none() | st.just("acme"), failed=st.booleans())
def test_direct_log_path_encodes_what_the_sdk_path_encodes(extras: dict[str, Any], message: Any, level: int,
                                                           in_span: bool, tenant: str | None,
                                                           failed: bool) -> None:
    from opentelemetry import trace

    from spotify_otel.tenant import tenant_context

    direct, queued = _direct_handler()
    sink = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(sink))
    reference = OTLPLogHandler(provider, "unknown")
    exc_info = None
    if failed:
        try:
            raise ValueError("boom")
        except ValueError:
            import sys
            exc_info = sys.exc_info()
    record = logging.LogRecord("fuzz", level, __file__, 1, message, (), exc_info)
    for key, value in extras.items():
        setattr(record, key, value)
    parent = SpanContext(0xABC, 0xDEF, is_remote=False, trace_flags=TraceFlags(1))
    with contextlib.ExitStack() as stack:
        if in_span:
            stack.enter_context(trace.use_span(NonRecordingSpan(parent)))
        if tenant is not None:
            stack.enter_context(tenant_context(tenant))
        direct.emit(record)
        reference.emit(record)
    assert direct.failures == 0 and len(queued) == 1
    assert type(queued[0]) is _otlp_encoding.Encoded  # the direct path, not the SDK one
    ours = ExportLogsServiceRequest.FromString(_otlp_encoding.encode_logs(queued))
    theirs = sdk_encode_logs(list(sink.get_finished_logs()))
    for request in (ours, theirs):  # observed "now" differs by construction
        request.resource_logs[0].scope_logs[0].log_records[0].observed_time_unix_nano = 0
    assert ours == theirs


def test_direct_log_path_steps_aside_for_other_processors() -> None:
    handler, queued = _direct_handler()
    extra = InMemoryLogRecordExporter()
    handler._provider.add_log_record_processor(SimpleLogRecordProcessor(extra))  # type: ignore[attr-defined]
    handler.emit(logging.LogRecord("fuzz", 20, __file__, 1, "both", (), None))
    assert [log.log_record.body for log in extra.get_finished_logs()] == ["both"]
    assert queued[0] == "sdk path" and len(queued) == 2


def _extras_reference(record: logging.LogRecord) -> dict[str, Any]:
    """The exported ``extra=`` fields, computed afresh for every record (what the shape memo must give)."""
    fields = vars(record)
    return {key: (fields[key] if isinstance(fields[key], str | bool | int | float) else str(fields[key]))
            for key in sorted(fields.keys() - _logging._RESERVED) if not key.startswith("_")}


extra_keys = st.sampled_from(["track_id", "user", "_private", "zeta", "alpha", "nested", "ratio"])
extra_values = st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.floats(allow_nan=False),
                         st.lists(st.integers(), max_size=2), st.none())


@FUZZ
@given(calls=st.lists(st.dictionaries(extra_keys, extra_values, max_size=4), min_size=1, max_size=12),
       marked=st.lists(st.booleans(), min_size=12, max_size=12))
def test_extra_fields_remembered_per_shape_equal_a_fresh_computation(calls: list[dict[str, Any]],
                                                                       marked: list[bool]) -> None:
    logger = logging.getLogger("fuzz.extras")
    for index, extra in enumerate(calls * 2):  # shapes seen again come from the memo
        record = logger.makeRecord("fuzz.extras", logging.INFO, __file__, 1, "m", (), None, extra=extra)
        if marked[index % len(marked)]:
            record._spotify_otel_seen_1 = True  # what the once-per-record filter adds
        assert _logging._extras(record) == _extras_reference(record)


@pytest.mark.parametrize(("logger_name", "propagates"), [
    ("bench.api", True),  # an application logger: reaches the handler on the root logger only
    ("uvicorn.error", True),  # through "uvicorn.error", "uvicorn" and root, all three carrying the handler
    ("uvicorn.error.child", True),
    ("gunicorn.access", True),
    ("gunicorn.error", False),  # gunicorn stops propagation: the handler on the logger itself exports it
])
def test_each_record_is_exported_once_whichever_loggers_carry_the_handler(logger_name: str,
                                                                          propagates: bool) -> None:
    handler, queued = _direct_handler()
    logger = logging.getLogger(logger_name)
    saved = logger.propagate
    logger.propagate = propagates
    blocked = logging.Filter("someone.else")  # a filter the application added: honoured as before
    _logging.ensure_handlers([handler])
    try:
        logger.warning("once")
        assert len(queued) == 1 and type(queued[0]) is _otlp_encoding.Encoded
        handler.addFilter(blocked)
        logger.warning("filtered out")
        assert len(queued) == 1
    finally:
        handler.removeFilter(blocked)
        _logging.remove_handlers([handler])
        logger.propagate = saved


def test_only_server_loggers_and_their_children_can_reach_the_handler_twice() -> None:
    assert [_logging._from_server_logger(name) for name in (
        "uvicorn", "uvicorn.error", "uvicorn.access.x", "gunicorn.error", "gunicorn.access")] == [True] * 5
    assert [_logging._from_server_logger(name) for name in (
        "gunicorn", "uvicornx", "app.uvicorn", "root", "", "gunicorn.errors")] == [False] * 6


@FUZZ
@given(timestamp=st.sampled_from([0, 1, 2**63 + 5]) | st.integers(0, 2**64 - 1),
       severity=st.sampled_from([(0, None), (9, "INFO"), (13, "WARN"), (21, "FATAL"), (5, "")]),
       body=st.text(max_size=300), attrs=st.dictionaries(st.text(min_size=1, max_size=8), scalars, max_size=4),
       flags=st.integers(0, 2**32 - 1), trace_id=st.sampled_from([0]) | st.integers(1, 2**128 - 1),
       span_id=st.sampled_from([0]) | st.integers(1, 2**64 - 1), observed=st.integers(0, 2**64 - 1))
def test_one_pass_log_framing_equals_the_field_encoder(timestamp: int, severity: tuple[int, str | None], body: str,
                                                        attrs: dict[str, Any], flags: int, trace_id: int,
                                                        span_id: int, observed: int) -> None:
    number, text = severity
    reference = _otlp_encoding._ld(b"\x12", _otlp_encoding.log_fields(
        timestamp, number, text, body, attrs, 0, flags, trace_id, span_id, observed))
    for _ in range(2):  # the second time from the body cache
        assert _otlp_encoding.framed_log(timestamp, _otlp_encoding.severity_fields(number, text), body, attrs, flags,
                                         trace_id, span_id, observed) == reference
