"""Data links from panels to the other two backends, through Grafana Explore.

Both go through the datasource variables (``$traces`` = Jaeger, ``$logs`` = Elasticsearch), never a
fixed uid. The Explore state is JSON in the URL; Grafana replaces the ``${...}`` variables before the
link opens (``${__field.labels.X}`` is the clicked series' label, ``${__from}``/``${__to}`` the time
range), so those are left unencoded while the JSON around them is percent-encoded.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

Json = dict[str, Any]
JAEGER = {"type": "jaeger", "uid": "${traces}"}
ELASTICSEARCH = {"type": "elasticsearch", "uid": "${logs}"}
_RANGE = {"from": "${__from}", "to": "${__to}"}


def _explore(pane: str, datasource: Json, query: Json) -> str:
    state = {
        pane: {
            "datasource": datasource["uid"],
            "queries": [{"refId": "A", "datasource": datasource, **query}],
            "range": _RANGE,
        }
    }
    encoded = urllib.parse.quote(json.dumps(state, separators=(",", ":")), safe="${}:,")
    return f"/explore?schemaVersion=1&orgId=1&panes={encoded}"


def _link(title: str, url: str) -> Json:
    return {"title": title, "url": url, "targetBlank": True}


def traces(label: str | None = None, tag: str | None = None) -> Json:
    """Jaeger search for the selected service, optionally narrowed to the clicked series' ``label``
    (sent as the span attribute ``tag``, e.g. ``http_route`` -> ``http.route``)."""
    query: Json = {"queryType": "search", "service": "${trace_service}", "limit": 20}
    title = "Traces of ${trace_service} in Jaeger"
    if label is not None and tag is not None:
        query["tags"] = f"{tag}=${{__field.labels.{label}:percentencode}}"
        title = f"Traces with {tag}=${{__field.labels.{label}}} in Jaeger"
    return _link(title, _explore("traces", JAEGER, query))


def tenant_logs() -> Json:
    """The clicked tenant's logs in Elasticsearch (``attributes.tenant.id``, one data stream per tenant)."""
    query = {
        "query": 'attributes.tenant.id:"${__field.labels.tenant_id:percentencode}"',
        "metrics": [{"id": "1", "type": "logs"}],
        "bucketAggs": [],
        "timeField": "@timestamp",
    }
    return _link(
        "Logs of tenant ${__field.labels.tenant_id} in Elasticsearch", _explore("logs", ELASTICSEARCH, query)
    )
