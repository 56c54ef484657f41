# shellcheck shell=bash
# Helpers shared by collector/scripts/*.sh. Sourced, never executed: each script sets SCRIPT_NAME and
# `set -euo pipefail` before sourcing it.

SCRIPT_NAME="${SCRIPT_NAME:-$(basename "$0")}"
# shellcheck disable=SC2034  # used by the scripts that source this file
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DRY_RUN=0
SECRETS=()

log() {
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '%s: [dry-run] %s\n' "$SCRIPT_NAME" "$*" >&2
  else
    printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2
  fi
}
warn() { printf '%s: warning: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() { printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s (see --help)\n' "$SCRIPT_NAME" "$*" >&2; exit 2; }

# Values never printed: every occurrence is replaced by **** in the commands shown.
add_secret() { if [[ -n "${1:-}" ]]; then SECRETS+=("$1"); fi; }

mask() {
  local text="$1" secret
  for secret in "${SECRETS[@]}"; do
    text="${text//"$secret"/****}"
  done
  printf '%s' "$text"
}

# shell_quote ARG...: each argument as the shell would need it, single-quoted only when necessary.
shell_quote() {
  local arg out=() safe='^[A-Za-z0-9_@%+=:,./-]+$'
  for arg in "$@"; do
    if [[ "$arg" =~ $safe ]]; then
      out+=("$arg")
    else
      out+=("'${arg//\'/\'\\\'\'}'")
    fi
  done
  printf '%s' "${out[*]}"
}

show_cmd() { printf '+ %s\n' "$(mask "$(shell_quote "$@")")"; }

# run CMD ARG...: runs the command, or only prints it under --dry-run.
run() {
  if [[ "$DRY_RUN" == 1 ]]; then
    show_cmd "$@"
    return 0
  fi
  "$@"
}

# capture VAR PLACEHOLDER CMD ARG...: VAR=$(CMD ARG...), or VAR=PLACEHOLDER under --dry-run.
capture() {
  local __var="$1" __placeholder="$2" __out
  shift 2
  if [[ "$DRY_RUN" == 1 ]]; then
    show_cmd "$@"
    printf -v "$__var" '%s' "$__placeholder"
    return 0
  fi
  __out="$("$@")"
  printf -v "$__var" '%s' "$__out"
}

# run_shell 'a | b': a pipeline, run by bash or printed under --dry-run. Quote its parts with %q.
run_shell() {
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '+ %s\n' "$(mask "$1")"
    return 0
  fi
  bash -o pipefail -c "$1"
}

need_cmd() { command -v "$1" >/dev/null 2>&1 || die "$1 is required but not on PATH${2:+ ($2)}"; }

# json_get JSON DOTTED.PATH: prints one field of a JSON document (python3, no jq needed).
json_get() {
  python3 - "$1" "$2" <<'PY'
import json, sys
value = json.loads(sys.argv[1])
for part in sys.argv[2].split("."):
    value = value[int(part)] if isinstance(value, list) else value[part]
print(value if isinstance(value, str) else json.dumps(value))
PY
}

# json_object KEY=VALUE...: a JSON object of strings; VALUE starting with 'json:' is raw JSON.
json_object() {
  python3 - "$@" <<'PY'
import json, sys
obj = {}
for pair in sys.argv[1:]:
    key, _, value = pair.partition("=")
    obj[key] = json.loads(value[5:]) if value.startswith("json:") else value
print(json.dumps(obj, separators=(",", ":")))
PY
}

# split_csv LIST: one item per line.
split_csv() { tr ',' '\n' <<<"$1" | sed '/^[[:space:]]*$/d'; }

# Normalises "--opt=value" into "--opt value" in the positional parameters of the caller:
#   eval "set -- $(normalize_args "$@")"
normalize_args() {
  local arg
  for arg in "$@"; do
    if [[ "$arg" == --*=* ]]; then
      printf '%q %q ' "${arg%%=*}" "${arg#*=}"
    else
      printf '%q ' "$arg"
    fi
  done
}

# need_value OPTION "$@": fails with a usage error when OPTION has no value.
need_value() {
  if [[ $# -lt 2 || -z "${2:-}" || "${2:-}" == --* ]]; then
    usage_error "option $1 needs a value"
  fi
}
