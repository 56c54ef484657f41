"""Standard OTEL_* exporter options honoured end to end: mTLS (certificate, client key and certificate),
per-signal endpoints, and http/protobuf."""

from __future__ import annotations

import datetime
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from _support import ROOT, telemetry_env
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from spotify_otel.receiver import OTLPReceiver, TelemetryStore
from spotify_otel.receiver.grpc_transport import _ExportServicer
from spotify_otel.receiver.ingest import SIGNAL_SPECS

EMIT = """
import logging
from opentelemetry import trace
from spotify_otel import init_telemetry, tenant_context
telemetry = init_telemetry("options-test", system_metrics=False)
with tenant_context("acme"), trace.get_tracer("t").start_as_current_span("probe"):
    logging.getLogger("probe").warning("probe log")
print("flushed", telemetry.shutdown(timeout=8))
"""


def _cert(subject: str, issuer_key: ec.EllipticCurvePrivateKey | None, issuer: x509.Name | None, ca: bool,
          sans: list[x509.GeneralName] | None = None) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return key, builder.sign(issuer_key or key, hashes.SHA256())


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture
def mtls(tmp_path: Path) -> Iterator[tuple[TelemetryStore, int, Path]]:
    """A gRPC OTLP trace receiver requiring a client certificate signed by our CA."""
    ca_key, ca = _cert("test-ca", None, None, ca=True)
    server_key, server_cert = _cert("localhost", ca_key, ca.subject, ca=False, sans=[x509.DNSName("localhost")])
    client_key, client_cert = _cert("music-api", ca_key, ca.subject, ca=False)
    enc = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(enc))
    (tmp_path / "client.pem").write_bytes(client_cert.public_bytes(enc))
    (tmp_path / "client.key").write_bytes(_pem(client_key))
    store = TelemetryStore()
    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(
        _ExportServicer(store, SIGNAL_SPECS["traces"], threading.Event(), 1.0), server)
    credentials = grpc.ssl_server_credentials([(_pem(server_key), server_cert.public_bytes(enc))],
                                              root_certificates=ca.public_bytes(enc), require_client_auth=True)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    try:
        yield store, port, tmp_path
    finally:
        server.stop(0)


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", EMIT], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)


def test_mtls_with_certificate_and_client_key(mtls: tuple[TelemetryStore, int, Path]) -> None:
    store, port, certs = mtls
    env = telemetry_env(f"https://localhost:{port}", OTEL_EXPORTER_OTLP_CERTIFICATE=str(certs / "ca.pem"),
                        OTEL_EXPORTER_OTLP_CLIENT_KEY=str(certs / "client.key"),
                        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=str(certs / "client.pem"),
                        OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none")
    done = _run(env)
    assert "flushed True" in done.stdout, done.stdout + done.stderr
    assert [(s.name, s.tenant) for s in store.spans()] == [("probe", "acme")]


def test_mtls_without_client_certificate_is_refused(mtls: tuple[TelemetryStore, int, Path]) -> None:
    store, port, certs = mtls
    env = telemetry_env(f"https://localhost:{port}", OTEL_EXPORTER_OTLP_CERTIFICATE=str(certs / "ca.pem"),
                        OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none", OTEL_EXPORTER_OTLP_TIMEOUT="2")
    done = _run(env)
    assert done.returncode == 0, done.stderr  # the application is never hurt
    assert store.spans() == []


def test_per_signal_endpoints_split_signals(receiver: OTLPReceiver) -> None:
    with OTLPReceiver() as logs_receiver:
        env = telemetry_env("http://127.0.0.1:9", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=receiver.grpc_endpoint,
                            OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=logs_receiver.grpc_endpoint,
                            OTEL_METRICS_EXPORTER="none", OTEL_EXPORTER_OTLP_TIMEOUT="2")
        done = _run(env)
        assert "flushed True" in done.stdout, done.stdout + done.stderr
        assert [s.name for s in receiver.store.spans()] == ["probe"] and receiver.store.logs() == []
        logs = [log for log in logs_receiver.store.logs() if log.body == "probe log"]
        assert len(logs) == 1 and logs[0].tenant == "acme" and logs_receiver.store.spans() == []


def test_http_protobuf_with_gzip(receiver: OTLPReceiver) -> None:
    env = telemetry_env(receiver.http_endpoint, "http/protobuf", OTEL_EXPORTER_OTLP_COMPRESSION="gzip")
    done = _run(env)
    assert "flushed True" in done.stdout, done.stdout + done.stderr
    spans = receiver.store.spans()
    assert [(s.name, s.tenant, s.transport) for s in spans] == [("probe", "acme", "http")]
    assert [log.tenant for log in receiver.store.logs() if log.body == "probe log"] == ["acme"]


def test_sdk_disabled_exports_nothing(receiver: OTLPReceiver) -> None:
    done = _run(telemetry_env(receiver.grpc_endpoint, OTEL_SDK_DISABLED="true"))
    assert "flushed True" in done.stdout, done.stdout + done.stderr
    assert receiver.store.counts()["spans"] == 0 and receiver.store.counts()["logs"] == 0
