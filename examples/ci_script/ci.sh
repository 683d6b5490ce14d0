#!/usr/bin/env bash
# A CI job recorded by AgentLog, offline:
#   - `agentlog run` makes the job one session: each output line is a LOG event and
#     the job's exit code is kept (so CI still fails when the eval fails);
#   - inside it, `agentlog log --stdin` adds the eval's results (NDJSON, one event a
#     line) to the same session: `agentlog run` exports AGENTLOG_SESSION_ID.
# Usage: bash examples/ci_script/ci.sh   (AGENTLOG_DB=path to use another file)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT

agentlog run --title "nightly eval" --tag ci -- bash -c '
  python "$1" "$2"; status=$?
  agentlog log --stdin < "$2"
  exit $status
' _ "$here/eval.py" "$results"
status=$?

echo
echo "look at it:  agentlog sessions list --tag ci   then   agentlog events <id> --type ERROR"
exit $status
