"""Helpers for the dashboard tests: load the generated JSON, walk panels and queries, substitute Grafana
variables the way Grafana would, and run a real Prometheus (Debian 2.42) on a free loopback port."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _support import ROOT, free_port, poll

DASHBOARDS = ROOT / "dashboards"
Json = dict[str, Any]
SCRAPE_JOB = "otel-collector-exporter"  # as in collector/prometheus/prometheus.yml


def load_dashboards() -> dict[str, Json]:
    """Every ``dashboards/*.json`` by file name."""
    return {path.name: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(DASHBOARDS.glob("*.json"))}


def panels(dashboard: Json) -> Iterator[Json]:
    """Every panel that is not a row (rows' nested panels included)."""
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


@dataclass(frozen=True)
class Query:
    """One PromQL expression of a dashboard and where it comes from."""

    dashboard: str  # uid
    panel: str  # panel title, "$<variable>" or "annotation: <name>"
    ref: str
    expr: str
    kind: str  # "panel", "variable", "annotation"


def label_values_to_promql(definition: str) -> str:
    """Grafana's ``label_values(<selector>, <label>)`` as an equivalent PromQL expression."""
    match = re.fullmatch(r"label_values\((?:(.*),\s*)?(\w+)\)", definition.strip(), re.DOTALL)
    if match is None:
        raise ValueError(f"not a label_values() query: {definition!r}")
    label = match.group(2)
    selector = match.group(1) or f'{{{label}!=""}}'
    return f"group by ({label}) ({selector})"


def queries(dashboards: Mapping[str, Json]) -> list[Query]:
    """Every PromQL expression: panel targets, query variables, annotations."""
    found = []
    for board in dashboards.values():
        uid = board["uid"]
        for panel in panels(board):
            for target in panel.get("targets", []):
                found.append(Query(uid, panel["title"], target["refId"], target["expr"], "panel"))
        for variable in board["templating"]["list"]:
            if variable["type"] == "query":
                found.append(Query(uid, f"${variable['name']}", "var",
                                   label_values_to_promql(variable["definition"]), "variable"))
        for annotation in board["annotations"]["list"]:
            if "expr" in annotation:
                found.append(Query(uid, f"annotation: {annotation['name']}", "ann", annotation["expr"],
                                   "annotation"))
    return found


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """Replace ``$name`` / ``${name}`` as Grafana does before sending the query (longest names first)."""
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace("${" + name + "}", values[name])
        expr = re.sub(rf"\${re.escape(name)}(?!\w)", values[name].replace("\\", "\\\\"), expr)
    leftover = re.search(r"\$\{?[A-Za-z_]\w*", expr)
    if leftover:
        raise AssertionError(f"unsubstituted variable {leftover.group(0)} in {expr!r}")
    return expr


class Prometheus:
    """A real Prometheus in a temporary directory, scraping ``targets`` every second."""

    def __init__(self, targets: list[str]) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise RuntimeError("prometheus not installed (apt-get install prometheus)")
        self.dir = Path(tempfile.mkdtemp(prefix="dashboards-prom-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        static = json.dumps(targets)
        (self.dir / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: {SCRAPE_JOB}\n    honor_labels: true\n"
            f"    static_configs: [{{targets: {static}}}]\n",
            encoding="utf-8")
        self._log = (self.dir / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [binary, f"--config.file={self.dir / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.dir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--enable-feature=exemplar-storage",
             "--log.level=warn"],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 20.0) -> Prometheus:
        """Block until ``/-/ready`` answers 200."""
        def ready() -> bool:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as response:
                return bool(response.status == 200)
        if not poll(lambda: self.process.poll() is None and ready(), timeout, interval=0.1):
            self.stop()
            raise AssertionError(f"prometheus not ready:\n{self.output()}")
        return self

    def query(self, expr: str) -> Json:
        """``/api/v1/query`` (instant, now); returns the JSON body for success and error answers alike."""
        data = urllib.parse.urlencode({"query": expr}).encode()
        try:
            with urllib.request.urlopen(self.url + "/api/v1/query", data=data, timeout=10) as response:
                body: Json = json.load(response)
        except urllib.error.HTTPError as exc:
            body = json.load(exc)
        return body

    def stop(self) -> None:
        """Terminate the process we started (by its handle) and remove its directory."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def output(self) -> str:
        """Prometheus' log so far."""
        self._log.flush()
        return (self.dir / "prometheus.log").read_text(errors="replace")


# What Grafana sends with "All" selected (allValue ".+"), the default SLO objectives, and the
# $__rate_interval Grafana computes for a 15 s scrape interval (4 x 15 s).
ALL_VARIABLES = {
    "service": ".+", "tenant": ".+", "model": ".+", "trace_service": "music-api",
    "slo_availability": "0.999", "slo_latency": "0.99",
    "__rate_interval": "1m", "__range": "5m", "__interval": "15s",
}
