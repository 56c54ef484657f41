"""LeanSpan must be indistinguishable from an SDK span on the wire (and to the code using it), and the
starter must fall back to the SDK whenever the lean path would not be equivalent."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState

from spotify_otel import _otlp_encoding
from spotify_otel._encoding_processors import EncodingBatchSpanProcessor
from spotify_otel._lean_spans import LeanSpan, LeanSpanStarter, _builtin_decision
from spotify_otel._tenant_spans import TenantSpanProcessor
from spotify_otel.tenant import close_scope, current_scope, open_scope, tenant_context

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RESOURCE = Resource.create({"service.name": "lean"})
scalars = (st.text(max_size=12) | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False)
           | st.binary(max_size=6) | st.none())
values = scalars | st.lists(st.text(max_size=4) | st.integers(-9, 9), max_size=3)
keys = st.text(max_size=8)
attrs = st.dictionaries(keys, values, max_size=4)
statuses = st.sampled_from([Status(StatusCode.OK), Status(StatusCode.ERROR, "bad"), Status(StatusCode.UNSET),
                            StatusCode.ERROR, StatusCode.OK, StatusCode.UNSET])
link_context = SpanContext(0xAB, 0xCD, is_remote=True, trace_flags=TraceFlags(1))
operations = st.lists(st.one_of(
    st.tuples(st.just("set_attribute"), keys, values),
    st.tuples(st.just("set_attributes"), attrs),
    st.tuples(st.just("add_event"), st.text(max_size=6), attrs, st.integers(1, 2**40)),
    st.tuples(st.just("record_exception"), st.text(max_size=6), attrs, st.booleans()),
    st.tuples(st.just("add_link"), attrs),
    st.tuples(st.just("set_status"), statuses, st.none() | st.text(max_size=5)),
    st.tuples(st.just("update_name"), st.text(max_size=8)),
), max_size=8)


class SequentialIds(RandomIdGenerator):
    def __init__(self) -> None:
        self._next = itertools.count(1)

    def generate_span_id(self) -> int:
        return next(self._next)

    def generate_trace_id(self) -> int:
        return next(self._next) << 64 | 7


def apply(span: Any, ops: list[tuple[Any, ...]]) -> None:
    for op in ops:
        name, args = op[0], op[1:]
        if name == "record_exception":
            span.record_exception(ValueError(args[0]), attributes=args[1], timestamp=1234, escaped=args[2])
        elif name == "add_link":
            span.add_link(link_context, args[0])
        elif name == "set_status":
            if args[1] is not None and isinstance(args[0], StatusCode):
                span.set_status(*args)
            else:
                span.set_status(args[0])
        else:
            getattr(span, name)(*args)


def lean_processor() -> tuple[EncodingBatchSpanProcessor, list[Any]]:
    processor = EncodingBatchSpanProcessor(InMemorySpanExporter(), schedule_delay_millis=600_000)
    queued: list[Any] = []
    processor._enqueue = queued.append  # type: ignore[method-assign]  # what would go to the batch queue
    return processor, queued


count_limits = st.none() | st.builds(SpanLimits, max_span_attributes=st.integers(5, 8),
                                      max_events=st.integers(0, 3), max_links=st.integers(0, 2),
                                      max_event_attributes=st.integers(0, 3), max_link_attributes=st.integers(0, 3))


@FUZZ
@given(start=attrs, ops=operations, kind=st.sampled_from(list(SpanKind)), remote_parent=st.booleans() | st.none(),
       limits=count_limits)
def test_lean_span_encodes_exactly_what_the_sdk_span_encodes(start: dict[str, Any], ops: list[tuple[Any, ...]],
                                                            kind: SpanKind, remote_parent: bool | None,
                                                            limits: SpanLimits | None) -> None:
    clean = {k: v for k, v in start.items() if k and isinstance(v, str | int) and not isinstance(v, bool)}
    sink = InMemorySpanExporter()
    limits = limits or SpanLimits()
    provider = TracerProvider(resource=RESOURCE, id_generator=SequentialIds(), span_limits=limits)
    provider.add_span_processor(SimpleSpanProcessor(sink))
    tracer: Any = provider.get_tracer("lean.test", "1.0")
    parent_ctx = context.Context()
    if remote_parent is not None:
        parent = SpanContext(0x99 << 64 | 1, 0x42, is_remote=remote_parent, trace_flags=TraceFlags(1))
        parent_ctx = trace.set_span_in_context(trace.NonRecordingSpan(parent))
    reference: Any = tracer.start_span("GET", context=parent_ctx, kind=kind, attributes=clean, start_time=1000)
    processor, queued = lean_processor()
    lean = LeanSpan("GET", reference.get_span_context(), reference.parent, kind, dict(clean), 1000,
                    RESOURCE, tracer._instrumentation_scope, processor, limits)
    for span in (reference, lean):
        apply(span, ops)
        span.end(end_time=2000)
        span.set_attribute("after.end", 1)  # ignored by both
    assert len(queued) == 1
    ours = ExportTraceServiceRequest.FromString(_otlp_encoding.encode_spans(queued))
    assert ours == sdk_encode_spans(sink.get_finished_spans())


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    provider = TracerProvider(resource=RESOURCE, sampler=ParentBased(ALWAYS_ON))
    provider.add_span_processor(TenantSpanProcessor("unknown"))
    processor, _queued = lean_processor()
    provider.add_span_processor(processor)
    yield provider
    provider.shutdown()


def test_default_pipeline_gets_lean_spans_with_the_sdk_trace_flags_parent_and_tenant(provider: TracerProvider) -> None:
    starter = LeanSpanStarter(provider.get_tracer("t"))
    reference: Any = provider.get_tracer("t").start_span("ref")
    with tenant_context("acme"):
        span = starter.start("GET", context.get_current(), SpanKind.SERVER, {"url.path": "/x"})
        scope = current_scope()
        assert scope is not None and scope.root_span is span  # bind_tenant re-tags it
    assert type(span) is LeanSpan
    assert span.attributes["tenant.id"] == "acme"
    assert span.get_span_context().trace_flags == reference.get_span_context().trace_flags  # sampled + random
    child_ctx = trace.set_span_in_context(span)
    child = starter.start("child", child_ctx, SpanKind.INTERNAL, {})
    assert child.parent == span.get_span_context()  # type: ignore[attr-defined]
    assert child.get_span_context().trace_id == span.get_span_context().trace_id
    token = open_scope(None)  # a request without a valid tenant
    try:
        anonymous: Any = starter.start("GET", context.get_current(), SpanKind.SERVER, {})
    finally:
        close_scope(token)
    assert anonymous.attributes["tenant.id"] == "unknown"


def test_unsampled_gives_the_sdk_non_recording_span() -> None:
    provider = TracerProvider(resource=RESOURCE, sampler=ALWAYS_OFF)
    provider.add_span_processor(TenantSpanProcessor("unknown"))
    provider.add_span_processor(lean_processor()[0])
    span = LeanSpanStarter(provider.get_tracer("t")).start("GET", context.Context(), SpanKind.SERVER, {})
    assert not span.is_recording() and not span.get_span_context().trace_flags.sampled
    assert span.get_span_context().is_valid


def test_another_processor_or_span_limits_take_the_sdk_path(provider: TracerProvider) -> None:
    starter = LeanSpanStarter(provider.get_tracer("t"))
    assert type(starter.start("GET", context.Context(), SpanKind.SERVER, {})) is LeanSpan
    extra = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(extra))
    span = starter.start("GET", context.Context(), SpanKind.SERVER, {})
    assert type(span) is not LeanSpan
    span.end()
    assert [s.name for s in extra.get_finished_spans()] == ["GET"]  # the user's processor saw it

    limited = TracerProvider(resource=RESOURCE, span_limits=SpanLimits(max_span_attribute_length=5))  # truncation
    limited.add_span_processor(TenantSpanProcessor("unknown"))
    limited.add_span_processor(lean_processor()[0])
    span = LeanSpanStarter(limited.get_tracer("t")).start("GET", context.Context(), SpanKind.SERVER,
                                                          {"long": "truncated by the SDK"})
    assert type(span) is not LeanSpan and span.attributes["long"] == "trunc"  # type: ignore[attr-defined]


def test_a_failing_encoder_never_raises_into_the_request(provider: TracerProvider,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    span = LeanSpanStarter(provider.get_tracer("t")).start("GET", context.Context(), SpanKind.SERVER, {})

    def broken(*fields: Any) -> bytes:
        raise RuntimeError("encoder bug")

    monkeypatch.setattr("spotify_otel._lean_spans.span_fields", broken)
    span.end()  # logged, not raised
    assert not span.is_recording()


class TaggingSampler(Sampler):
    """A custom sampler that adds an attribute (the SDK keeps the attributes a sampler returns)."""

    def should_sample(self, parent_context: Any, trace_id: int, name: str, kind: Any = None,
                      attributes: Any = None, links: Any = None, trace_state: Any = None) -> SamplingResult:
        return SamplingResult(Decision.RECORD_AND_SAMPLE, {**(attributes or {}), "sampled.by": "tagger"})

    def get_description(self) -> str:
        return "tagger"


def test_attributes_a_custom_sampler_adds_are_kept() -> None:
    provider = TracerProvider(resource=RESOURCE, sampler=ParentBased(TaggingSampler()))
    provider.add_span_processor(TenantSpanProcessor("unknown"))
    provider.add_span_processor(lean_processor()[0])
    span: Any = LeanSpanStarter(provider.get_tracer("t")).start("GET", context.Context(), SpanKind.SERVER,
                                                                {"url.path": "/x"})
    assert type(span) is LeanSpan
    assert span.attributes["sampled.by"] == "tagger" and span.attributes["url.path"] == "/x"


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count limits (OTEL_SPAN_*_COUNT_LIMIT) keep the lean path and are honoured; a value-length limit
    (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT) sends server spans to the SDK, which truncates."""
    monkeypatch.setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "1")
    counted = TracerProvider(resource=RESOURCE)
    counted.add_span_processor(TenantSpanProcessor("unknown"))
    counted.add_span_processor(lean_processor()[0])
    span: Any = LeanSpanStarter(counted.get_tracer("t")).start("GET", context.Context(), SpanKind.SERVER, {})
    assert type(span) is LeanSpan
    span.add_event("first")
    span.add_event("second")
    assert [e.name for e in span.events] == ["second"] and span.dropped_events == 1  # the SDK's BoundedList

    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4")
    truncating = TracerProvider(resource=RESOURCE)
    truncating.add_span_processor(TenantSpanProcessor("unknown"))
    truncating.add_span_processor(lean_processor()[0])
    span = LeanSpanStarter(truncating.get_tracer("t")).start("GET", context.Context(), SpanKind.SERVER,
                                                             {"user_agent.original": "curl/8.0"})
    assert type(span) is not LeanSpan and span.attributes["user_agent.original"] == "curl"


def test_too_many_start_attributes_take_the_sdk_path() -> None:
    provider = TracerProvider(resource=RESOURCE, span_limits=SpanLimits(max_span_attributes=3))
    provider.add_span_processor(TenantSpanProcessor("unknown"))
    provider.add_span_processor(lean_processor()[0])
    starter = LeanSpanStarter(provider.get_tracer("t"))
    assert type(starter.start("GET", context.Context(), SpanKind.SERVER, {"a": "1", "b": "2"})) is LeanSpan
    span: Any = starter.start("GET", context.Context(), SpanKind.SERVER, {"a": "1", "b": "2", "c": "3"})
    assert type(span) is not LeanSpan and len(span.attributes) == 3  # the SDK keeps the newest three


@pytest.mark.parametrize("sequence", [
    [Status(StatusCode.OK), Status(StatusCode.ERROR, "late")],  # OK is final
    [StatusCode.OK, StatusCode.ERROR],
    [Status(StatusCode.ERROR, "first"), Status(StatusCode.UNSET)],  # UNSET never overrides
    [StatusCode.ERROR, Status(StatusCode.OK)],
])
def test_status_rules_are_the_sdks(sequence: list[Any]) -> None:
    sink = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(sink))
    reference: Any = provider.get_tracer("t").start_span("GET")
    lean = LeanSpan("GET", reference.get_span_context(), None, SpanKind.SERVER, {}, 1, RESOURCE, None,
                    lean_processor()[0], SpanLimits())
    for status in sequence:
        reference.set_status(status)
        lean.set_status(status)
    reference.end()
    (finished,) = sink.get_finished_spans()
    assert (lean.status.status_code, lean.status.description) == (finished.status.status_code,
                                                                  finished.status.description)


samplers = st.sampled_from([ALWAYS_ON, ALWAYS_OFF, TraceIdRatioBased(0.5), TraceIdRatioBased(0.0)]).flatmap(
    lambda leaf: st.sampled_from([leaf, ParentBased(leaf), ParentBased(
        ALWAYS_OFF, remote_parent_sampled=leaf, remote_parent_not_sampled=ALWAYS_ON,
        local_parent_sampled=TraceIdRatioBased(0.25), local_parent_not_sampled=leaf)]))
parents = st.none() | st.builds(
    SpanContext, trace_id=st.integers(0, 2**128 - 1), span_id=st.integers(0, 2**64 - 1), is_remote=st.booleans(),
    trace_flags=st.sampled_from([TraceFlags(0), TraceFlags(1), TraceFlags(3)]),
    trace_state=st.sampled_from([None, TraceState([("vendor", "v1")])]))


@FUZZ
@given(sampler=samplers, parent=parents,  # (and the ratio samplers' bounds exactly: 0.5 and 0.25)
       trace_id=st.integers(1, 2**128 - 1)
       | st.sampled_from([2**63, 2**63 - 1, 2**62, 2**62 - 1, 5 << 64 | 2**63, 7 << 64 | 1]))
def test_builtin_sampler_shortcut_decides_what_the_sampler_decides(sampler: Sampler, parent: SpanContext | None,
                                                                   trace_id: int) -> None:
    parent_ctx = trace.set_span_in_context(trace.NonRecordingSpan(parent)) if parent else context.Context()
    expected = sampler.should_sample(parent_ctx, trace_id, "GET", SpanKind.SERVER, {"a": 1}, ())
    valid_parent = parent if parent is not None and parent.is_valid else None
    assert _builtin_decision(sampler, valid_parent, trace_id) is expected.decision
    # the trace state the starter then gives the span, and the attributes it keeps, are the sampler's
    assert (valid_parent.trace_state if valid_parent is not None else None) == expected.trace_state
    assert expected.decision is Decision.DROP or dict(expected.attributes) == {"a": 1}


def test_other_samplers_are_asked() -> None:
    assert _builtin_decision(TaggingSampler(), None, 1) is None
    assert _builtin_decision(ParentBased(TaggingSampler()), None, 1) is None
    assert _builtin_decision(ParentBased(ParentBased(ALWAYS_ON)), None, 1) is None
