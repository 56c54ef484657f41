#!/usr/bin/env bash
# Backs up the spotify-otel stack: a Prometheus TSDB snapshot (admin API) copied into a tar.gz, an
# Elasticsearch snapshot (snapshot API, fs repository) and the Grafana dashboards (HTTP API) as JSON.
set -euo pipefail
# shellcheck disable=SC2034  # read by _common.sh
SCRIPT_NAME=backup.sh
# shellcheck source=_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<'USAGE'
Usage: backup.sh [options]

Backs up Prometheus, Elasticsearch and Grafana into one folder:
  <backup-dir>/prometheus/prometheus-snapshot-<name>.tar.gz   TSDB snapshot (restore.sh extracts it)
  <backup-dir>/elasticsearch/snapshot.json                    repository + snapshot name (data stays
                                                              in the Elasticsearch repository)
  <backup-dir>/grafana/<uid>.json                             one file per dashboard
  <backup-dir>/MANIFEST.txt

Options (environment variable in brackets):
  --only LIST                 components, comma-separated: prometheus,elasticsearch,grafana (all)
  --backup-dir DIR            destination [BACKUP_DIR] (./backups/<UTC timestamp>)
  --name NAME                 Elasticsearch snapshot name, lower-case [BACKUP_NAME]
                              (spotify-otel-<utc timestamp>)
  --prometheus-url URL        [PROMETHEUS_URL] (http://localhost:9090); needs --web.enable-admin-api
  --prometheus-data-dir DIR   Prometheus --storage.tsdb.path [PROMETHEUS_DATA_DIR] (/prometheus)
  --prometheus-container NAME copy the snapshot out of this container with `docker cp`
                              [PROMETHEUS_CONTAINER] (unset: the data dir is a local path)
  --skip-head                 snapshot only persisted blocks, not the in-memory head
  --es-url URL                [ELASTICSEARCH_URL] (http://localhost:9200)
  --es-user USER              basic auth [ELASTICSEARCH_USER]; password from ELASTICSEARCH_PASSWORD
  --es-repo NAME              snapshot repository [ES_SNAPSHOT_REPO] (spotify-otel-backups)
  --es-repo-location PATH     fs repository path, listed in path.repo [ES_SNAPSHOT_LOCATION]
                              (/usr/share/elasticsearch/snapshots)
  --es-indices PATTERN        what to snapshot [ES_SNAPSHOT_INDICES] (logs-spotify_otel.otel-*)
  --grafana-url URL           [GRAFANA_URL] (http://localhost:3000)
  --grafana-token TOKEN       service account token [GRAFANA_TOKEN]; else basic auth with
                              GRAFANA_USER / GRAFANA_PASSWORD when set
  --dry-run                   print every command instead of running it
  -h, --help                  this text

Example (the docker compose stack):
  backup.sh --prometheus-container spotify-otel-prometheus-1 --backup-dir /var/backups/otel/$(date +%F)
USAGE
}

only="prometheus,elasticsearch,grafana"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
backup_dir="${BACKUP_DIR:-./backups/${stamp}}"
name="${BACKUP_NAME:-spotify-otel-$(tr '[:upper:]' '[:lower:]' <<<"$stamp")}"
prom_url="${PROMETHEUS_URL:-http://localhost:9090}"
prom_data_dir="${PROMETHEUS_DATA_DIR:-/prometheus}"
prom_container="${PROMETHEUS_CONTAINER:-}"
skip_head=0
es_url="${ELASTICSEARCH_URL:-http://localhost:9200}"
es_user="${ELASTICSEARCH_USER:-}"
es_password="${ELASTICSEARCH_PASSWORD:-}"
es_repo="${ES_SNAPSHOT_REPO:-spotify-otel-backups}"
es_location="${ES_SNAPSHOT_LOCATION:-/usr/share/elasticsearch/snapshots}"
es_indices="${ES_SNAPSHOT_INDICES:-logs-spotify_otel.otel-*}"
grafana_url="${GRAFANA_URL:-http://localhost:3000}"
grafana_token="${GRAFANA_TOKEN:-}"
grafana_user="${GRAFANA_USER:-}"
grafana_password="${GRAFANA_PASSWORD:-}"

eval "set -- $(normalize_args "$@")"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) need_value "$1" "${2-}"; only="$2"; shift 2 ;;
    --backup-dir) need_value "$1" "${2-}"; backup_dir="$2"; shift 2 ;;
    --name) need_value "$1" "${2-}"; name="$2"; shift 2 ;;
    --prometheus-url) need_value "$1" "${2-}"; prom_url="$2"; shift 2 ;;
    --prometheus-data-dir) need_value "$1" "${2-}"; prom_data_dir="$2"; shift 2 ;;
    --prometheus-container) need_value "$1" "${2-}"; prom_container="$2"; shift 2 ;;
    --skip-head) skip_head=1; shift ;;
    --es-url) need_value "$1" "${2-}"; es_url="$2"; shift 2 ;;
    --es-user) need_value "$1" "${2-}"; es_user="$2"; shift 2 ;;
    --es-repo) need_value "$1" "${2-}"; es_repo="$2"; shift 2 ;;
    --es-repo-location) need_value "$1" "${2-}"; es_location="$2"; shift 2 ;;
    --es-indices) need_value "$1" "${2-}"; es_indices="$2"; shift 2 ;;
    --grafana-url) need_value "$1" "${2-}"; grafana_url="$2"; shift 2 ;;
    --grafana-token) need_value "$1" "${2-}"; grafana_token="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option: $1" ;;
  esac
done

components=()
while IFS= read -r component; do
  case "$component" in
    prometheus|elasticsearch|grafana) components+=("$component") ;;
    *) usage_error "unknown component in --only: $component (prometheus, elasticsearch, grafana)" ;;
  esac
done < <(split_csv "$only")
[[ ${#components[@]} -gt 0 ]] || usage_error "--only selects no component"
[[ "$name" =~ ^[a-z0-9][a-z0-9._-]*$ ]] || usage_error "--name must be lower-case letters, digits, '.', '_' or '-': $name"

need_cmd curl
need_cmd tar
need_cmd python3

es_auth=()
if [[ -n "$es_user" ]]; then
  es_auth=(-u "${es_user}:${es_password}")
  add_secret "$es_password"
fi
grafana_auth=()
if [[ -n "$grafana_token" ]]; then
  grafana_auth=(-H "Authorization: Bearer ${grafana_token}")
  add_secret "$grafana_token"
elif [[ -n "$grafana_user" ]]; then
  grafana_auth=(-u "${grafana_user}:${grafana_password}")
  add_secret "$grafana_password"
fi

manifest=()
safe_name='^[A-Za-z0-9<>._-]+$'  # names that go into paths and URLs (<...> only in dry runs)

backup_prometheus() {
  local url="${prom_url%/}/api/v1/admin/tsdb/snapshot" response snapshot src out dest entries
  if [[ $skip_head -eq 1 ]]; then url+="?skip_head=true"; fi
  capture response '{"status":"success","data":{"name":"<snapshot-name>"}}' \
    curl -fsS --max-time 300 -X POST "$url"
  snapshot="$(json_get "$response" data.name)"
  [[ "$snapshot" =~ $safe_name ]] || die "unexpected snapshot name from ${url}: ${snapshot}"
  src="${prom_data_dir%/}/snapshots/${snapshot}"
  dest="${backup_dir%/}/prometheus"
  out="${dest}/prometheus-snapshot-${snapshot}.tar.gz"
  run mkdir -p "$dest"
  if [[ -n "$prom_container" ]]; then
    need_cmd docker "for --prometheus-container"
    run docker cp "${prom_container}:${src}" "${dest}/${snapshot}"
    run tar -C "${dest}/${snapshot}" -czf "$out" .
    run rm -rf "${dest:?}/${snapshot}"
  else
    if [[ "$DRY_RUN" != 1 && ! -d "$src" ]]; then
      die "snapshot folder ${src} not found: --prometheus-data-dir must be the --storage.tsdb.path of the Prometheus at ${prom_url} (or use --prometheus-container)"
    fi
    run tar -C "$src" -czf "$out" .
  fi
  if [[ "$DRY_RUN" != 1 ]]; then
    entries="$(tar -tzf "$out" | grep -cv '^\./$' || true)"
    if [[ "$entries" -eq 0 ]]; then
      warn "the Prometheus snapshot ${snapshot} is empty (no samples yet?)"
    fi
    log "prometheus: snapshot ${snapshot} -> ${out} (${entries} entries)"
  fi
  manifest+=("prometheus snapshot=${snapshot} file=${out#"${backup_dir%/}/"} source=${src}")
  log "prometheus: the snapshot also stays in ${prom_data_dir%/}/snapshots/ until you delete it"
}

backup_elasticsearch() {
  local base="${es_url%/}" repo_body snap_body dest
  repo_body="$(json_object type=fs "settings=json:$(json_object "location=${es_location}")")"
  snap_body="$(json_object "indices=${es_indices}" include_global_state=json:false \
    "metadata=json:$(json_object taken_by=spotify-otel-backup.sh)")"
  run curl -fsS --max-time 60 "${es_auth[@]}" -X PUT "${base}/_snapshot/${es_repo}" \
    -H 'Content-Type: application/json' -d "$repo_body"
  run curl -fsS --max-time 3600 "${es_auth[@]}" -X PUT \
    "${base}/_snapshot/${es_repo}/${name}?wait_for_completion=true" \
    -H 'Content-Type: application/json' -d "$snap_body"
  dest="${backup_dir%/}/elasticsearch"
  run mkdir -p "$dest"
  if [[ "$DRY_RUN" != 1 ]]; then
    json_object "repository=${es_repo}" "snapshot=${name}" "indices=${es_indices}" \
      "location=${es_location}" "es_url=${base}" >"${dest}/snapshot.json"
    log "elasticsearch: snapshot ${es_repo}/${name} taken (files stay in ${es_location} on the cluster)"
  fi
  manifest+=("elasticsearch repository=${es_repo} snapshot=${name} indices=${es_indices}")
}

backup_grafana() {
  local base="${grafana_url%/}" dest listing uid count=0
  dest="${backup_dir%/}/grafana"
  run mkdir -p "$dest"
  capture listing '[{"uid":"<uid>"}]' \
    curl -fsS --max-time 60 "${grafana_auth[@]}" "${base}/api/search?type=dash-db&limit=5000"
  while IFS= read -r uid; do
    [[ -n "$uid" ]] || continue
    [[ "$uid" =~ $safe_name ]] || die "unexpected dashboard uid from Grafana: ${uid}"
    run curl -fsS --max-time 60 "${grafana_auth[@]}" "${base}/api/dashboards/uid/${uid}" \
      -o "${dest}/${uid}.json"
    count=$((count + 1))
  done < <(python3 -c 'import json, sys; [print(d["uid"]) for d in json.loads(sys.argv[1])]' "$listing")
  log "grafana: ${count} dashboard(s) -> ${dest}"
  manifest+=("grafana dashboards=${count} folder=grafana")
}

run mkdir -p "$backup_dir"
for component in "${components[@]}"; do
  "backup_${component}"
done

if [[ "$DRY_RUN" != 1 ]]; then
  {
    echo "spotify-otel backup ${stamp}"
    printf '%s\n' "${manifest[@]}"
  } >"${backup_dir%/}/MANIFEST.txt"
  log "done: ${backup_dir}"
fi
