#!/usr/bin/env bash
# Installs the spotify-otel ILM policy and index template into Elasticsearch (idempotent PUTs).
# Used by the es-setup service of collector/compose/docker-compose.yml and by hand on other clusters.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: install.sh [--es-url URL] [--dir DIR] [--dry-run] [--help]

Installs ilm-policy.json as the ILM policy "spotify-otel-logs" and index-template.json as the index
template "spotify-otel-logs" (data streams logs-spotify_otel.otel-*).

  --es-url URL   Elasticsearch URL (env ELASTICSEARCH_URL, default http://localhost:9200)
  --dir DIR      folder holding the two JSON files (default: this script's folder)
  --dry-run      print the commands instead of running them
  --help         this text
Credentials: ELASTICSEARCH_USER / ELASTICSEARCH_PASSWORD (basic auth) when set.
USAGE
}

es_url="${ELASTICSEARCH_URL:-http://localhost:9200}"
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dry_run=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --es-url) es_url="${2:?--es-url needs a value}"; shift 2 ;;
    --dir) dir="${2:?--dir needs a value}"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

auth=()
if [[ -n "${ELASTICSEARCH_USER:-}" ]]; then
  auth=(-u "${ELASTICSEARCH_USER}:${ELASTICSEARCH_PASSWORD:-}")
fi

put() {  # put PATH FILE
  local url="${es_url%/}$1"
  if [[ $dry_run -eq 1 ]]; then
    printf '+ curl -fsS -X PUT %s -H Content-Type:application/json --data-binary @%s\n' "$url" "$2"
    return 0
  fi
  curl -fsS --max-time 30 "${auth[@]}" -X PUT "$url" -H 'Content-Type: application/json' \
    --data-binary "@$2"
  echo
}

put "/_ilm/policy/spotify-otel-logs" "$dir/ilm-policy.json"
put "/_index_template/spotify-otel-logs" "$dir/index-template.json"
if [[ $dry_run -eq 0 ]]; then
  echo "installed ILM policy and index template spotify-otel-logs into ${es_url}"
fi
