#!/usr/bin/env bash
# Restores what backup.sh saved: a Prometheus snapshot tarball into a data folder, an Elasticsearch
# snapshot through the _restore API, Grafana dashboards through POST /api/dashboards/db.
set -euo pipefail
# shellcheck disable=SC2034  # read by _common.sh
SCRIPT_NAME=restore.sh
# shellcheck source=_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<'USAGE'
Usage: restore.sh [options]

Restores a backup made by backup.sh.

  Prometheus: stopping Prometheus is the operator's job. This script extracts the snapshot tarball
  into --prometheus-data-dir, which must be empty (or pass --force to extract on top of its content);
  then start Prometheus with --storage.tsdb.path=<that dir>.
  Elasticsearch: POST _snapshot/<repo>/<snapshot>/_restore. Data streams of the same name must not
  exist (delete them first); the repository is registered again if needed.
  Grafana: each <uid>.json is posted to /api/dashboards/db with overwrite; provisioned dashboards
  (those from dashboards/) cannot be overwritten through the API and come back by provisioning.

Options (environment variable in brackets):
  --only LIST                 components, comma-separated: prometheus,elasticsearch,grafana (all)
  --from DIR                  backup folder written by backup.sh [BACKUP_DIR]
  --prometheus-tarball FILE   snapshot tarball (default: the newest <from>/prometheus/*.tar.gz)
  --prometheus-data-dir DIR   target data folder [PROMETHEUS_DATA_DIR] (required for prometheus)
  --force                     extract into a non-empty data folder
  --es-url URL                [ELASTICSEARCH_URL] (http://localhost:9200)
  --es-user USER              basic auth [ELASTICSEARCH_USER]; password from ELASTICSEARCH_PASSWORD
  --es-repo NAME              [ES_SNAPSHOT_REPO] (from <from>/elasticsearch/snapshot.json, else
                              spotify-otel-backups)
  --es-repo-location PATH     [ES_SNAPSHOT_LOCATION] (from snapshot.json, else
                              /usr/share/elasticsearch/snapshots)
  --es-snapshot NAME          snapshot to restore (from <from>/elasticsearch/snapshot.json)
  --es-indices PATTERN        what to restore (from snapshot.json, else logs-spotify_otel.otel-*)
  --grafana-url URL           [GRAFANA_URL] (http://localhost:3000)
  --grafana-token TOKEN       [GRAFANA_TOKEN]; else basic auth with GRAFANA_USER / GRAFANA_PASSWORD
  --grafana-dir DIR           dashboards folder (default <from>/grafana)
  --dry-run                   print every command instead of running it
  -h, --help                  this text
USAGE
}

only="prometheus,elasticsearch,grafana"
from="${BACKUP_DIR:-}"
prom_tarball=""
prom_data_dir="${PROMETHEUS_DATA_DIR:-}"
force=0
es_url="${ELASTICSEARCH_URL:-http://localhost:9200}"
es_user="${ELASTICSEARCH_USER:-}"
es_password="${ELASTICSEARCH_PASSWORD:-}"
es_repo="${ES_SNAPSHOT_REPO:-}"
es_location="${ES_SNAPSHOT_LOCATION:-}"
es_snapshot=""
es_indices=""
grafana_url="${GRAFANA_URL:-http://localhost:3000}"
grafana_token="${GRAFANA_TOKEN:-}"
grafana_user="${GRAFANA_USER:-}"
grafana_password="${GRAFANA_PASSWORD:-}"
grafana_dir=""

eval "set -- $(normalize_args "$@")"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) need_value "$1" "${2-}"; only="$2"; shift 2 ;;
    --from) need_value "$1" "${2-}"; from="$2"; shift 2 ;;
    --prometheus-tarball) need_value "$1" "${2-}"; prom_tarball="$2"; shift 2 ;;
    --prometheus-data-dir) need_value "$1" "${2-}"; prom_data_dir="$2"; shift 2 ;;
    --force) force=1; shift ;;
    --es-url) need_value "$1" "${2-}"; es_url="$2"; shift 2 ;;
    --es-user) need_value "$1" "${2-}"; es_user="$2"; shift 2 ;;
    --es-repo) need_value "$1" "${2-}"; es_repo="$2"; shift 2 ;;
    --es-repo-location) need_value "$1" "${2-}"; es_location="$2"; shift 2 ;;
    --es-snapshot) need_value "$1" "${2-}"; es_snapshot="$2"; shift 2 ;;
    --es-indices) need_value "$1" "${2-}"; es_indices="$2"; shift 2 ;;
    --grafana-url) need_value "$1" "${2-}"; grafana_url="$2"; shift 2 ;;
    --grafana-token) need_value "$1" "${2-}"; grafana_token="$2"; shift 2 ;;
    --grafana-dir) need_value "$1" "${2-}"; grafana_dir="$2"; shift 2 ;;
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

restore_prometheus() {
  local tarball="$prom_tarball" entry
  if [[ -z "$tarball" ]]; then
    [[ -n "$from" ]] || usage_error "prometheus: give --prometheus-tarball or --from"
    tarball="$(find "${from%/}/prometheus" -maxdepth 1 -name '*.tar.gz' 2>/dev/null | sort | tail -n 1)"
    [[ -n "$tarball" ]] || die "prometheus: no *.tar.gz in ${from%/}/prometheus"
  fi
  [[ -n "$prom_data_dir" ]] || usage_error "prometheus: --prometheus-data-dir is required"
  if [[ -f "$tarball" ]]; then
    # Refuse archives that would write outside the data folder.
    while IFS= read -r entry; do
      if [[ "$entry" == /* || "$entry" == ../* || "$entry" == */../* || "$entry" == .. ]]; then
        die "prometheus: unsafe path in ${tarball}: ${entry}"
      fi
    done < <(tar -tzf "$tarball")
  elif [[ "$DRY_RUN" != 1 ]]; then
    die "prometheus: tarball not found: ${tarball}"
  fi
  if [[ -d "$prom_data_dir" && -n "$(ls -A "$prom_data_dir")" && $force -ne 1 ]]; then
    die "prometheus: ${prom_data_dir} is not empty; restore into an empty folder or pass --force"
  fi
  log "prometheus: Prometheus must be stopped (or pointed at another folder) while its data folder is restored"
  run mkdir -p "$prom_data_dir"
  run tar -C "$prom_data_dir" -xzf "$tarball"
  log "prometheus: restored ${tarball} into ${prom_data_dir}; start Prometheus with --storage.tsdb.path=${prom_data_dir}"
}

restore_elasticsearch() {
  local base="${es_url%/}" meta="" repo_body restore_body
  if [[ -n "$from" && -f "${from%/}/elasticsearch/snapshot.json" ]]; then
    meta="$(cat "${from%/}/elasticsearch/snapshot.json")"
    [[ -n "$es_snapshot" ]] || es_snapshot="$(json_get "$meta" snapshot)"
    [[ -n "$es_repo" ]] || es_repo="$(json_get "$meta" repository)"
    [[ -n "$es_location" ]] || es_location="$(json_get "$meta" location)"
    [[ -n "$es_indices" ]] || es_indices="$(json_get "$meta" indices)"
  fi
  [[ -n "$es_snapshot" ]] || usage_error "elasticsearch: give --es-snapshot or a --from folder with elasticsearch/snapshot.json"
  es_repo="${es_repo:-spotify-otel-backups}"
  es_location="${es_location:-/usr/share/elasticsearch/snapshots}"
  es_indices="${es_indices:-logs-spotify_otel.otel-*}"
  repo_body="$(json_object type=fs "settings=json:$(json_object "location=${es_location}")")"
  restore_body="$(json_object "indices=${es_indices}" include_global_state=json:false)"
  run curl -fsS --max-time 60 "${es_auth[@]}" -X PUT "${base}/_snapshot/${es_repo}" \
    -H 'Content-Type: application/json' -d "$repo_body"
  run curl -fsS --max-time 3600 "${es_auth[@]}" -X POST \
    "${base}/_snapshot/${es_repo}/${es_snapshot}/_restore?wait_for_completion=true" \
    -H 'Content-Type: application/json' -d "$restore_body"
  log "elasticsearch: restored ${es_repo}/${es_snapshot} (${es_indices})"
}

restore_grafana() {
  local base="${grafana_url%/}" dir="$grafana_dir" file payload failed=0 count=0 tmp
  if [[ -z "$dir" ]]; then
    [[ -n "$from" ]] || usage_error "grafana: give --grafana-dir or --from"
    dir="${from%/}/grafana"
  fi
  [[ -d "$dir" || "$DRY_RUN" == 1 ]] || die "grafana: no folder ${dir}"
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064  # expand now: the path is fixed
  trap "rm -rf '${tmp}'" EXIT
  shopt -s nullglob
  for file in "$dir"/*.json; do
    payload="${tmp}/$(basename "$file")"
    python3 - "$file" "$payload" <<'PY'
import json, sys
exported = json.load(open(sys.argv[1]))
dashboard = exported.get("dashboard", exported)
dashboard["id"] = None
body = {"dashboard": dashboard, "overwrite": True, "message": "restored by spotify-otel restore.sh"}
folder_uid = exported.get("meta", {}).get("folderUid")
if folder_uid:
    body["folderUid"] = folder_uid
json.dump(body, open(sys.argv[2], "w"))
PY
    if run curl -fsS --max-time 60 "${grafana_auth[@]}" -X POST "${base}/api/dashboards/db" \
      -H 'Content-Type: application/json' --data-binary "@${payload}"; then
      count=$((count + 1))
    else
      warn "grafana: could not restore $(basename "$file") (provisioned dashboard or missing folder?)"
      failed=$((failed + 1))
    fi
  done
  log "grafana: ${count} dashboard(s) restored from ${dir}, ${failed} failed"
  [[ $failed -eq 0 ]] || die "grafana: ${failed} dashboard(s) not restored"
}

for component in "${components[@]}"; do
  "restore_${component}"
done
