"""Telemetry pipeline health: SDK export, tenant guard, alert delivery, scrapes, and the collector itself."""

from __future__ import annotations

from .. import promql as pq
from ..board import Board
from ..panels import Q, stat, timeseries
from ..thresholds import EXPORT_FAILURE_RATIO, EXPORT_FAILURES, QUEUE_DROPS, QUEUE_UTILISATION, TENANT_OVERFLOW

FAILED = pq.sum_rate(pq.sel("spotify_otel_export_failed_total"), ("signal",))
EXPORTED = pq.sum_rate(pq.sel("spotify_otel_exported_total"), ("signal",))
SIGNALS = (("spans", "traces"), ("metric_points", "metrics"), ("log_records", "logs"))
COLLECTOR_SCRAPES = 'job=~"otel-collector.*"'
QUEUES = (("span", "spans"), ("log", "log records"))  # the SDK's batch processors


def _per_signal(metric: str, by: tuple[str, ...] = ()) -> list[Q]:
    """One query per signal: ``metric`` is a pattern such as ``otelcol_receiver_accepted_{}_total``."""
    legend = " ".join(f"{{{{{label}}}}}" for label in by)
    return [Q(pq.sum_rate(metric.format(item), by), f"{signal} {legend}".strip()) for item, signal in SIGNALS]


def _dropped_or_zero(kind: str) -> str:
    """Items the SDK's ``kind`` batch processor dropped per second and service (0 while none are)."""
    processed = f"otel_sdk_processor_{kind}_processed_total"
    dropped = pq.sum_rate(pq.sel(processed, 'error_type!=""'), ("job",))
    return f"{dropped}\nor {pq.sum_rate(pq.sel(processed), ('job',))} * 0"


def build() -> Board:
    """The Telemetry pipeline health dashboard."""
    b = Board(
        "spotify-pipeline",
        "Telemetry pipeline health",
        "Is telemetry getting through: SDK exports, dropped data, tenant overflow, alert delivery, "
        "Prometheus scrapes, and the collector's receivers, queues and exporters?",
        "Top rows are reported by the services' SDKs (spotify_otel_*, spotify_tenant_*); the collector row "
        "needs the collector's own metrics (otelcol_*, scrape job otel-collector on :8888). Dropped or "
        "refused items are data lost; a queue near capacity is about to drop.",
        tags=("pipeline", "collector"),
    )
    b.row("SDK export")
    b.add(
        timeseries(
            "Items exported",
            "Spans, metric points and log records exported successfully per second.",
            "cps",
            [Q(pq.sum_rate(pq.sel("spotify_otel_exported_total"), ("signal",)), "{{signal}}")],
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Items dropped by the SDK",
            "Items whose export failed after retries (lost), per second.",
            "cps",
            [Q(pq.sum_rate(pq.sel("spotify_otel_export_failed_total"), ("signal",)), "{{signal}}")],
            threshold=EXPORT_FAILURES,
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Export failure ratio",
            "Share of the items the SDK tried to export that were dropped, per signal.",
            "percentunit",
            [Q(f"{FAILED}\n/ ({FAILED}\n+ {EXPORTED})", "{{signal}}")],
            threshold=EXPORT_FAILURE_RATIO,
            max_value=1,
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Dropped on a full SDK queue",
            "Spans and log records the SDK's batch processors dropped because their queue was full "
            "(otel.sdk.processor.*.processed with error.type), per second and service.",
            "cps",
            # "or ... * 0": a flat zero line while nothing is dropped, instead of "No data"
            [Q(_dropped_or_zero(kind), f"{{{{job}}}} {label}") for kind, label in QUEUES],
            threshold=QUEUE_DROPS,
        ),
        w=12,
    )
    b.add(
        timeseries(
            "SDK queue fill",
            "Batch processor queue size / capacity, highest instance per service: near 1, the SDK drops.",
            "percentunit",
            [Q(f"max by (job) ({pq.sel(f'otel_sdk_processor_{kind}_queue_size')}\n"
               f"/ {pq.sel(f'otel_sdk_processor_{kind}_queue_capacity')})",
               f"{{{{job}}}} {label}") for kind, label in QUEUES],
            max_value=1,
        ),
        w=12,
    )
    b.row("Tenant guard and alerting")
    b.add(
        timeseries(
            "Tenant overflow",
            "Measurements per second folded into tenant '__overflow__' (max_tenants reached), per metric.",
            "cps",
            [Q(pq.sum_rate(pq.sel("spotify_tenant_overflow_total"), ("metric",)), "{{metric}}")],
            threshold=TENANT_OVERFLOW,
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Rejected tenant ids",
            "Tenant ids rejected by validation per second, by reason.",
            "cps",
            [Q(pq.sum_rate(pq.sel("spotify_tenant_rejected_total"), ("reason",)), "{{reason}}")],
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Alert notifications",
            "Alerts posted to Alertmanager per second by outcome (sent, deduplicated, failed).",
            "cps",
            [Q(pq.sum_rate(pq.sel("spotify_alerts_notifications_total"), ("outcome",)), "{{outcome}}")],
        ),
        w=8,
    )
    b.row("Prometheus scrapes")
    b.add(
        stat(
            "Collector endpoints up",
            "Prometheus scrape targets of the collector that answered (1) or not (0).",
            "short",
            [Q(f"up{{{COLLECTOR_SCRAPES}}}", "{{job}}")],
            sparkline=False,
        ),
        w=6,
    )
    b.add(
        timeseries(
            "Samples per scrape",
            "Samples Prometheus takes from the collector endpoints per scrape.",
            "short",
            [Q(f"scrape_samples_scraped{{{COLLECTOR_SCRAPES}}}", "{{job}}")],
        ),
        w=9,
    )
    b.add(
        timeseries(
            "Series per service",
            "Active series per service: watch for cardinality growth.",
            "short",
            [Q('count by (job) ({job=~"$service"})', "{{job}}")],
        ),
        w=9,
    )
    b.row("Collector")
    b.add(
        timeseries(
            "Collector accepted",
            "Items per second the collector's receivers accepted.",
            "cps",
            _per_signal("otelcol_receiver_accepted_{}_total"),
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Collector refused",
            "Items per second the receivers refused (memory_limiter back-pressure; the SDK retries).",
            "cps",
            _per_signal("otelcol_receiver_refused_{}_total"),
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Collector processors dropped",
            "Items per second that entered a processor and did not leave it (filters drop on purpose; "
            "memory_limiter refuses).",
            "cps",
            [
                Q(
                    "sum by (processor, otel_signal) "
                    f"(rate(otelcol_processor_incoming_items_total[{pq.RATE_INTERVAL}]))\n- sum by "
                    "(processor, otel_signal) "
                    f"(rate(otelcol_processor_outgoing_items_total[{pq.RATE_INTERVAL}]))",
                    "{{processor}} {{otel_signal}}",
                )
            ],
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Exporter sent",
            "Items per second each exporter delivered.",
            "cps",
            _per_signal("otelcol_exporter_sent_{}_total", ("exporter",)),
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Exporter failures",
            "Items per second that failed to send (retried) or to enter the sending queue (dropped).",
            "cps",
            [
                *_per_signal("otelcol_exporter_send_failed_{}_total", ("exporter",)),
                *[
                    Q(q.expr, f"enqueue failed {q.legend}")
                    for q in _per_signal("otelcol_exporter_enqueue_failed_{}_total", ("exporter",))
                ],
            ],
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Exporter queue utilisation",
            "Sending-queue size / capacity per exporter; at 100 % new data is dropped.",
            "percentunit",
            [
                Q(
                    "max by (exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity)",
                    "{{exporter}}",
                )
            ],
            threshold=QUEUE_UTILISATION,
            max_value=1,
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Collector memory",
            "Resident memory of the collector; memory_limiter refuses data near its limit_mib.",
            "bytes",
            [Q("sum by (instance) (otelcol_process_memory_rss_bytes)", "{{instance}}")],
        ),
        w=12,
    )
    b.add(
        timeseries(
            "Collector CPU",
            "CPU seconds per second used by the collector.",
            "short",
            [
                Q(
                    f"sum by (instance) (rate(otelcol_process_cpu_seconds_total[{pq.RATE_INTERVAL}]))",
                    "{{instance}}",
                )
            ],
        ),
        w=12,
    )
    return b
