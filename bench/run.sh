#!/bin/sh
# bench/run.sh (`make bench`): how long `carhelp --version` takes, next to `curl --version` as a
# yardstick of "a small C program linked against libcurl". hyperfine runs each command without a
# shell, 20 warm-up runs then 200 measured. Fails (exit 1) when carhelp's mean is over the
# budget of the foundation issue: 5 ms, which holds only if --version touches no network, no
# config and no curl_global_init.
# /bin/true runs alongside as the machine's floor: the cost of creating any process at all.
# Also `carhelp __complete order ""`, what every Tab press in bash/zsh/fish runs, against the
# 10 ms budget of the shell issue (BENCH_COMPLETE_BUDGET_MS).
# Environment: CARHELP_BIN (default build/carhelp), BENCH_BUDGET_MS (default 5),
#              BENCH_RUNS (default 200), BENCH_WARMUP (default 20).
set -eu
root=$(CDPATH='' cd "$(dirname "$0")/.." && pwd)
carhelp=${CARHELP_BIN:-$root/build/carhelp}
budget_ms=${BENCH_BUDGET_MS:-5}
complete_budget_ms=${BENCH_COMPLETE_BUDGET_MS:-10}
runs=${BENCH_RUNS:-200}
warmup=${BENCH_WARMUP:-20}

for tool in hyperfine jq curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench: $tool is not installed (run \`scripts/deps.sh bench\` or \`make bench\`)" >&2
        exit 1
    fi
done
[ -x "$carhelp" ] || { echo "bench: $carhelp not built (run \`make\`)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
# A private, empty environment for carhelp, so a developer's config plays no part.
mkdir -p "$tmp/config" "$tmp/state" "$tmp/cache"
export CARHELP_CONFIG_DIR="$tmp/config" CARHELP_STATE_DIR="$tmp/state" CARHELP_CACHE_DIR="$tmp/cache"

hyperfine --shell=none --warmup "$warmup" --runs "$runs" --style basic \
    --export-json "$tmp/bench.json" \
    -n 'carhelp --version' "$carhelp --version" \
    -n 'curl --version' "curl --version" \
    -n 'carhelp __complete' "$carhelp __complete order ''" \
    -n 'true (exec floor)' "$(command -v true)" >&2

mean_ms() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .mean * 1000' "$tmp/bench.json"; }
cpu_ms() { jq -r --arg n "$1" '.results[] | select(.command == $n) | (.user + .system) * 1000' "$tmp/bench.json"; }
median_ms() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .median * 1000' "$tmp/bench.json"; }
sd_ms() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .stddev * 1000' "$tmp/bench.json"; }
c=$(mean_ms 'carhelp --version'); cs=$(sd_ms 'carhelp --version')
u=$(mean_ms 'curl --version'); us=$(sd_ms 'curl --version')
t=$(mean_ms 'true (exec floor)')
cc=$(cpu_ms 'carhelp --version'); uc=$(cpu_ms 'curl --version'); tc=$(cpu_ms 'true (exec floor)')
cm=$(median_ms 'carhelp --version')
k=$(mean_ms 'carhelp __complete')
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')

awk -v c="$c" -v cs="$cs" -v u="$u" -v us="$us" -v t="$t" -v b="$budget_ms" -v r="$runs" \
    -v k="$k" -v kb="$complete_budget_ms" -v cc="$cc" -v uc="$uc" -v tc="$tc" -v cm="$cm" -v load="$load" -v cores="$(nproc 2>/dev/null || echo '?')" 'BEGIN {
    printf "carhelp --version: mean %.2f ms (median %.2f, sd %.2f ms, %d runs), CPU %.2f ms\n", c, cm, cs, r, cc
    printf "curl --version:    mean %.2f ms (sd %.2f ms, %d runs), CPU %.2f ms\n", u, us, r, uc
    printf "ratio carhelp/curl: %.2f (CPU time: %.2f)\n", c / u, cc / uc
    printf "exec floor (true):  mean %.2f ms, CPU %.2f ms, so carhelp itself adds %.2f ms\n", t, tc, c - t
    printf "carhelp __complete order \"\": mean %.2f ms (budget %s ms)\n", k, kb
    printf "machine: load average %s on %s cores while measuring\n", load, cores
    if (k > kb) { printf "FAIL: carhelp __complete mean %.2f ms is over the %s ms budget\n", k, kb; exit 1 }
    if (c > b) { printf "FAIL: carhelp --version mean %.2f ms is over the %s ms budget\n", c, b; exit 1 }
    printf "PASS: carhelp --version mean %.2f ms is within the %s ms budget\n", c, b
}'
