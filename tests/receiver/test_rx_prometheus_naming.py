"""Name, label and value translation agrees with the collector's prometheus exporter (otlptranslator)."""

from __future__ import annotations

import pytest

from spotify_otel.receiver import prom_naming as pn

# (otlp name, unit, type) -> expected, taken from prometheus/otlptranslator metric_namer_test.go
# (UnderscoreEscapingWithSuffixes, no namespace) and the collector's own documentation examples.
UPSTREAM_METRIC_NAMES = [
    ("requests", "", pn.COUNTER, "requests_total"),
    ("cpu_usage", "1", pn.GAUGE, "cpu_usage_ratio"),
    ("items", "1", pn.COUNTER, "items_total"),
    ("response_time", "ms", pn.GAUGE, "response_time_milliseconds"),
    ("memory_usage", "By", pn.GAUGE, "memory_usage_bytes"),
    ("requests", "1/s", pn.GAUGE, "requests_per_second"),
    ("throughput", "By/s", pn.GAUGE, "throughput_bytes_per_second"),
    ("custom_metric", "custom_unit", pn.GAUGE, "custom_metric_custom_unit"),
    ("custom_metric", "{custom}", pn.GAUGE, "custom_metric"),
    ("custom_metric", "By/{custom}", pn.GAUGE, "custom_metric_bytes"),
    ("requests_total", "", pn.COUNTER, "requests_total"),
    ("cpu_usage_ratio", "1", pn.GAUGE, "cpu_usage_ratio"),
    ("response_time_seconds", "s", pn.GAUGE, "response_time_seconds"),
    ("metric__with__multiple__underscores", "unit__multiple__underscores", pn.GAUGE,
     "metric_with_multiple_underscores_unit_multiple_underscores"),
    ("custom_metric", "unit@with#special/chars", pn.GAUGE, "custom_metric_unit_with_special_per_chars"),
    ("@#$%", "", pn.GAUGE, ""),
    ("request_duration", "s", pn.HISTOGRAM, "request_duration_seconds"),
    ("response_time", "ms", pn.SUMMARY, "response_time_milliseconds"),
    ("active_connections", "", pn.NON_MONOTONIC_SUM, "active_connections"),
    ("uptime", "d", pn.GAUGE, "uptime_days"),
    ("duration", "h", pn.GAUGE, "duration_hours"),
    ("http.server.request.duration", "s", pn.HISTOGRAM, "http_server_request_duration_seconds"),
    ("http.server.duration", "ms", pn.HISTOGRAM, "http_server_duration_milliseconds"),
    ("app.requests", "{request}", pn.COUNTER, "app_requests_total"),
    ("system.cpu.time", "s", pn.COUNTER, "system_cpu_time_seconds_total"),
    ("process.memory.usage", "By", pn.NON_MONOTONIC_SUM, "process_memory_usage_bytes"),
    ("system.cpu.utilization", "1", pn.GAUGE, "system_cpu_utilization_ratio"),
    ("queue.size", "1", pn.NON_MONOTONIC_SUM, "queue_size"),
    ("5xx.count", "", pn.COUNTER, "_5xx_count_total"),
    ("total.requests", "", pn.COUNTER, "requests_total"),
    ("net-io", "By/s", pn.COUNTER, "net_io_bytes_per_second_total"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "unit", "kind", "expected"), UPSTREAM_METRIC_NAMES)
def test_metric_names_follow_the_exporter(name, unit, kind, expected):
    assert pn.metric_name(name, unit, kind) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("tenant.id", "tenant_id"),
        ("http.response.status_code", "http_response_status_code"),
        ("service-name", "service_name"),
        ("1st", "key_1st"),
        ("_private", "key_private"),
        ("__reserved__", "__reserved__"),
        ("ünïcode", "key_n_code"),
        ("", ""),
    ],
)
def test_label_names_follow_the_label_namer(key, expected):
    assert pn.label_name(key) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0"),
        (1.0, "1"),
        (-1.0, "-1"),
        (0.005, "0.005"),
        (2500.0, "2500"),
        (123456.0, "123456"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
        (float("nan"), "NaN"),
    ],
)
def test_sample_values_are_formatted_like_go_strconv_g(value, expected):
    assert pn.format_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme", "acme"),
        (True, "true"),
        (42, "42"),
        (1.5, "1.5"),
        (100.0, "100"),
        (1e-7, "1e-7"),
        (("a", 1, 2.5, False), '["a",1,2.5,false]'),
        ({"b": 1, "a": "<x>"}, '{"a":"\\u003cx\\u003e","b":1}'),
        (b"\x01\x02", "AQI="),
    ],
)
def test_label_values_render_like_pdata_as_string(value, expected):
    assert pn.label_value(value) == expected


def test_label_values_and_help_are_escaped_for_the_text_format():
    assert pn.escape_label_value('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert pn.escape_help('say "hi"\\\n') == 'say "hi"\\\\\\n'
