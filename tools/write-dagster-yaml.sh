#!/usr/bin/env bash
# Write $DAGSTER_HOME/dagster.yaml from deploy/dagster.yaml.template: Dagster's run, event-log and schedule
# storage on Postgres (credentials from DAGSTER_PG_* at run time, never written), the QueuedRunCoordinator with
# limits that fit the fleet, run monitoring on.
#
#   DAGSTER_HOME=/srv/dagster tools/write-dagster-yaml.sh [--force]
#
# Limits (environment, with defaults):
#   DAGSTER_MAX_CONCURRENT_RUNS    8    runs at once in the deployment (about one per generator slot)
#   DAGSTER_RUNS_PER_REQUEST       4    runs at once for one request (tag transcripts/request)
#   DAGSTER_START_TIMEOUT_SECONDS  600  a run whose worker has not started by then is failed
# An existing dagster.yaml that differs is kept unless --force (it may hold an operator's edits).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
template="$root/deploy/dagster.yaml.template"
force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "error: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "${DAGSTER_HOME:-}" ]; then
  echo "error: set DAGSTER_HOME to the folder the instance lives in" >&2
  exit 2
fi
positive_int() {  # name value
  if ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: $1 must be a positive integer, not '$2'" >&2
    exit 2
  fi
}
max_runs="${DAGSTER_MAX_CONCURRENT_RUNS:-8}"
per_request="${DAGSTER_RUNS_PER_REQUEST:-4}"
start_timeout="${DAGSTER_START_TIMEOUT_SECONDS:-600}"
positive_int DAGSTER_MAX_CONCURRENT_RUNS "$max_runs"
positive_int DAGSTER_RUNS_PER_REQUEST "$per_request"
positive_int DAGSTER_START_TIMEOUT_SECONDS "$start_timeout"

mkdir -p "$DAGSTER_HOME"
target="$DAGSTER_HOME/dagster.yaml"
tmp=$(mktemp "$DAGSTER_HOME/.dagster.yaml.XXXXXX")
trap 'rm -f "$tmp"' EXIT
sed -e "s/@MAX_CONCURRENT_RUNS@/$max_runs/" \
    -e "s/@RUNS_PER_REQUEST@/$per_request/" \
    -e "s/@START_TIMEOUT_SECONDS@/$start_timeout/" \
    "$template" >"$tmp"
if grep -n '@[A-Z_]*@' "$tmp" >&2; then
  echo "error: placeholders left unfilled in $template (above)" >&2
  exit 1
fi
if [ -f "$target" ] && ! cmp -s "$tmp" "$target" && [ "$force" != 1 ]; then
  echo "error: $target exists and differs; keep it, or rerun with --force to replace it" >&2
  exit 1
fi
chmod 644 "$tmp"
mv "$tmp" "$target"
trap - EXIT
for var in DAGSTER_PG_HOST DAGSTER_PG_PORT DAGSTER_PG_USER DAGSTER_PG_PASSWORD DAGSTER_PG_DB; do
  if [ -z "${!var+x}" ]; then missing="${missing:-} $var"; fi
done
echo "wrote $target (Postgres storage; max $max_runs runs, $per_request per request)"
if [ -n "${missing:-}" ]; then
  echo "note: set$missing in every Dagster process's environment before it opens the instance" >&2
fi
