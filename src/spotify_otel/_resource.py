"""The Resource: service identity, deployment environment, distro, and what the host, OS, process and
container detectors find. Our resolved settings win over detected values, except where a setting was
left at its default and ``OTEL_RESOURCE_ATTRIBUTES`` supplies the attribute."""

from __future__ import annotations

import logging

from opentelemetry.sdk.resources import (
    OsResourceDetector,
    OTELResourceDetector,
    ProcessResourceDetector,
    Resource,
    ResourceDetector,
    ServiceInstanceIdResourceDetector,
    get_aggregated_resources,
)

from spotify_otel._settings import SOURCE_DEFAULT, Settings
from spotify_otel._version import __version__

_logger = logging.getLogger("spotify_otel.resource")


def _detectors() -> list[ResourceDetector]:
    detectors: list[ResourceDetector] = [ServiceInstanceIdResourceDetector(), ProcessResourceDetector(),
                                         OsResourceDetector()]
    try:
        from opentelemetry.sdk.resources import _HostResourceDetector  # host.name, host.arch

        detectors.append(_HostResourceDetector())
    except ImportError:  # pragma: no cover - moved in a future SDK
        _logger.debug("host resource detector unavailable")
    try:
        from opentelemetry.resource.detector.containerid import ContainerResourceDetector

        detectors.append(ContainerResourceDetector())
    except ImportError:  # pragma: no cover - optional package
        _logger.debug("container id detector unavailable")
    detectors.append(OTELResourceDetector())  # OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME
    return detectors


def build_resource(settings: Settings) -> Resource:
    """Detected attributes overlaid with the configured service identity."""
    detected = get_aggregated_resources(_detectors(), Resource.get_empty(), timeout=2)
    ours: dict[str, str] = {
        "telemetry.distro.name": "spotify-otel",
        "telemetry.distro.version": __version__,
    }
    chosen = {
        "service.name": ("service_name", settings.service_name),
        "deployment.environment.name": ("environment", settings.environment),
    }
    for key, (setting, value) in chosen.items():
        if settings.sources.get(setting) != SOURCE_DEFAULT or key not in detected.attributes:
            ours[key] = value
    if settings.service_version:
        ours["service.version"] = settings.service_version
    if settings.service_namespace:
        ours["service.namespace"] = settings.service_namespace
    ours.update(settings.resource_attributes)
    return detected.merge(Resource(ours))
