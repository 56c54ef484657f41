#!/usr/bin/env bash
# Deploys the spotify-otel stack: docker compose on one machine, or the example workload with its
# collector sidecar on Kubernetes (plain manifests or through the OpenTelemetry Operator).
set -euo pipefail
# shellcheck disable=SC2034  # read by _common.sh
SCRIPT_NAME=deploy.sh
# shellcheck source=_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<'USAGE'
Usage: deploy.sh --env dev|staging|prod --target compose|k8s [options]

  --env ENV            dev, staging or prod [DEPLOY_ENV]
  --target TARGET      compose: docker compose up of collector/compose/docker-compose.yml
                       k8s: kubectl apply of collector/k8s (or collector/operator, see --flavor)
  --flavor FLAVOR      k8s only: plain (collector/k8s, default) or operator (collector/operator;
                       the OpenTelemetry Operator must already be installed)
  --namespace NS       k8s namespace [K8S_NAMESPACE] (spotify-otel-<env>)
  --context CTX        kubectl context [KUBE_CONTEXT] (current context)
  --env-file FILE      compose env file [COMPOSE_ENV_FILE] (collector/compose/.env, made by setup.sh)
  --project NAME       compose project name (default: "spotify-otel", from the compose file)
  --yes                required for --env prod (except with --dry-run)
  --dry-run            print every command instead of running it
  -h, --help           this text

Examples:
  deploy.sh --env dev --target compose
  deploy.sh --env staging --target k8s --namespace observability-staging
  deploy.sh --env prod --target k8s --flavor operator --context prod-eu --yes
USAGE
}

env_name="${DEPLOY_ENV:-}"
target=""
flavor="plain"
namespace="${K8S_NAMESPACE:-}"
context="${KUBE_CONTEXT:-}"
env_file="${COMPOSE_ENV_FILE:-${REPO_ROOT}/collector/compose/.env}"
project=""
yes=0

eval "set -- $(normalize_args "$@")"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --env) need_value "$1" "${2-}"; env_name="$2"; shift 2 ;;
    --target) need_value "$1" "${2-}"; target="$2"; shift 2 ;;
    --flavor) need_value "$1" "${2-}"; flavor="$2"; shift 2 ;;
    --namespace) need_value "$1" "${2-}"; namespace="$2"; shift 2 ;;
    --context) need_value "$1" "${2-}"; context="$2"; shift 2 ;;
    --env-file) need_value "$1" "${2-}"; env_file="$2"; shift 2 ;;
    --project) need_value "$1" "${2-}"; project="$2"; shift 2 ;;
    --yes) yes=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option: $1" ;;
  esac
done

case "$env_name" in
  dev|staging|prod) ;;
  "") usage_error "--env is required (dev, staging or prod)" ;;
  *) usage_error "--env must be dev, staging or prod, not: $env_name" ;;
esac
case "$target" in
  compose|k8s) ;;
  "") usage_error "--target is required (compose or k8s)" ;;
  *) usage_error "--target must be compose or k8s, not: $target" ;;
esac
case "$flavor" in
  plain|operator) ;;
  *) usage_error "--flavor must be plain or operator, not: $flavor" ;;
esac
if [[ "$env_name" == prod && $yes -ne 1 && "$DRY_RUN" != 1 ]]; then
  die "deploying to prod needs --yes"
fi
namespace="${namespace:-spotify-otel-${env_name}}"

deploy_compose() {
  local compose_file="${REPO_ROOT}/collector/compose/docker-compose.yml"
  if [[ "$DRY_RUN" != 1 ]]; then
    need_cmd docker
    docker compose version >/dev/null 2>&1 || die "the docker compose plugin is required"
    [[ -f "$env_file" ]] || die "${env_file} not found: run collector/scripts/setup.sh first"
    [[ -f "${REPO_ROOT}/alerts/alertmanager.yml" ]] || warn "alerts/alertmanager.yml is missing: alertmanager will not start"
  fi
  local compose=(docker compose -f "$compose_file" --env-file "$env_file")
  if [[ -n "$project" ]]; then compose+=(-p "$project"); fi
  run env DEPLOY_ENV="$env_name" "${compose[@]}" up -d --build --remove-orphans
  run "${compose[@]}" ps
  log "compose: Grafana http://127.0.0.1:3000, Jaeger http://127.0.0.1:16686, Prometheus http://127.0.0.1:9090, Kibana http://127.0.0.1:5601"
}

deploy_k8s() {
  local kubectl=(kubectl) dir ns_q
  if [[ -n "$context" ]]; then kubectl+=(--context "$context"); fi
  if [[ "$DRY_RUN" != 1 ]]; then need_cmd kubectl; fi
  ns_q="$(printf '%q' "$namespace")"
  run_shell "$(printf '%q ' "${kubectl[@]}")get namespace ${ns_q} >/dev/null 2>&1 || $(printf '%q ' "${kubectl[@]}")create namespace ${ns_q}"
  if [[ "$flavor" == operator ]]; then
    dir="${REPO_ROOT}/collector/operator"
    if [[ "$DRY_RUN" != 1 ]]; then
      "${kubectl[@]}" get crd opentelemetrycollectors.opentelemetry.io >/dev/null 2>&1 \
        || die "the OpenTelemetry Operator CRDs are not installed in this cluster"
    fi
    run "${kubectl[@]}" -n "$namespace" apply -f "${dir}/collector.yaml" -f "${dir}/instrumentation.yaml"
    run "${kubectl[@]}" -n "$namespace" apply -f "${dir}/deployment-example.yaml"
    run "${kubectl[@]}" -n "$namespace" rollout status deployment/spotify-otel-example-operator --timeout=180s
  else
    dir="${REPO_ROOT}/collector/k8s"
    run "${kubectl[@]}" -n "$namespace" apply -k "$dir"
    run "${kubectl[@]}" -n "$namespace" rollout status deployment/spotify-otel-example --timeout=180s
  fi
  log "k8s: deployed to namespace ${namespace}${context:+ (context ${context})}"
}

log "deploying env=${env_name} target=${target}$([[ $target == k8s ]] && echo " flavor=${flavor}")"
"deploy_${target}"
