"""``system.network.connections`` counted from ``/proc/net`` must equal what the contrib callback counts
through ``psutil.net_connections()``, and the system metrics instrumentation must use it."""

from __future__ import annotations

import shutil
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from spotify_otel.integrations import system
from spotify_otel.integrations.system import TCP_STATES, connection_counts, instrument_system_metrics

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="Linux /proc/net only")
HEADER = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")


def psutil_counts(procfs: Path) -> Counter[tuple[str, str, Any, Any]]:
    """What the contrib callback counts: psutil.net_connections("inet") reading ``procfs``."""
    previous = psutil.PROCFS_PATH
    psutil.PROCFS_PATH = str(procfs)
    try:
        connections = psutil.net_connections("inet")
    finally:
        psutil.PROCFS_PATH = previous
    return Counter(({1: "tcp", 2: "udp"}[c.type.value], c.status, c.family, c.type) for c in connections)


def line(index: int, v6: bool, state: str, port: int) -> str:
    local = ("0" * 24 + "0100007F") if v6 else "0100007F"
    remote = ("0" * 24 + "0200007F") if v6 else "0200007F"
    return (f"{index:4d}: {local}:{port:04X} {remote}:{index + 1:04X} {state} 00000000:00000000 00:00000000 "
            f"00000000  1000        0 {1000 + index} 1 0000000000000000 100 0 0 10 0\n")


tables = st.fixed_dictionaries({
    name: st.lists(st.sampled_from(sorted(TCP_STATES)) if name.startswith("tcp") else st.just("07"), max_size=40)
    for name in ("tcp", "tcp6", "udp", "udp6")})


@pytest.fixture
def procfs(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "net").mkdir()
    yield tmp_path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=tables, drop_v6=st.booleans())
def test_counts_equal_psutils_on_any_table(procfs: Path, content: dict[str, list[str]], drop_v6: bool) -> None:
    for name, states in content.items():
        path = procfs / "net" / name
        path.unlink(missing_ok=True)
        if drop_v6 and name.endswith("6"):
            continue  # IPv6 disabled: no tcp6/udp6 tables
        path.write_text(HEADER + "".join(line(i, name.endswith("6"), s, 8000 + i) for i, s in enumerate(states)))
    assert connection_counts(str(procfs)) == psutil_counts(procfs)


def test_counts_equal_psutils_on_this_hosts_tables(procfs: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        for name in ("tcp", "tcp6", "udp", "udp6"):  # one snapshot, read by both
            if Path(f"/proc/net/{name}").exists():
                shutil.copyfile(f"/proc/net/{name}", procfs / "net" / name)
        client.close()
        accepted.close()
    ours = connection_counts(str(procfs))
    assert ours == psutil_counts(procfs)
    assert ours[("tcp", "LISTEN", socket.AF_INET, socket.SOCK_STREAM)] >= 1
    assert ours[("tcp", "ESTABLISHED", socket.AF_INET, socket.SOCK_STREAM)] >= 2


def test_without_a_tcp_table_it_raises(procfs: Path) -> None:
    with pytest.raises(OSError):
        connection_counts(str(procfs))


def test_the_system_metrics_use_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_psutil(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("psutil.net_connections called")

    monkeypatch.setattr(psutil, "net_connections", no_psutil)
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    undo = instrument_system_metrics(provider)
    assert undo is not None
    try:
        with socket.create_server(("127.0.0.1", 0)):
            data = reader.get_metrics_data()
        points = [point for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics  # type: ignore[union-attr]
                  if m.name == "system.network.connections" for point in m.data.data_points]  # type: ignore[union-attr]
        listening = [p for p in points if p.attributes["state"] == "LISTEN" and p.attributes["protocol"] == "tcp"]
        assert listening and sum(p.value for p in listening) >= 1  # type: ignore[attr-defined]
        assert all(set(p.attributes) == {"protocol", "state", "family", "type"} for p in points)
    finally:
        undo()
        provider.shutdown()


def test_other_labels_keep_the_contrib_callback(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.instrumentation import system_metrics

    monkeypatch.setitem(system_metrics._DEFAULT_CONFIG, "system.network.connections", ["family", "laddr"])
    seen = []
    monkeypatch.setattr(system, "_observe_connections", lambda *a: seen.append(a) or [])
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    undo = instrument_system_metrics(provider)
    assert undo is not None
    try:
        reader.get_metrics_data()
        assert seen == []
    finally:
        undo()
        provider.shutdown()
