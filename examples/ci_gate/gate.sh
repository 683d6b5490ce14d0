#!/usr/bin/env bash
# The CI gate: record this build's agent run and compare it with the committed baseline.
# Exit 0 when every rule holds; 1 with one line per broken rule (and a share file to upload).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${GATE_OUT:-$here}"

agentlog run --quiet --title "refund triage" --tag ci -- python "$here/agent.py" || exit $?

if ! agentlog compare "$here/baseline.ndjson" latest \
    --fail-on divergence,errors,status,tools,cost+10%,tokens+10% \
    --junit "$out/gate.xml"; then
  agentlog share latest -o "$out/failed-run.ndjson.gz" --force  # this run's, over an older one
  exit 1
fi
