"""The only global state: the active :class:`Telemetry`, idempotent initialisation, shutdown with a
deadline at exit, and a reset for tests."""

from __future__ import annotations

import atexit
import gc
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.metrics import CallbackOptions, Meter, NoOpMeterProvider, Observation
from opentelemetry.propagate import set_global_textmap
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import ProcessResourceDetector
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from spotify_otel import _logging, tenant
from spotify_otel._forks import FORKS
from spotify_otel._http_metrics import HttpServerMetrics
from spotify_otel._providers import Providers, build_providers
from spotify_otel._resource import build_resource
from spotify_otel._settings import Settings, resolve
from spotify_otel._tenant_limits import TenantLimits
from spotify_otel._tenant_propagation import TenantBaggagePropagator
from spotify_otel._tenant_resolution import TenantResolver
from spotify_otel._tenant_validation import TenantValidator
from spotify_otel.exceptions import SpotifyOtelWarning
from spotify_otel.integrations._server import ServerInstrumentation
from spotify_otel.metrics.accounting import RequestAccounting

_logger = logging.getLogger("spotify_otel")
_lock = threading.RLock()
_active: Telemetry | None = None
_atexit_registered = False


class Telemetry:
    """Handle returned by :func:`init_telemetry`: the providers, the settings, and shutdown."""

    def __init__(self, settings: Settings, providers: Providers | None = None) -> None:
        self.settings = settings
        self.providers = providers or Providers()
        self.limits = TenantLimits(settings.max_tenants, settings.default_tenant)
        self.server: ServerInstrumentation | None = None
        self._undo: list[Callable[[], None]] = []
        self._log_handlers: list[logging.Handler] = []
        self._shut_down = False
        self.meter: Meter = (self.providers.meter_provider or NoOpMeterProvider()).get_meter("spotify_otel")

    @property
    def enabled(self) -> bool:
        """False when telemetry was switched off (every API is then a cheap no-op)."""
        return self.settings.enabled

    def tracer(self, name: str) -> trace.Tracer:
        """A tracer from this telemetry's provider."""
        return trace.get_tracer(name, tracer_provider=self.providers.tracer_provider or trace.NoOpTracerProvider())

    def force_flush(self, timeout: float | None = None) -> bool:
        """Export everything buffered; returns False if the deadline passed first."""
        return self._run_all("force_flush", timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush and stop all signals within ``timeout`` seconds (default ``shutdown_timeout``).

        Never hangs: a provider still busy at the deadline (a dead collector) is abandoned to a daemon
        thread. Returns True when everything finished in time. Safe to call more than once.
        """
        with _lock:
            if self._shut_down:
                return True
            self._shut_down = True
        for undo in reversed(self._undo):
            try:
                undo()
            except Exception:
                _logger.debug("undo failed", exc_info=True)
        _logging.remove_handlers(self._log_handlers)
        return self._run_all("shutdown", timeout)

    def _run_all(self, method: str, timeout: float | None) -> bool:
        deadline = timeout if timeout is not None else self.settings.shutdown_timeout
        providers = [p for p in (self.providers.tracer_provider, self.providers.logger_provider,
                                 self.providers.meter_provider) if p is not None]
        millis = int(deadline * 1000)
        threads = []
        for provider in providers:
            call = getattr(provider, method)
            kwargs: dict[str, Any] = {"timeout_millis": millis} if method == "force_flush" or (
                provider is self.providers.meter_provider) else {}
            thread = threading.Thread(target=_quietly, args=(call, kwargs), daemon=True,
                                      name=f"spotify-otel-{method}")
            thread.start()
            threads.append(thread)
        end = time.monotonic() + deadline
        for thread in threads:
            thread.join(max(0.0, end - time.monotonic()))
        finished = not any(thread.is_alive() for thread in threads)
        if not finished:
            _logger.warning("spotify-otel: %s did not finish within %.1f s; continuing", method, deadline)
        return finished


def _quietly(call: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    try:
        call(**kwargs)
    except Exception:
        _logger.debug("provider call failed", exc_info=True)


def _tenant_observability(telemetry: Telemetry) -> TenantValidator:
    meter = telemetry.meter
    rejected = meter.create_counter(
        "spotify.tenant.rejected", unit="{value}",
        description="Tenant ids rejected by validation, by reason and source.",
    )

    def on_reject(reason: str, source: str) -> None:
        rejected.add(1, {"reason": reason, "source": source})

    def overflow(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(count, {"metric": name}) for name, count in telemetry.limits.overflow_counts().items()]

    meter.create_observable_counter(
        "spotify.tenant.overflow", callbacks=[overflow], unit="{measurement}",
        description="Measurements recorded as tenant __overflow__ because max_tenants was reached.",
    )
    return TenantValidator(telemetry.settings.tenant_max_length, on_reject=on_reject)


def _report_drops(providers: Providers) -> None:
    for processor in (providers.span_processor, providers.log_processor):
        report = getattr(processor, "report_drops", None)
        if report is not None:
            report()


def _export_observability(telemetry: Telemetry) -> None:
    """``spotify.otel.exported`` / ``spotify.otel.export.failed`` from the exporters' own counters."""
    providers = telemetry.providers
    exporters = {"traces": providers.span_exporter, "metrics": providers.metric_exporter,
                 "logs": providers.log_exporter}

    def observe(field: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def callback(options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(getattr(exporter.counters, field), {"signal": signal})
                    for signal, exporter in exporters.items() if exporter is not None]

        return callback

    exported = observe("exported")

    def exported_after_drop_report(options: CallbackOptions) -> Iterable[Observation]:
        # Callbacks run at each collection before the SDK's synchronous counters are read: the records the
        # full-queue path counted in bulk reach otel.sdk.processor.*.processed in the same collection.
        _report_drops(providers)
        return exported(options)

    telemetry.meter.create_observable_counter(
        "spotify.otel.exported", callbacks=[exported_after_drop_report], unit="{item}",
        description="Spans, metric points and log records exported successfully by this process.")
    telemetry.meter.create_observable_counter(
        "spotify.otel.export.failed", callbacks=[observe("failed_items")], unit="{item}",
        description="Items whose export failed after the exporter's retries (dropped).")


def _install_logging(telemetry: Telemetry) -> None:
    settings = telemetry.settings
    handlers: list[logging.Handler] = []
    if telemetry.providers.logger_provider is not None:
        handlers.append(_logging.OTLPLogHandler(telemetry.providers.logger_provider, settings.default_tenant,
                                                settings.log_level))
    if settings.json_logs:
        handlers.append(_logging.json_console_handler(settings.service_name))
    if not handlers:
        return
    root = logging.getLogger()
    if root.level == logging.WARNING and not root.handlers and settings.log_level < logging.WARNING:
        root.setLevel(settings.log_level)  # an unconfigured root would drop INFO records before export
    telemetry._log_handlers = handlers
    _logging.ensure_handlers(handlers)


def _make_warmup(telemetry: Telemetry) -> Callable[[], None]:
    done_after_fork = [-1]  # compared with the fork count: a child's first request warms up again

    def warmup() -> None:
        # Servers may configure logging after init (uvicorn dictConfig): re-attach once per process.
        if done_after_fork[0] != FORKS[0]:
            done_after_fork[0] = FORKS[0]
            _logging.ensure_handlers(telemetry._log_handlers)
            if telemetry.settings.gc_freeze:
                # What is alive at the first request (modules, routes, the app) lives as long as the
                # process: keep it out of full collections, which then scan only what requests allocate.
                gc.freeze()

    return warmup


def _instrument(telemetry: Telemetry, app: Any) -> None:
    settings = telemetry.settings
    from spotify_otel.integrations._semconv import use_stable_http_semconv
    from spotify_otel.integrations.django import instrument_django
    from spotify_otel.integrations.fastapi import instrument_fastapi
    from spotify_otel.integrations.http_clients import instrument_http_clients

    use_stable_http_semconv()
    server = telemetry.server
    assert server is not None
    tracer_provider = telemetry.providers.tracer_provider or trace.NoOpTracerProvider()
    installers: list[Callable[[], Callable[[], None] | None]] = [
        lambda: instrument_fastapi(server, tracer_provider, app),
        lambda: instrument_django(server, tracer_provider),
    ]
    if settings.instrument_http_clients:
        installers.append(lambda: instrument_http_clients(tracer_provider))
    for install in installers:
        try:
            undo = install()
        except Exception:
            _logger.exception("spotify-otel: instrumentation failed; continuing without it")
            continue
        if undo is not None:
            telemetry._undo.append(undo)
    from spotify_otel.integrations.shutdown_hooks import install_sigterm_flush, install_uvicorn_flush

    for install_hook in (install_sigterm_flush, install_uvicorn_flush):
        undo_hook = install_hook(telemetry.shutdown)
        if undo_hook is not None:
            telemetry._undo.append(undo_hook)
    if settings.system_metrics and telemetry.providers.meter_provider is not None:
        from spotify_otel.integrations.system import instrument_system_metrics

        undo_system = instrument_system_metrics(telemetry.providers.meter_provider)
        if undo_system is not None:
            telemetry._undo.append(undo_system)


def _refresh_process_after_fork(providers: Providers) -> None:
    """After ``fork()`` (gunicorn ``--preload``), put the child's ``process.*`` on the resource: the SDK
    refreshes only ``service.instance.id`` there. Registered after the providers' own fork hooks."""

    def after_in_child() -> None:
        try:
            process = ProcessResourceDetector().detect()
            for provider in (providers.tracer_provider, providers.meter_provider, providers.logger_provider):
                update = getattr(provider, "_update_resource", None)
                if update is not None:
                    update(process)
        except Exception:
            _logger.debug("process resource refresh after fork failed", exc_info=True)

    os.register_at_fork(after_in_child=after_in_child)


def _build(settings: Settings, app: Any) -> Telemetry:
    resource = build_resource(settings)
    telemetry = Telemetry(settings, build_providers(settings, resource))
    providers = telemetry.providers
    _refresh_process_after_fork(providers)
    if providers.tracer_provider is not None:
        trace.set_tracer_provider(providers.tracer_provider)
    if providers.meter_provider is not None:
        metrics.set_meter_provider(providers.meter_provider)
    if providers.logger_provider is not None:
        set_logger_provider(providers.logger_provider)
    # Explicit, not via OTEL_PROPAGATORS (read at import time, before a distro could set it).
    set_global_textmap(CompositePropagator([
        TraceContextTextMapPropagator(), TenantBaggagePropagator(settings.trust_inbound_baggage),
    ]))
    validator = _tenant_observability(telemetry)
    _export_observability(telemetry)
    tenant._configure(validator, settings.tenant_claim)
    resolver = TenantResolver(
        validator, settings.tenant_sources, settings.tenant_header, settings.tenant_claim,
        settings.tenant_base_domain, settings.trust_inbound_baggage, settings.tenant_resolver,
    )
    http_metrics = None
    if providers.meter_provider is not None:
        accounting = RequestAccounting(
            telemetry.meter, telemetry.limits, settings.slo_latency_threshold_ms / 1000, settings.cost_per_request,
            settings.cost_per_cpu_second, settings.cost_per_gb, settings.cost_cpu_time,
        )
        http_metrics = HttpServerMetrics(telemetry.meter, telemetry.limits, accounting)
    _install_logging(telemetry)
    telemetry.server = ServerInstrumentation(
        resolver, http_metrics, settings.excluded_urls, _make_warmup(telemetry), telemetry.shutdown
    )
    _instrument(telemetry, app)
    return telemetry


def init_telemetry(service_name: str | None = None, *, app: Any = None, **options: Any) -> Telemetry:
    """Set up traces, metrics and logs over OTLP, with the tenant on every signal.

    Args:
        service_name: ``service.name`` (else ``SPOTIFY_OTEL_SERVICE_NAME`` / ``OTEL_SERVICE_NAME``).
        app: an application to instrument explicitly (a FastAPI app that has already served
            requests); every FastAPI app and Django are instrumented anyway.
        **options: any setting of the configuration table, e.g. ``protocol="http/protobuf"``,
            ``endpoint="http://collector:4318"``, ``tenant_header="X-Org"``.

    Returns:
        The process's :class:`Telemetry`. A second call returns the same handle and warns.

    Raises:
        ConfigError: a keyword argument is unknown or invalid (environment mistakes are logged and
            fall back instead).

    Example::

        from spotify_otel import init_telemetry
        telemetry = init_telemetry("catalog-api")
    """
    global _active, _atexit_registered
    with _lock:
        if _active is not None:
            warnings.warn("init_telemetry() was already called; returning the existing Telemetry",
                          SpotifyOtelWarning, stacklevel=2)
            if app is not None and _active.server is not None:
                from spotify_otel.integrations.fastapi import reset_app_stack

                reset_app_stack(app)
            return _active
        settings = resolve({"service_name": service_name, **options})
        if not settings.enabled:
            _active = Telemetry(settings)
            return _active
        _active = _build(settings, app)
        if not _atexit_registered:
            atexit.register(_shutdown_at_exit)
            _atexit_registered = True
        return _active


def get_telemetry() -> Telemetry | None:
    """The active :class:`Telemetry`, or ``None`` before :func:`init_telemetry`."""
    return _active


def _shutdown_at_exit() -> None:
    if _active is not None:
        _active.shutdown()


def _reset_for_tests() -> None:
    """Shut down and forget the active telemetry, including OpenTelemetry's set-once globals."""
    global _active
    with _lock:
        if _active is not None:
            _active.shutdown(timeout=2)
        _active = None
    from opentelemetry import _logs as logs_api
    from opentelemetry.metrics import _internal as metrics_api

    trace._TRACER_PROVIDER_SET_ONCE._done = False
    trace._TRACER_PROVIDER = None
    metrics_api._METER_PROVIDER_SET_ONCE._done = False
    metrics_api._METER_PROVIDER = None
    logs_api._internal._LOGGER_PROVIDER_SET_ONCE._done = False
    logs_api._internal._LOGGER_PROVIDER = None
