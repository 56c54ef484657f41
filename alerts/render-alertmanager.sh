#!/bin/sh
# Render alerts/alertmanager.yml for one environment from environment variables (POSIX sh + awk; runs in
# the busybox-based prom/alertmanager image or on any host).
#
#   render-alertmanager.sh IN OUT [SECRETS_DIR] [-- COMMAND ...]
#
# 1. Secrets: each variable that is set is written to its file in SECRETS_DIR (mode 600):
#      SLACK_WEBHOOK_URL          -> slack_webhook_url
#      SLACK_SECURITY_WEBHOOK_URL -> slack_security_webhook_url (default: SLACK_WEBHOOK_URL)
#      PAGERDUTY_ROUTING_KEY      -> pagerduty_routing_key
#      EMAIL_SMTP_PASSWORD        -> email_smtp_password
#      SMS_GATEWAY_TOKEN          -> sms_gateway_token
#      REMEDIATION_TOKEN          -> remediation_token
#    Alertmanager reads them through api_url_file / routing_key_file / auth_password_file /
#    credentials_file; when SECRETS_DIR is not /etc/alertmanager/secrets the paths are rewritten.
# 2. Plain settings: on every line ending in `# env:NAME`, the value is replaced by $NAME (YAML
#    single-quoted) when NAME is set, e.g. EMAIL_SMTP_SERVER, EMAIL_FROM, SMS_GATEWAY_URL,
#    REMEDIATION_WEBHOOK_URL, SECURITY_EMAIL_TO, SLACK_*_CHANNEL.
# 3. With `-- COMMAND ...`, exec COMMAND (e.g. alertmanager --config.file=OUT) afterwards.
set -eu

if [ $# -lt 2 ]; then
  echo "usage: $0 IN OUT [SECRETS_DIR] [-- COMMAND ...]" >&2
  exit 2
fi
in=$1
out=$2
shift 2
secrets=/etc/alertmanager/secrets
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  secrets=$1
  shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift

umask 077
mkdir -p "$secrets"
write_secret() {  # write_secret FILE VALUE
  printf '%s' "$2" > "$secrets/$1"
}
[ -n "${SLACK_WEBHOOK_URL:-}" ] && write_secret slack_webhook_url "$SLACK_WEBHOOK_URL"
if [ -n "${SLACK_SECURITY_WEBHOOK_URL:-${SLACK_WEBHOOK_URL:-}}" ]; then
  write_secret slack_security_webhook_url "${SLACK_SECURITY_WEBHOOK_URL:-$SLACK_WEBHOOK_URL}"
fi
[ -n "${PAGERDUTY_ROUTING_KEY:-}" ] && write_secret pagerduty_routing_key "$PAGERDUTY_ROUTING_KEY"
[ -n "${EMAIL_SMTP_PASSWORD:-}" ] && write_secret email_smtp_password "$EMAIL_SMTP_PASSWORD"
[ -n "${SMS_GATEWAY_TOKEN:-}" ] && write_secret sms_gateway_token "$SMS_GATEWAY_TOKEN"
[ -n "${REMEDIATION_TOKEN:-}" ] && write_secret remediation_token "$REMEDIATION_TOKEN"

umask 022
awk -v secrets="$secrets" -v q="'" '
  {
    line = $0
    if (secrets != "/etc/alertmanager/secrets") {
      gsub(/\/etc\/alertmanager\/secrets\//, secrets "/", line)
    }
    if (match(line, /:[ ]+[^ ].*[ ]+# env:[A-Z_][A-Z0-9_]*$/)) {
      start = RSTART
      marker = index(line, "# env:")
      name = substr(line, marker + 6)
      if (name in ENVIRON && ENVIRON[name] != "") {
        value = ENVIRON[name]
        if (index(value, "\n") > 0) {
          printf "render-alertmanager: %s contains a newline\n", name > "/dev/stderr"
          exit 3
        }
        gsub(q, q q, value)
        line = substr(line, 1, start) " " q value q "  # env:" name
      }
    }
    print line
  }
' "$in" > "$out.tmp"
mv "$out.tmp" "$out"

if [ $# -gt 0 ]; then
  exec "$@"
fi
