"""Server spans on the request hot path, without the SDK span's bookkeeping when nothing needs it.

When the tracer provider's processors are exactly spotify-otel's own (the tenant tagger and the
encoding batch processor, the default over gRPC) and the span limits are the defaults, the request
middlewares start their ``SERVER`` span through :class:`LeanSpanStarter`: same sampler, id generator,
trace flags, parent, tenant tagging and OTLP bytes as the SDK path, but the span is a
:class:`LeanSpan` whose middleware-built attributes are not validated a second time, whose events
and links containers are created only when used, and which encodes itself into the batch queue when it
ends (no readable copy, no processor dispatch). User code sees an ordinary recording span: setting
attributes, events, links, exceptions, status and name behave as on an SDK span (values validated the
SDK's way; count limits from ``OTEL_SPAN_*_COUNT_LIMIT`` are the provider's). Anything else (another
processor added, an attribute value-length limit, a record-only sampler decision, a tracer that is not
the SDK's) takes the SDK path unchanged.

Measured: a sampled server span with its twelve attributes costs ~22 us through the SDK tracer and
~8 us here (benchmarks/README.md).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, Sequence
from time import time_ns
from types import TracebackType
from typing import Any

from opentelemetry import trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, SpanLimits, _is_valid_link
from opentelemetry.sdk.trace import Tracer as SdkTracer
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, StaticSampler, TraceIdRatioBased
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util import types

from spotify_otel._encoding_processors import EncodingBatchSpanProcessor
from spotify_otel._otlp_encoding import span_fields
from spotify_otel._tenant_spans import TenantSpanProcessor
from spotify_otel.tenant import TENANT_ATTRIBUTE, current_scope

_logger = logging.getLogger("opentelemetry.sdk.trace")  # the SDK's warnings, under the SDK's logger
_UNSET = Status(StatusCode.UNSET)


class LeanSpan(trace.Span):
    """A recording span encoded straight into the batch queue when it ends (see the module docstring)."""

    def __init__(self, name: str, context: SpanContext, parent: SpanContext | None, kind: SpanKind,
                 attributes: dict[str, Any], start_time: int, resource: Any, scope: Any,
                 sink: EncodingBatchSpanProcessor, limits: SpanLimits) -> None:
        self.name = name
        self.context = context
        self.parent = parent
        self.kind = kind
        self._attributes: dict[str, Any] | BoundedAttributes = attributes
        self.start_time: int | None = start_time
        self.end_time: int | None = None
        self.resource = resource
        self.instrumentation_scope = scope
        self.status = _UNSET
        self._events: BoundedList[Event] | None = None
        self._links: BoundedList[Link] | None = None
        self._sink = sink
        self._limits = limits  # the provider's count limits (no length limit: see LeanSpanStarter)

    # -- read side (what the encoder and processors read) --------------------------------------
    @property
    def attributes(self) -> Mapping[str, Any]:
        return self._attributes

    @property
    def dropped_attributes(self) -> int:
        attributes = self._attributes
        return attributes.dropped if isinstance(attributes, BoundedAttributes) else 0

    @property
    def events(self) -> Sequence[Event]:
        return self._events if self._events is not None else ()

    @property
    def dropped_events(self) -> int:
        return self._events.dropped if self._events is not None else 0

    @property
    def links(self) -> Sequence[Link]:
        return self._links if self._links is not None else ()

    @property
    def dropped_links(self) -> int:
        return self._links.dropped if self._links is not None else 0

    def get_span_context(self) -> SpanContext:
        return self.context

    def is_recording(self) -> bool:
        return self.end_time is None

    # -- write side (the SDK span's semantics) -----------------------------------------------------
    def _bounded(self) -> BoundedAttributes:
        attributes = self._attributes
        if not isinstance(attributes, BoundedAttributes):  # first write by user code: validate from now on
            attributes = self._attributes = BoundedAttributes(
                self._limits.max_span_attributes, attributes, immutable=False)
        return attributes

    def set_clean_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Attributes the middleware built itself (str/int values): stored as they are."""
        if self.end_time is not None:
            _logger.warning("Setting attribute on ended span.")
            return
        current = self._attributes
        if isinstance(current, BoundedAttributes):
            current._set_items(attributes)
        else:
            current.update(attributes)

    def set_attributes(self, attributes: Mapping[str, types.AnyValue]) -> None:
        if self.end_time is not None:
            _logger.warning("Setting attribute on ended span.")
            return
        self._bounded()._set_items(attributes)

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        if self.end_time is not None:
            _logger.warning("Setting attribute on ended span.")
            return
        self._bounded()[key] = value

    def add_event(self, name: str, attributes: types.Attributes = None, timestamp: int | None = None) -> None:
        if self.end_time is not None:
            _logger.warning("Tried calling %s on an ended span.", "_add_event")
            return
        if self._events is None:
            self._events = BoundedList(self._limits.max_events)
        bounded = BoundedAttributes(self._limits.max_event_attributes, attributes, immutable=True)
        self._events.append(Event(name=name, attributes=bounded, timestamp=timestamp))

    def add_link(self, context: SpanContext, attributes: types.Attributes = None) -> None:
        if not _is_valid_link(context, attributes):
            return
        if self.end_time is not None:
            _logger.warning("Tried calling %s on an ended span.", "_add_link")
            return
        if self._links is None:
            self._links = BoundedList(self._limits.max_links)
        bounded = BoundedAttributes(self._limits.max_link_attributes, attributes, immutable=True)
        self._links.append(Link(context=context, attributes=bounded))

    def update_name(self, name: str) -> None:
        if self.end_time is not None:
            _logger.warning("Tried calling %s on an ended span.", "update_name")
            return
        self.name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if self.end_time is not None:
            _logger.warning("Tried calling %s on an ended span.", "set_status")
            return
        ok = self.status.status_code is StatusCode.OK
        if isinstance(status, Status):
            if ok or status.status_code is StatusCode.UNSET:
                return
            if description is not None:
                _logger.warning("Description %s ignored. Use either `Status` or `(StatusCode, Description)`",
                                description)
            self.status = status
        elif isinstance(status, StatusCode):
            if ok or status is StatusCode.UNSET:
                return
            self.status = Status(status, description)

    def record_exception(self, exception: BaseException, attributes: types.Attributes = None,
                         timestamp: int | None = None, escaped: bool = False) -> None:
        module = type(exception).__module__
        qualname = type(exception).__qualname__
        recorded: dict[str, types.AnyValue] = {
            "exception.type": f"{module}.{qualname}" if module and module != "builtins" else qualname,
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        if attributes:
            recorded.update(attributes)
        self.add_event(name="exception", attributes=recorded, timestamp=timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self.end_time is not None:
            _logger.warning("Calling end() on an ended span.")
            return
        self.end_time = end_time if end_time is not None else time_ns()  # writers check it first
        if type(self._attributes) is dict:  # a snapshot (one C-level copy): a writer racing the end can
            self._attributes = self._attributes.copy()  # not change the dict while it is encoded
        try:  # the encoder's field form: no read-side property calls
            attributes, events, links = self._attributes, self._events, self._links
            payload = span_fields(
                self.context, self.parent, self.name, self.kind, self.start_time, self.end_time, attributes,
                attributes.dropped if type(attributes) is BoundedAttributes else 0, events or (),
                events.dropped if events is not None else 0, links or (), links.dropped if links is not None else 0,
                self.status)
        except Exception:  # never raise into the request; the span is lost, as an unexportable one would be
            _logger.exception("spotify-otel: could not encode span %s", self.name)
            return
        self._sink.emit_encoded(self.resource, self.instrumentation_scope, payload)

    def __exit__(self, exc_type: type[BaseException] | None, exc_val: BaseException | None,
                 exc_tb: TracebackType | None) -> None:
        if exc_val is not None and self.is_recording():
            self.record_exception(exception=exc_val, escaped=True)
            self.set_status(Status(status_code=StatusCode.ERROR, description=f"{type(exc_val).__name__}: {exc_val}"))
        super().__exit__(exc_type, exc_val, exc_tb)


def _passes_attributes_through(sampler: Any) -> bool:
    """The SDK's built-in samplers return exactly the attributes they were given."""
    if isinstance(sampler, ParentBased):
        delegates = ("_root", "_remote_parent_sampled", "_remote_parent_not_sampled", "_local_parent_sampled",
                     "_local_parent_not_sampled")
        return all(_passes_attributes_through(getattr(sampler, name, None)) for name in delegates)
    return type(sampler) in (StaticSampler, TraceIdRatioBased)


_SAMPLED, _RANDOM = int(TraceFlags.SAMPLED), int(TraceFlags.RANDOM_TRACE_ID)
_TRACE_FLAGS = [TraceFlags(flags) for flags in range(4)]  # immutable ints: shared by every span


def _builtin_decision(sampler: Any, parent: SpanContext | None, trace_id: int) -> Decision | None:
    """The decision of the SDK's own ``ParentBased`` over its static or ratio samplers, taken as they take
    it (their trace state is the parent's, their attributes the ones given); ``None`` for any other
    sampler, which is then asked. Skips two context look-ups and a ``SamplingResult`` per span."""
    if type(sampler) is ParentBased:
        if parent is None:
            sampler = sampler._root
        elif parent.is_remote:
            sampled = parent.trace_flags.sampled
            sampler = sampler._remote_parent_sampled if sampled else sampler._remote_parent_not_sampled
        else:
            sampled = parent.trace_flags.sampled
            sampler = sampler._local_parent_sampled if sampled else sampler._local_parent_not_sampled
    kind = type(sampler)
    if kind is StaticSampler:
        return sampler._decision  # type: ignore[no-any-return]
    if kind is TraceIdRatioBased:
        sampled = trace_id & TraceIdRatioBased.TRACE_ID_LIMIT < sampler.bound
        return Decision.RECORD_AND_SAMPLE if sampled else Decision.DROP
    return None


def set_built_attributes(span: trace.Span, attributes: Mapping[str, Any]) -> None:
    """Attributes a middleware built itself (str/int values): stored as they are on a :class:`LeanSpan`,
    validated by the SDK on any other span."""
    if type(span) is LeanSpan:
        span.set_clean_attributes(attributes)
    else:
        span.set_attributes(attributes)


class LeanSpanStarter:
    """Starts a request's server span: a :class:`LeanSpan` when that is equivalent, else the SDK's."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer
        self._checked_for: Any = None
        self._sampler_may_add: bool | None = None  # the SDK's samplers return the attributes given
        self._lean: tuple[TenantSpanProcessor, EncodingBatchSpanProcessor] | None = None
        self._limits = SpanLimits()

    def _lean_processors(self) -> tuple[TenantSpanProcessor, EncodingBatchSpanProcessor] | None:
        tracer = self.tracer
        if not isinstance(tracer, SdkTracer):
            return None
        processors = getattr(tracer.span_processor, "_span_processors", None)
        if processors is not self._checked_for:  # re-checked whenever a processor is added
            self._checked_for = processors
            self._lean = None
            limits = getattr(tracer, "_span_limits", None)
            # count limits are honoured as the SDK does; value-length limits (truncation) are the SDK's job
            if (processors is not None and len(processors) == 2 and type(processors[0]) is TenantSpanProcessor
                    and type(processors[1]) is EncodingBatchSpanProcessor and isinstance(limits, SpanLimits)
                    and limits.max_attribute_length is None and limits.max_span_attribute_length is None):
                self._lean = (processors[0], processors[1])
                self._limits = limits
        return self._lean

    def start(self, name: str, context: Context, kind: SpanKind, attributes: dict[str, Any],
              start_time: int | None = None) -> trace.Span:
        """Start the span under ``context`` with ``attributes`` (built by the caller: str/int values)."""
        lean = self._lean_processors()
        tracer: Any = self.tracer
        most = self._limits.max_span_attributes  # (room for the tenant too, else the SDK drops the oldest)
        if lean is None or not tracer._is_enabled() or (most is not None and len(attributes) >= most):
            return tracer.start_span(name, context=context, kind=kind, attributes=attributes,  # type: ignore[no-any-return]
                                     start_time=start_time)
        parent: SpanContext | None = trace.get_current_span(context).get_span_context()
        if parent is None or not parent.is_valid:
            parent = None
            trace_id = tracer.id_generator.generate_trace_id()
            random_id = tracer.id_generator.is_trace_id_random()
        else:
            trace_id = parent.trace_id
            random_id = parent.trace_flags.random_trace_id
        sampler = tracer.sampler
        known = _builtin_decision(sampler, parent, trace_id)
        if known is not None:
            decision, trace_state, added = known, parent.trace_state if parent is not None else None, None
        else:
            result = sampler.should_sample(context, trace_id, name, kind, attributes, ())
            decision, trace_state, added = result.decision, result.trace_state, result.attributes
        if decision is Decision.RECORD_ONLY:  # unusual samplers: the SDK handles them
            return tracer.start_span(name, context=context, kind=kind, attributes=attributes,  # type: ignore[no-any-return]
                                     start_time=start_time)
        flags = (_SAMPLED if decision is Decision.RECORD_AND_SAMPLE else 0) | (_RANDOM if random_id else 0)
        span_context = SpanContext(trace_id, tracer.id_generator.generate_span_id(), is_remote=False,
                                   trace_flags=_TRACE_FLAGS[flags], trace_state=trace_state)
        if decision is not Decision.RECORD_AND_SAMPLE:
            return trace.NonRecordingSpan(span_context)
        if self._sampler_may_add is not False and known is None:
            self._sampler_may_add = not _passes_attributes_through(sampler)
            if self._sampler_may_add and added:
                attributes = {**attributes, **added}
        scope = current_scope()  # what TenantSpanProcessor.on_start does, without a second write
        if scope is not None:
            tenant = scope.tenant or lean[0].default_tenant
            if attributes.get(TENANT_ATTRIBUTE) != tenant:
                attributes = {**attributes, TENANT_ATTRIBUTE: tenant}
        span = LeanSpan(name, span_context, parent, kind, attributes, start_time or time_ns(), tracer.resource,
                        tracer._instrumentation_scope, lean[1], self._limits)
        if scope is not None and scope.root_span is None:
            scope.root_span = span
        return span
