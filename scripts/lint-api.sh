#!/bin/sh
# lint-api.sh: lints api/openapi.yaml with the pinned Redocly CLI (tools/node_modules, see
# scripts/tools.sh) against its recommended rules (redocly.yaml: recommended-strict, so every
# recommended warning is an error). Any error or warning fails.
set -eu
root=$(CDPATH= cd "$(dirname "$0")/.." && pwd)
cd "$root"
redocly=tools/node_modules/.bin/redocly
if [ ! -x "$redocly" ]; then
    scripts/tools.sh
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_COLOR=1 FORCE_COLOR=0
lint() {
    REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
        "$redocly" lint --config redocly.yaml "$@" api/openapi.yaml
}
out=$(mktemp); trap 'rm -f "$out"' EXIT
rc=0
lint --format json >"$out" 2>/dev/null || rc=$?
# Count errors and warnings from the JSON report (Redocly exits 0 on warnings).
totals=$(node -e '
  let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
    try { const t = JSON.parse(s).totals; console.log(`${t.errors} ${t.warnings}`); }
    catch (e) { console.log("x x"); }
  });' <"$out")
set -- $totals
if [ "$rc" -eq 0 ] && [ "$1" = 0 ] && [ "$2" = 0 ]; then
    echo "lint-api: api/openapi.yaml is clean (redocly $("$redocly" --version 2>/dev/null), recommended rules)"
    exit 0
fi
# Show the problems in a readable form.
lint --format stylish >&2 || true
echo "lint-api: api/openapi.yaml: $1 error(s), $2 warning(s); fix them (warnings fail too)" >&2
exit 1
