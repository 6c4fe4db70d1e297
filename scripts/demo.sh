#!/usr/bin/env bash
# A walk through promptreg on a throwaway clone of the example registry in this repository:
# a new version, its evaluation, a deployment through staging to production, the audit trail,
# a rollback, and the hook refusing an untested version. Nothing here touches this checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
command -v promptreg >/dev/null || { echo "demo: promptreg is not on PATH (run 'make demo')" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/promptreg-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A private HOME: pre-commit keeps its cache there, and the user's git config stays out of it.
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
git config --global user.name "Dana Reyes"
git config --global user.email "dana@example.com"
git config --global init.defaultBranch main
git config --global advice.detachedHead false

bold=$'\033[1m' dim=$'\033[2m' off=$'\033[0m'
[[ -t 1 ]] || bold="" dim="" off=""
say() { printf '\n%s# %s%s\n' "$dim" "$*" "$off"; }
step() {
  local shown="" a
  for a in "$@"; do
    if [[ $a =~ [[:space:]\"\?\$\>\<] ]]; then shown+="'$a' "; else shown+="$a "; fi
  done
  printf '%s$ %s%s\n' "$bold" "${shown% }" "$off"
  "$@"
}
# A step that must fail: its exit code is shown instead of stopping the demo.
refused() {
  local rc=0
  step "$@" || rc=$?
  if ((rc == 0)); then echo "demo: expected a refusal" >&2; exit 1; fi
  printf '%s(refused, exit %d)%s\n' "$dim" "$rc" "$off"
}

git clone -q "$here" "$work/registry"
cd "$work/registry"
if [[ $(git rev-parse --is-shallow-repository) == true ]]; then
  echo "demo: this checkout is shallow; 'git fetch --unshallow' first, so history is complete" >&2
  exit 1
fi
printf 'A throwaway clone of the example registry: %s\n' "$PWD"

say "What is active in each environment, and whether it passed its evaluation."
step promptreg status

say "A change to a prompt is a new immutable version; this one rewrites the template."
cat >"$work/content.txt" <<'TXT'
You are an HR assistant. Answer only from the context below, and cite the
policy section you used (for example "section 4.2").
{context}
Question: {query}
TXT
step promptreg new hr_query_system_prompt --version 1.2.0 -d "Cite the policy section" \
  --content-file "$work/content.txt" --commit

say "What changed against the version production runs."
step promptreg diff hr_query_system_prompt 1.1.0 1.2.0

say "The pre-commit hook refuses a hand-edited pointer to the untested 1.2.0."
# The hook `promptreg init` writes runs the installed promptreg (offline, no release tag).
git rm -q .pre-commit-config.yaml
step promptreg init --no-workflow
git add .pre-commit-config.yaml
git commit -q -m "Use the installed promptreg as the pre-commit hook"
step pre-commit install
sed -i 's/^version: .*/version: "1.2.0"/' deployments/staging/hr_query_system_prompt.yaml
git add deployments/staging/hr_query_system_prompt.yaml
refused git commit -q -m "Deploy 1.2.0 to staging by hand"
git reset -q --hard

say "Evaluation asks the target (here the offline evals/example_model.py) to answer each case and judges the answers; beside them, what production runs scores on the same suite. On a pass it records tested, the score and the fingerprint."
step promptreg eval hr_query_system_prompt 1.2.0 --baseline production --commit

say "Deploy through the promotion order: staging first, then production; each is one commit."
step promptreg deploy hr_query_system_prompt 1.2.0 --env staging --reason "Citations" --commit
step promptreg deploy hr_query_system_prompt 1.2.0 --env production --reason "Citations" --commit
step git log --oneline -3

say "What an application gets from the library, on every request."
step python -c 'from registry import PromptRegistry
v = PromptRegistry(".").get_active("hr_query_system_prompt", "production")
print(v.version, "->", v.render(context="Leave policy, section 4.2: 25 days.", query="How many days?"))'

# Commit times have one-second resolution: keep the deployment and the rollback apart, so the
# point-in-time query below names a moment when 1.2.0 was live.
sleep 1
say "Quality dropped: roll production back to what ran before, with a reason."
step promptreg rollback hr_query_system_prompt --env production --reason "Answers got longer" --commit

say "The audit trail, rebuilt from git: every deployment and rollback, who, when and why."
step promptreg history hr_query_system_prompt --env production

say "What ran in production at a moment in the past (when 1.2.0 went out), and what runs now."
step promptreg active hr_query_system_prompt --env production --at "$(git show -s --format=%cI HEAD~1)"
step promptreg active hr_query_system_prompt --env production

say "The whole registry is valid: what CI runs on every pull request."
step promptreg check --all

printf '\nDone. Next: README.md, section "Workflow".\n'
