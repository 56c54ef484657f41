"""collector/scripts: --help, --dry-run and option errors of every script, the safety checks of
restore.sh, and a real Prometheus backup and restore (two Prometheus servers on loopback)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from collector_helpers import COLLECTOR, SCRIPTS

SCRIPT_FILES = ["setup.sh", "deploy.sh", "backup.sh", "restore.sh"]
ALL_SCRIPTS = [SCRIPTS / name for name in SCRIPT_FILES] + [COLLECTOR / "elasticsearch" / "install.sh"]
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


def run_script(
    script: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Runs a script with a clean environment (only PATH and HOME, plus ``env``)."""
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    clean.update(env or {})
    return subprocess.run([str(script), *args], capture_output=True, text=True, env=clean, timeout=timeout, check=False)


@pytest.mark.parametrize("script", ALL_SCRIPTS, ids=lambda p: p.name)
def test_help_prints_usage(script: Path) -> None:
    result = run_script(script, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage:")
    assert "--dry-run" in result.stdout


@pytest.mark.parametrize("script", ALL_SCRIPTS, ids=lambda p: p.name)
def test_unknown_option_fails_with_a_message(script: Path) -> None:
    result = run_script(script, "--no-such-option")
    assert result.returncode != 0
    assert "unknown option: --no-such-option" in result.stderr


@pytest.mark.parametrize("script", ALL_SCRIPTS, ids=lambda p: p.name)
def test_scripts_are_strict_bash(script: Path) -> None:
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert os.access(script, os.X_OK)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_shellcheck_is_clean() -> None:
    files = [str(p) for p in [*ALL_SCRIPTS, SCRIPTS / "_common.sh"]]
    result = subprocess.run(
        ["shellcheck", "-x", "-P", "SCRIPTDIR", *files], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout


def test_backup_dry_run_prints_every_request_and_touches_nothing(tmp_path: Path) -> None:
    backup_dir = tmp_path / "backup"
    result = run_script(
        SCRIPTS / "backup.sh", "--dry-run",
        "--backup-dir", str(backup_dir),
        "--prometheus-url", "http://127.0.0.1:9999",
        "--prometheus-data-dir", "/var/lib/prometheus",
        "--es-url", "http://es.internal:9200",
        "--grafana-url", "http://grafana.internal:3000",
        "--name", "nightly-1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "curl -fsS --max-time 300 -X POST http://127.0.0.1:9999/api/v1/admin/tsdb/snapshot" in out
    assert "tar -C '/var/lib/prometheus/snapshots/<snapshot-name>' -czf" in out
    assert "-X PUT http://es.internal:9200/_snapshot/spotify-otel-backups " in out
    assert "/_snapshot/spotify-otel-backups/nightly-1?wait_for_completion=true" in out
    assert "http://grafana.internal:3000/api/search?type=dash-db" in out
    assert "http://grafana.internal:3000/api/dashboards/uid/<uid>" in out
    assert not backup_dir.exists()


def test_backup_only_selects_components(tmp_path: Path) -> None:
    result = run_script(SCRIPTS / "backup.sh", "--dry-run", "--only", "grafana", "--backup-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "/api/search" in result.stdout
    assert "snapshot" not in result.stdout
    bad = run_script(SCRIPTS / "backup.sh", "--dry-run", "--only", "grafana,loki")
    assert bad.returncode != 0 and "unknown component in --only: loki" in bad.stderr


def test_backup_with_the_compose_container_uses_docker_cp(tmp_path: Path) -> None:
    result = run_script(
        SCRIPTS / "backup.sh", "--dry-run", "--only=prometheus", f"--backup-dir={tmp_path}",
        "--prometheus-container", "spotify-otel-prometheus-1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "docker cp 'spotify-otel-prometheus-1:/prometheus/snapshots/<snapshot-name>'" in result.stdout


def test_secrets_are_masked_in_dry_run_output(tmp_path: Path) -> None:
    result = run_script(
        SCRIPTS / "backup.sh", "--dry-run", "--backup-dir", str(tmp_path), "--only", "elasticsearch,grafana",
        env={
            "ELASTICSEARCH_USER": "elastic",
            "ELASTICSEARCH_PASSWORD": "es-pass-7731",
            "GRAFANA_TOKEN": "glsa_token_0042",
        },
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "es-pass-7731" not in output and "glsa_token_0042" not in output
    assert "-u elastic:****" in output
    assert "'Authorization: Bearer ****'" in output


def test_backup_rejects_an_invalid_snapshot_name() -> None:
    result = run_script(SCRIPTS / "backup.sh", "--dry-run", "--name", "Nightly")
    assert result.returncode != 0
    assert "--name must be lower-case" in result.stderr


def _fake_backup(tmp_path: Path) -> Path:
    backup = tmp_path / "backup"
    (backup / "prometheus").mkdir(parents=True)
    (backup / "elasticsearch").mkdir()
    (backup / "grafana").mkdir()
    block = tmp_path / "block" / "01ABCDEF"
    block.mkdir(parents=True)
    (block / "meta.json").write_text("{}", encoding="utf-8")
    with tarfile.open(backup / "prometheus" / "prometheus-snapshot-x.tar.gz", "w:gz") as archive:
        archive.add(block, arcname="./01ABCDEF")
    snapshot = {"repository": "repo-a", "snapshot": "snap-1", "indices": "logs-*", "location": "/snapshots"}
    (backup / "elasticsearch" / "snapshot.json").write_text(json.dumps(snapshot), encoding="utf-8")
    dashboard = {"dashboard": {"id": 7, "uid": "tenants", "title": "Tenants"}, "meta": {"folderUid": "f1"}}
    (backup / "grafana" / "tenants.json").write_text(json.dumps(dashboard), encoding="utf-8")
    return backup


def test_restore_dry_run_prints_every_step_and_touches_nothing(tmp_path: Path) -> None:
    backup = _fake_backup(tmp_path)
    data_dir = tmp_path / "prom-data"
    result = run_script(
        SCRIPTS / "restore.sh", "--dry-run", "--from", str(backup),
        "--prometheus-data-dir", str(data_dir),
        "--es-url", "http://es.internal:9200", "--grafana-url", "http://grafana.internal:3000",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"tar -C {data_dir} -xzf {backup}/prometheus/prometheus-snapshot-x.tar.gz" in out
    assert "-X PUT http://es.internal:9200/_snapshot/repo-a " in out
    assert "-X POST 'http://es.internal:9200/_snapshot/repo-a/snap-1/_restore?wait_for_completion=true'" in out
    assert "-X POST http://grafana.internal:3000/api/dashboards/db" in out
    assert "Prometheus must be stopped" in result.stderr
    assert not data_dir.exists()


def test_restore_refuses_a_non_empty_data_dir_unless_forced(tmp_path: Path) -> None:
    backup = _fake_backup(tmp_path)
    data_dir = tmp_path / "prom-data"
    data_dir.mkdir()
    (data_dir / "wal").mkdir()
    refused = run_script(
        SCRIPTS / "restore.sh", "--only", "prometheus", "--from", str(backup), "--prometheus-data-dir", str(data_dir)
    )
    assert refused.returncode != 0
    assert "is not empty" in refused.stderr
    assert not (data_dir / "01ABCDEF").exists()
    forced = run_script(
        SCRIPTS / "restore.sh", "--only", "prometheus", "--from", str(backup),
        "--prometheus-data-dir", str(data_dir), "--force",
    )  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert (data_dir / "01ABCDEF" / "meta.json").is_file()


def test_restore_refuses_an_archive_escaping_the_data_dir(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "payload"
    payload.write_text("x", encoding="utf-8")
    with tarfile.open(evil, "w:gz") as archive:
        archive.add(payload, arcname="../escaped")
    result = run_script(
        SCRIPTS / "restore.sh", "--only", "prometheus", "--prometheus-tarball", str(evil),
        "--prometheus-data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert result.returncode != 0
    assert "unsafe path" in result.stderr
    assert not (tmp_path / "escaped").exists()


def test_restore_needs_a_data_dir_for_prometheus(tmp_path: Path) -> None:
    result = run_script(SCRIPTS / "restore.sh", "--only", "prometheus", "--from", str(_fake_backup(tmp_path)))
    assert result.returncode != 0
    assert "--prometheus-data-dir is required" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--env", "dev", "--target", "compose"],
            "docker compose -f {root}/collector/compose/docker-compose.yml --env-file",
        ),
        (["--env", "staging", "--target", "k8s"], "kubectl -n spotify-otel-staging apply -k {root}/collector/k8s"),
        (
            ["--env", "prod", "--target", "k8s", "--flavor", "operator", "--context", "prod-eu", "--namespace", "obs"],
            "kubectl --context prod-eu -n obs apply -f {root}/collector/operator/collector.yaml",
        ),
    ],
)
def test_deploy_dry_run(args: list[str], expected: str) -> None:
    result = run_script(SCRIPTS / "deploy.sh", "--dry-run", *args)
    assert result.returncode == 0, result.stderr
    assert expected.format(root=COLLECTOR.parent) in result.stdout


def test_deploy_validates_its_arguments() -> None:
    missing = run_script(SCRIPTS / "deploy.sh", "--target", "compose")
    assert missing.returncode != 0 and "--env is required" in missing.stderr
    wrong = run_script(SCRIPTS / "deploy.sh", "--env", "qa", "--target", "compose")
    assert wrong.returncode != 0 and "--env must be dev, staging or prod" in wrong.stderr
    prod = run_script(SCRIPTS / "deploy.sh", "--env", "prod", "--target", "compose")
    assert prod.returncode != 0 and "needs --yes" in prod.stderr


def test_setup_dry_run(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    result = run_script(
        SCRIPTS / "setup.sh", "--dry-run", "--env-file", str(env_file), "--venv", str(tmp_path / "venv")
    )
    assert result.returncode == 0, result.stderr
    assert f"cp {COLLECTOR}/compose/.env.example {env_file}" in result.stdout
    assert f"chmod 600 {env_file}" in result.stdout
    assert f"{tmp_path}/venv/bin/python -m pip install -e" in result.stdout
    assert not env_file.exists() and not (tmp_path / "venv").exists()


def test_setup_creates_the_env_file_and_keeps_an_existing_one(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    first = run_script(SCRIPTS / "setup.sh", "--skip-pip", "--env-file", str(env_file))
    assert first.returncode == 0, first.stderr
    assert env_file.read_text(encoding="utf-8") == (COLLECTOR / "compose" / ".env.example").read_text(encoding="utf-8")
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    env_file.write_text("GRAFANA_ADMIN_PASSWORD=mine\n", encoding="utf-8")
    second = run_script(SCRIPTS / "setup.sh", "--skip-pip", "--env-file", str(env_file))
    assert second.returncode == 0
    assert env_file.read_text(encoding="utf-8") == "GRAFANA_ADMIN_PASSWORD=mine\n"


# --- a real Prometheus backup and restore ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(url: str, process: subprocess.Popen[bytes], deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"Prometheus exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready after {deadline_s}s")


class PrometheusServers:
    """Starts Prometheus servers on loopback and stops them by their process handle."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, data_dir: Path, admin_api: bool = False) -> str:
        port = _free_port()
        config = self.workdir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n", encoding="utf-8")
        log = (self.workdir / f"prometheus-{port}.log").open("wb")
        args = [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={data_dir}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        if admin_api:
            args.append("--web.enable-admin-api")
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        log.close()
        self.processes.append(process)
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process)
        return url

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def stop_all(self) -> None:
        for process in self.processes:
            self.stop(process)


@pytest.fixture
def prometheus_servers(tmp_path: Path) -> Iterator[PrometheusServers]:
    if not (Path(PROMETHEUS).exists() and Path(PROMTOOL).exists()):
        pytest.skip("needs /usr/bin/prometheus and /usr/bin/promtool (Debian package prometheus)")
    servers = PrometheusServers(tmp_path)
    try:
        yield servers
    finally:
        servers.stop_all()


def _query(url: str, expr: str, at: int) -> list[dict[str, object]]:
    query = urllib.parse.urlencode({"query": expr, "time": str(at)})
    with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=5) as response:
        body = json.load(response)
    assert body["status"] == "success"
    result: list[dict[str, object]] = body["data"]["result"]
    return result


@pytest.mark.slow
def test_real_prometheus_backup_and_restore(tmp_path: Path, prometheus_servers: PrometheusServers) -> None:
    # A TSDB block with known samples, written offline by promtool (no scraping to wait for).
    data = tmp_path / "data"
    data.mkdir()
    sample_at = int(time.time()) - 3600
    openmetrics = tmp_path / "samples.om"
    openmetrics.write_text(
        "# TYPE spotify_backup_probe gauge\n"
        f'spotify_backup_probe{{tenant_id="acme"}} 42 {sample_at}\n'
        f'spotify_backup_probe{{tenant_id="acme"}} 43 {sample_at + 60}\n'
        "# EOF\n",
        encoding="utf-8",
    )
    subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(openmetrics), str(data)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    blocks = sorted(p.name for p in data.iterdir() if (p / "meta.json").is_file())
    assert blocks, "promtool wrote no block"

    source_url = prometheus_servers.start(data, admin_api=True)
    assert _query(source_url, "spotify_backup_probe", sample_at + 60)[0]["value"] == [sample_at + 60, "43"]

    backup_dir = tmp_path / "backup"
    backup = run_script(
        SCRIPTS / "backup.sh", "--only", "prometheus", "--prometheus-url", source_url,
        "--prometheus-data-dir", str(data), "--backup-dir", str(backup_dir),
    )  # fmt: skip
    assert backup.returncode == 0, backup.stderr
    tarballs = list((backup_dir / "prometheus").glob("prometheus-snapshot-*.tar.gz"))
    assert len(tarballs) == 1 and tarballs[0].stat().st_size > 0
    with tarfile.open(tarballs[0]) as archive:
        names = archive.getnames()
    assert all(f"./{block}/meta.json" in names for block in blocks)
    assert "prometheus snapshot=" in (backup_dir / "MANIFEST.txt").read_text(encoding="utf-8")
    prometheus_servers.stop(prometheus_servers.processes[0])

    restored = tmp_path / "restored"
    restore = run_script(
        SCRIPTS / "restore.sh", "--only", "prometheus", "--from", str(backup_dir),
        "--prometheus-data-dir", str(restored),
    )  # fmt: skip
    assert restore.returncode == 0, restore.stderr
    assert all((restored / block / "meta.json").is_file() for block in blocks)

    restored_url = prometheus_servers.start(restored)
    series = _query(restored_url, "spotify_backup_probe", sample_at + 60)
    assert series == [
        {"metric": {"__name__": "spotify_backup_probe", "tenant_id": "acme"}, "value": [sample_at + 60, "43"]}
    ]
