"""Console rendering: span trees, log lines, the per-tenant summary and trace grouping."""

from __future__ import annotations

import io

from spotify_otel.receiver import ReceivedLog, ReceivedSpan
from spotify_otel.receiver.console import Console, ConsoleOptions, TraceBuffer
from spotify_otel.receiver.render import Style, render_log, render_trace
from spotify_otel.receiver.summary import Summary, is_error, percentile

TRACE = "0af7651916cd43dd8448eb211c80319c"
PLAIN = Style(color=False)


def _span(span_id: str, parent: str, name: str, kind: str = "INTERNAL", start_ms: float = 0, dur_ms: float = 1,
          trace: str = TRACE, status: str = "UNSET", **attrs: object) -> ReceivedSpan:  # fmt: skip
    start = int(1_700_000_000_000_000_000 + start_ms * 1e6)
    return ReceivedSpan(
        trace_id=trace, span_id=span_id, parent_span_id=parent, name=name, kind=kind, start_ns=start,
        end_ns=start + int(dur_ms * 1e6), status_code=status, status_message="", attributes=dict(attrs), events=[],
        resource={"service.name": "checkout"}, scope_name="s", transport="grpc",
    )  # fmt: skip


def test_trace_renders_as_an_indented_tree_with_kind_duration_status_tenant_and_http():
    http = {"http.request.method": "GET", "http.route": "/orders", "http.response.status_code": 200}
    root = _span("a" * 16, "", "GET /orders", "SERVER", 0, 12.5, **{"tenant.id": "acme", **http})
    db = _span("b" * 16, "a" * 16, "SELECT", "CLIENT", 1, 3)
    cache = _span("c" * 16, "a" * 16, "cache", "CLIENT", 5, 1)
    orphan = _span("d" * 16, "e" * 16, "late child", start_ms=2)
    lines = render_trace([cache, orphan, db, root], PLAIN)
    assert lines[0].startswith(f"trace {TRACE}  checkout  4 spans")
    assert lines[1] == "├─ GET /orders  SERVER  12.5 ms  UNSET  tenant=acme  GET /orders -> 200"
    assert lines[2] == "│  ├─ SELECT  CLIENT  3.0 ms  UNSET"
    assert lines[3] == "│  └─ cache  CLIENT  1.0 ms  UNSET"
    assert lines[4] == "└─ late child  INTERNAL  1.0 ms  UNSET  (orphan)"


def test_colour_is_ansi_only_when_enabled():
    span = _span("a" * 16, "", "x", status="ERROR")
    assert "\x1b[31mERROR\x1b[0m" in render_trace([span], Style(color=True))[1]
    assert "\x1b[" not in render_trace([span], PLAIN)[1]


def test_log_line_shows_time_severity_service_tenant_trace_prefix_and_body():
    record = ReceivedLog(
        timestamp_ns=1_700_000_000_123_000_000, severity_text="ERROR", severity_number=17, body="payment failed",
        attributes={"tenant.id": "globex"}, trace_id=TRACE, span_id="b" * 16, resource={"service.name": "pay"},
        scope_name="s", transport="http",
    )  # fmt: skip
    line = render_log(record, PLAIN)
    assert line.endswith("ERROR pay tenant=globex trace=0af76519 payment failed")
    assert line[:12].count(":") == 2 and line[8:12] == ".123"


def test_summary_counts_server_spans_per_tenant_with_errors_and_percentiles():
    summary = Summary()
    spans = [_span(f"{i:016x}", "", "GET", "SERVER", dur_ms=i + 1, **{"tenant.id": "acme"}) for i in range(100)]
    spans.append(_span("f" * 16, "", "GET", "SERVER", status="ERROR", **{"tenant.id": "globex"}))
    spans.append(_span("e" * 16, "", "GET", "SERVER", **{"tenant.id": "globex", "http.response.status_code": 503}))
    spans.append(_span("d" * 16, "", "db", "CLIENT", **{"tenant.id": "acme"}))
    summary.add_spans(spans)
    summary.add_points(["m1", "m1", "m2"])
    lines = summary.render(PLAIN)
    assert "103 spans · 0 logs · 3 metric points (2 metrics)" in lines[0]
    acme = next(line.split() for line in lines if line.strip().startswith("acme"))
    globex = next(line.split() for line in lines if line.strip().startswith("globex"))
    assert acme[1:] == ["100", "0", "0.0%", "50.0", "95.0", "99.0"]
    assert globex[1:4] == ["2", "2", "100.0%"]


def test_error_and_percentile_rules():
    assert is_error(_span("a" * 16, "", "x", status="ERROR"))
    assert is_error(_span("a" * 16, "", "x", **{"http.status_code": "500"}))
    assert not is_error(_span("a" * 16, "", "x", **{"http.response.status_code": 404}))
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 99) == 4.0


def test_trace_buffer_waits_for_quiet_traces_and_is_bounded():
    buffer = TraceBuffer(wait=1.0, max_traces=2, max_spans=3)
    assert buffer.add(_span("a" * 16, "", "r"), now=0.0) == []
    buffer.add(_span("b" * 16, "a" * 16, "c"), now=0.5)
    assert buffer.pop_ready(now=1.2) == []  # last span 0.7 s ago
    assert [len(t) for t in buffer.pop_ready(now=1.6)] == [2]
    buffer.add(_span("1" * 16, "", "t1", trace="1" * 32), now=2.0)
    buffer.add(_span("2" * 16, "", "t2", trace="2" * 32), now=2.0)
    evicted = buffer.add(_span("3" * 16, "", "t3", trace="3" * 32), now=2.0)
    assert [t[0].name for t in evicted] == ["t1"]  # over max_traces: oldest flushed early
    for i in range(2):
        buffer.add(_span(f"{i}" * 16, "", "x", trace="4" * 32), now=2.0)
    assert len(buffer.add(_span("9" * 16, "", "x", trace="4" * 32), now=2.0)[0]) == 3  # max_spans reached


def test_console_prints_logs_at_once_and_trees_on_finish():
    out = io.StringIO()
    console = Console(ConsoleOptions(summary_interval=0, trace_wait=60), out)
    console.on_records("traces", [_span("a" * 16, "", "GET /x", "SERVER", **{"tenant.id": "acme"})])
    console.process(0)
    assert out.getvalue() == ""  # the trace waits for more spans
    console.finish()
    text = out.getvalue()
    assert "└─ GET /x  SERVER" in text and "tenant=acme" in text
    assert "final summary" in text
