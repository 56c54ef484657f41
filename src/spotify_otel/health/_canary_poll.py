"""One query per backend asking "is the canary there yet?".

Each poller makes a single request and returns ``(found, details)``; a transport failure raises
:class:`~spotify_otel.health._http.ProbeError`. "Not there yet" answers (Jaeger's 404 "No traces
found", an Elasticsearch index that does not exist yet, an empty Prometheus vector) return
``found=False`` so the caller keeps polling until its deadline.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

from spotify_otel.health._canary_data import (
    ID_ATTRIBUTE,
    PROMETHEUS_LABEL,
    PROMETHEUS_METRIC,
    SERVICE_NAME,
    Canary,
)
from spotify_otel.health._http import ProbeError, Response, join, request

_WINDOW_NS = 5 * 60 * 1_000_000_000  # search window around the canary's send time


def rfc3339(ns: int) -> str:
    """Unix nanoseconds as RFC 3339 UTC with microseconds (Jaeger parses it as RFC3339Nano)."""
    when = dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _raise_unexpected(response: Response) -> None:
    if not response.ok:
        raise ProbeError(response.error_reason())


def jaeger_query_url(base: str, canary: Canary) -> str:
    """The Jaeger v2 API v3 search URL for the canary's service around its send time."""
    query = urllib.parse.urlencode(
        {
            "query.service_name": SERVICE_NAME,
            "query.start_time_min": rfc3339(canary.created_ns - _WINDOW_NS),
            "query.start_time_max": rfc3339(canary.created_ns + _WINDOW_NS),
            "query.num_traces": "100",
        }
    )
    return join(base, "/api/v3/traces") + "?" + query


def _otlp_spans(document: Any) -> Iterator[dict[str, Any]]:
    result = document.get("result") if isinstance(document, dict) else None
    for resource_spans in (result or {}).get("resourceSpans") or []:
        scopes = resource_spans.get("scopeSpans") or resource_spans.get("instrumentationLibrarySpans") or []
        for scope in scopes:
            yield from scope.get("spans") or []


def _string_attribute(attributes: list[dict[str, Any]] | None, key: str) -> str | None:
    for attribute in attributes or []:
        if attribute.get("key") == key:
            value = (attribute.get("value") or {}).get("stringValue")
            return None if value is None else str(value)
    return None


def poll_jaeger(base: str, canary: Canary, *, timeout: float) -> tuple[bool, dict[str, Any]]:
    """Search Jaeger for a span of service spotify-otel-canary with our canary.id attribute."""
    response = request("GET", jaeger_query_url(base, canary), timeout=timeout)
    if response.status == 404:  # Jaeger v2 answers 404 "No traces found" to an empty search
        return False, {"last_status": 404}
    _raise_unexpected(response)
    for span in _otlp_spans(response.json()):
        if _string_attribute(span.get("attributes"), ID_ATTRIBUTE) == canary.canary_id:
            return True, {"trace_id": span.get("traceId")}
    return False, {"last_status": response.status}


def prometheus_query(canary: Canary) -> str:
    """The PromQL selector of the canary's gauge."""
    return f'{PROMETHEUS_METRIC}{{{PROMETHEUS_LABEL}="{canary.canary_id}"}}'


def poll_prometheus(base: str, canary: Canary, *, timeout: float) -> tuple[bool, dict[str, Any]]:
    """Instant query for spotify_canary_timestamp_seconds{canary_id="<uuid>"}."""
    url = join(base, "/api/v1/query") + "?" + urllib.parse.urlencode({"query": prometheus_query(canary)})
    response = request("GET", url, timeout=timeout)
    _raise_unexpected(response)
    data = response.json()
    result = ((data or {}).get("data") or {}).get("result") or [] if isinstance(data, dict) else []
    if not result:
        return False, {"query": prometheus_query(canary)}
    return True, {"query": prometheus_query(canary), "labels": result[0].get("metric", {})}


def elasticsearch_query(canary: Canary) -> dict[str, Any]:
    """The _search body matching the canary log in the exporter's otel mapping mode."""
    should = [
        {"term": {f"attributes.{ID_ATTRIBUTE}": canary.canary_id}},
        {"match_phrase": {"body.text": canary.canary_id}},
    ]
    return {"size": 5, "query": {"bool": {"should": should, "minimum_should_match": 1}}}


def poll_elasticsearch(
    base: str, canary: Canary, *, timeout: float, index: str, headers: dict[str, str]
) -> tuple[bool, dict[str, Any]]:
    """POST /<index>/_search for the canary's log record (body.text / attributes.canary.id)."""
    url = join(base, "/" + urllib.parse.quote(index, safe="*,-_.") + "/_search")
    body = json.dumps(elasticsearch_query(canary)).encode()
    response = request("POST", url, timeout=timeout, body=body, headers={"Content-Type": "application/json", **headers})
    if response.status == 404:  # index_not_found: nothing written yet
        return False, {"last_status": 404}
    _raise_unexpected(response)
    data = response.json()
    hits = ((data or {}).get("hits") or {}).get("hits") or [] if isinstance(data, dict) else []
    if not hits:
        return False, {"index": index}
    return True, {"index": index, "document_index": hits[0].get("_index")}
