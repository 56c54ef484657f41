#!/usr/bin/env bash
# Prepares a machine for spotify-otel development and the compose stack: checks the prerequisites,
# creates collector/compose/.env from .env.example and pip-installs the package into a virtualenv.
set -euo pipefail
# shellcheck disable=SC2034  # read by _common.sh
SCRIPT_NAME=setup.sh
# shellcheck source=_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<'USAGE'
Usage: setup.sh [options]

  1. checks prerequisites: python3 >= 3.11, curl, tar (required); docker with the compose plugin,
     kubectl, promtool (optional: only warned about);
  2. creates collector/compose/.env from collector/compose/.env.example (mode 600) unless it exists;
  3. creates a virtualenv and pip-installs the package with its extras.

Options (environment variable in brackets):
  --python PY       interpreter for the virtualenv [PYTHON] (python3)
  --venv DIR        virtualenv folder [VENV_DIR] (<repo>/.venv)
  --extras LIST     pip extras [PIP_EXTRAS] (dev)
  --env-file FILE   .env to create [COMPOSE_ENV_FILE] (collector/compose/.env)
  --force-env       overwrite an existing .env
  --skip-pip        no virtualenv, no pip install
  --dry-run         print every command instead of running it
  -h, --help        this text
USAGE
}

python="${PYTHON:-python3}"
venv="${VENV_DIR:-${REPO_ROOT}/.venv}"
extras="${PIP_EXTRAS:-dev}"
env_file="${COMPOSE_ENV_FILE:-${REPO_ROOT}/collector/compose/.env}"
env_example="${REPO_ROOT}/collector/compose/.env.example"
force_env=0
skip_pip=0

eval "set -- $(normalize_args "$@")"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --python) need_value "$1" "${2-}"; python="$2"; shift 2 ;;
    --venv) need_value "$1" "${2-}"; venv="$2"; shift 2 ;;
    --extras) need_value "$1" "${2-}"; extras="$2"; shift 2 ;;
    --env-file) need_value "$1" "${2-}"; env_file="$2"; shift 2 ;;
    --force-env) force_env=1; shift ;;
    --skip-pip) skip_pip=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option: $1" ;;
  esac
done
[[ "$extras" =~ ^[A-Za-z0-9_,-]+$ ]] || usage_error "--extras must be a comma-separated list of extras: $extras"

check_prerequisites() {
  local missing=0 tool version
  need_cmd "$python" "install Python 3.11 or newer"
  version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    die "Python >= 3.11 is required, ${python} is ${version}"
  fi
  log "python: ${python} ${version}"
  for tool in curl tar; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      warn "${tool} is required by the scripts in collector/scripts"
      missing=1
    fi
  done
  [[ $missing -eq 0 ]] || die "install the missing tools and run setup.sh again"
  if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    log "docker compose: $(docker compose version --short 2>/dev/null || echo present)"
  else
    warn "docker with the compose plugin not found: needed only for the compose stack"
  fi
  for tool in kubectl promtool; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      warn "${tool} not found: optional (kubectl for --target k8s, promtool to check Prometheus files)"
    fi
  done
}

create_env_file() {
  [[ -f "$env_example" ]] || die "${env_example} is missing"
  if [[ -f "$env_file" && $force_env -ne 1 ]]; then
    log ".env: ${env_file} exists, kept (--force-env overwrites it)"
    return 0
  fi
  run cp "$env_example" "$env_file"
  run chmod 600 "$env_file"
  log ".env: created ${env_file}; change GRAFANA_ADMIN_PASSWORD and GRAFANA_PASSWORD"
}

install_package() {
  if [[ $skip_pip -eq 1 ]]; then
    log "pip: skipped (--skip-pip)"
    return 0
  fi
  if [[ ! -x "${venv}/bin/python" ]]; then
    run "$python" -m venv "$venv"
  fi
  run "${venv}/bin/python" -m pip install --upgrade pip
  run "${venv}/bin/python" -m pip install -e "${REPO_ROOT}[${extras}]"
  log "pip: installed spotify-otel[${extras}] into ${venv}"
}

check_prerequisites
create_env_file
install_package
log "done. Next: collector/scripts/deploy.sh --env dev --target compose"
