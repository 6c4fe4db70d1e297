#!/usr/bin/env bash
# A walk through the example registry bundled in this repository (read-only).
set -euo pipefail
cd "$(dirname "$0")/.."
step() {
  local shown="" a
  for a in "$@"; do
    if [[ $a =~ [[:space:]\"\?] ]]; then shown+="'$a' "; else shown+="$a "; fi
  done
  printf '\n\033[1m$ %s\033[0m\n' "${shown% }"
  "$@"
}

step promptreg status
step promptreg list
step promptreg show hr_query_system_prompt
step promptreg diff hr_query_system_prompt 1.0.0 1.1.0
step promptreg render hr_query_system_prompt --env production \
  --var context="Leave policy, section 4.2: 25 days of paid leave per year." \
  --var query="How many days of leave do I get?"
step promptreg render support_chat --env production \
  --var product="Acme Cloud" --var tier=Pro --var message="My backup failed."
step promptreg active hr_query_system_prompt --env production --json
step promptreg eval hr_query_system_prompt 1.1.0 --no-record
step promptreg check --all
if git rev-parse --is-shallow-repository 2>/dev/null | grep -q false; then
  step promptreg history hr_query_system_prompt
fi
printf '\nThe example registry is valid. Next: README.md, section "Workflow".\n'
