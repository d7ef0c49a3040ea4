#!/bin/sh
# bench/run.sh (`make bench`): carhelp measured side by side with public tools, in one run.
#
# 0. budgets (enforced): `carhelp --version` under 5 ms (the foundation issue: no network, no
#    config, no curl_global_init) and `carhelp __complete order ""`, what every Tab press runs,
#    under 10 ms (the shell issue). hyperfine runs each without a shell, 20 warm-up runs then
#    200; /bin/true runs alongside as the machine's floor (the cost of creating any process).
#    And `carhelp emergency` with a config typo and an unreachable API under 50 ms: the safety
#    guidance comes before any setup step and needs no network.
# Then, against the reference service (carhelp-server on loopback, a private database in the
# temporary directory, demo seed, staff login field01), the batch targets (docs/DECISIONS.md "Batch checks and performance"):
# 1. startup: `carhelp --version` against `curl --version` (the same hyperfine run as 0.);
# 2. one request: `carhelp order show ID --json` against `curl -s -H "Authorization: Bearer …"
#    URL/v1/orders/ID` (hyperfine, no shell, alternately);
# 3. batch: `carhelp account verify --batch FILE --json --parallel N` over BENCH_LINES lines of
#    correct facts of the demo accounts (never a failure, so no phone is ever locked out), against
#    a shell loop calling curl once per line (over the first BENCH_LOOP_LINES lines: lines per
#    second are compared) and against wrk POSTing the same bodies with the same concurrency
#    (-c N), the service's own ceiling. Without `account verify --batch` in this build, the
#    batch step uses `vehicle show --batch` and GET /v1/vehicles/ID instead, and says so;
# 4. peak memory (max RSS, GNU time %M) of the BENCH_LINES batch and of a BENCH_BIG_LINES one.
# The service's CPU time during each step is read from /proc, to tell who is the bottleneck.
# Prints a table of the targets, MET or NOT MET. Exit status: 1 when a budget of step 0 is
# missed or a measurement is broken (a failed request, a batch line that did not exit 0, output
# out of order); the batch targets are reported, not enforced (they depend on the machine and
# its load more than on carhelp; see docs/DECISIONS.md).
# The token never appears in argv or on the terminal: curl and wrk read it from a header file in
# the private temporary directory (umask 077), removed on exit.
# Environment: CARHELP_BIN (default build/carhelp), CARHELP_SERVER_BIN (build/carhelp-server),
#   BENCH_BUDGET_MS (5), BENCH_COMPLETE_BUDGET_MS (10), BENCH_EMERGENCY_BUDGET_MS (50), BENCH_RUNS (200), BENCH_WARMUP (20),
#   BENCH_REQ_RUNS (100: one-request runs each), BENCH_LINES (10000), BENCH_BIG_LINES (100000;
#   0 skips it), BENCH_LOOP_LINES (1000), BENCH_PARALLEL (8), BENCH_WRK_SECONDS (10),
#   BENCH_WRK_THREADS (2), BENCH_BATCH_TIMEOUT (600 s: a batch stopped after that is reported
#   as broken), BENCH_SKIP_SERVICE=1 (only step 0 and 1).
set -eu
umask 077
root=$(CDPATH='' cd "$(dirname "$0")/.." && pwd)
carhelp=${CARHELP_BIN:-$root/build/carhelp}
server=${CARHELP_SERVER_BIN:-$root/build/carhelp-server}
budget_ms=${BENCH_BUDGET_MS:-5}
complete_budget_ms=${BENCH_COMPLETE_BUDGET_MS:-10}
emergency_budget_ms=${BENCH_EMERGENCY_BUDGET_MS:-50}
runs=${BENCH_RUNS:-200}
warmup=${BENCH_WARMUP:-20}
req_runs=${BENCH_REQ_RUNS:-100}
lines=${BENCH_LINES:-10000}
big_lines=${BENCH_BIG_LINES:-100000}
loop_lines=${BENCH_LOOP_LINES:-1000}
batch_timeout=${BENCH_BATCH_TIMEOUT:-600}
parallel=${BENCH_PARALLEL:-8}
wrk_seconds=${BENCH_WRK_SECONDS:-10}
wrk_threads=${BENCH_WRK_THREADS:-2}
skip_service=${BENCH_SKIP_SERVICE:-0}
staff_id=field01
staff_password=field01-demo-pass     # the demo seed's (../shared/design/api.md), not a secret
order_id=ord_20261101_0001          # acc_1001's completed order in the demo seed
gnu_time=/usr/bin/time

[ "$wrk_threads" -le "$parallel" ] || wrk_threads=$parallel    # wrk needs connections >= threads
[ "$loop_lines" -le "$lines" ] || loop_lines=$lines

for tool in hyperfine jq curl wrk; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench: $tool is not installed (run \`scripts/deps.sh bench\` or \`make bench\`)" >&2
        exit 1
    fi
done
if ! "$gnu_time" -f %M true >/dev/null 2>&1; then
    echo "bench: GNU time ($gnu_time) is not installed (run \`scripts/deps.sh bench\` or \`make bench\`)" >&2
    exit 1
fi
[ -x "$carhelp" ] || { echo "bench: $carhelp not built (run \`make\`)" >&2; exit 1; }
[ "$skip_service" = 1 ] || [ -x "$server" ] || { echo "bench: $server not built (run \`make\`)" >&2; exit 1; }

tmp=$(mktemp -d)
srv_pid=''
# shellcheck disable=SC2317  # called by the trap
cleanup() {
    if [ -n "$srv_pid" ]; then
        kill "$srv_pid" 2>/dev/null || true
        wait "$srv_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A private, empty environment for carhelp, so a developer's config plays no part.
mkdir -p "$tmp/config" "$tmp/state" "$tmp/cache"
export CARHELP_CONFIG_DIR="$tmp/config" CARHELP_STATE_DIR="$tmp/state" CARHELP_CACHE_DIR="$tmp/cache"
unset CARHELP_PROFILE CARHELP_TIMEOUT CARHELP_RETRIES 2>/dev/null || true

status=0
broken_n=0
broken() { echo "bench: BROKEN: $*" >&2; status=1; broken_n=$((broken_n + 1)); }
# verdict BAD OK: BROKEN when BAD is 1 (a measurement of the row broke), else MET or NOT MET.
verdict() { if [ "$1" = 1 ]; then echo BROKEN; elif [ "$2" = 1 ]; then echo MET; else echo 'NOT MET'; fi; }
# ok CMD...: 1 when CMD succeeds, else 0.
ok() { if "$@"; then echo 1; else echo 0; fi; }
note() { echo "bench: $*" >&2; }
now_ns() { date +%s%N; }
# awk arithmetic on strings of numbers: calc 'a / b' a=1 b=2
calc() { e=$1; shift; awk "$@" "BEGIN { printf \"%.6g\", $e }"; }
ratio_ok() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# ---- 0 and 1: start-up ---------------------------------------------------------------------
note "start-up: hyperfine, $warmup warm-up runs then $runs each"
hyperfine --shell=none --warmup "$warmup" --runs "$runs" --style basic \
    --export-json "$tmp/bench.json" \
    -n 'carhelp --version' "$carhelp --version" \
    -n 'curl --version' "curl --version" \
    -n 'carhelp __complete' "$carhelp __complete order ''" \
    -n 'true (exec floor)' "$(command -v true)" >&2

mean_ms() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .mean * 1000' "$2"; }
cpu_ms() { jq -r --arg n "$1" '.results[] | select(.command == $n) | (.user + .system) * 1000' "$2"; }
median_ms() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .median * 1000' "$2"; }
sd_ms() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .stddev * 1000' "$2"; }
c=$(mean_ms 'carhelp --version' "$tmp/bench.json"); cs=$(sd_ms 'carhelp --version' "$tmp/bench.json")
u=$(mean_ms 'curl --version' "$tmp/bench.json"); us=$(sd_ms 'curl --version' "$tmp/bench.json")
t=$(mean_ms 'true (exec floor)' "$tmp/bench.json")
cc=$(cpu_ms 'carhelp --version' "$tmp/bench.json"); uc=$(cpu_ms 'curl --version' "$tmp/bench.json")
tc=$(cpu_ms 'true (exec floor)' "$tmp/bench.json")
cm=$(median_ms 'carhelp --version' "$tmp/bench.json")
k=$(mean_ms 'carhelp __complete' "$tmp/bench.json")
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')
cores=$(nproc 2>/dev/null || echo '?')

awk -v c="$c" -v cs="$cs" -v u="$u" -v us="$us" -v t="$t" -v b="$budget_ms" -v r="$runs" \
    -v k="$k" -v kb="$complete_budget_ms" -v cc="$cc" -v uc="$uc" -v tc="$tc" -v cm="$cm" -v load="$load" -v cores="$cores" 'BEGIN {
    printf "carhelp --version: mean %.2f ms (median %.2f, sd %.2f ms, %d runs), CPU %.2f ms\n", c, cm, cs, r, cc
    printf "curl --version:    mean %.2f ms (sd %.2f ms, %d runs), CPU %.2f ms\n", u, us, r, uc
    printf "ratio carhelp/curl: %.2f (CPU time: %.2f)\n", c / u, cc / uc
    printf "exec floor (true):  mean %.2f ms, CPU %.2f ms, so carhelp itself adds %.2f ms\n", t, tc, c - t
    printf "carhelp __complete order \"\": mean %.2f ms (budget %s ms)\n", k, kb
    printf "machine: load average %s on %s cores while measuring\n", load, cores
    bad = 0
    if (k > kb) { printf "FAIL: carhelp __complete mean %.2f ms is over the %s ms budget\n", k, kb; bad = 1 }
    if (c > b) { printf "FAIL: carhelp --version mean %.2f ms is over the %s ms budget\n", c, b; bad = 1 }
    else printf "PASS: carhelp --version mean %.2f ms is within the %s ms budget\n", c, b
    exit bad
}' || status=1

# ---- 0b: the emergency guidance with a broken setup ---------------------------------------
# A config file with a typo and an API nobody listens on: the guidance and the numbers must
# come out at once (the command then exits 2 for the config, so hyperfine ignores the status).
mkdir -p "$tmp/broken/config" "$tmp/broken/state" "$tmp/broken/cache"
printf '[default]\ncolour = always\n' >"$tmp/broken/config/config"
note "emergency with a broken config and an unreachable API: hyperfine, $warmup warm-up runs then $runs"
(
    export CARHELP_CONFIG_DIR="$tmp/broken/config" CARHELP_STATE_DIR="$tmp/broken/state" \
        CARHELP_CACHE_DIR="$tmp/broken/cache" CARHELP_API_URL=http://127.0.0.1:1
    hyperfine --shell=none --ignore-failure --warmup "$warmup" --runs "$runs" --style basic \
        --export-json "$tmp/emergency.json" \
        -n 'carhelp emergency (broken setup)' "$carhelp emergency" >&2
) || status=1
e=$(mean_ms 'carhelp emergency (broken setup)' "$tmp/emergency.json")
e_out=$(CARHELP_CONFIG_DIR="$tmp/broken/config" CARHELP_STATE_DIR="$tmp/broken/state" \
    CARHELP_CACHE_DIR="$tmp/broken/cache" CARHELP_API_URL=http://127.0.0.1:1 \
    "$carhelp" emergency 2>/dev/null) || true
case "$e_out" in
    *122*120*110*119*) ;;
    *) echo "bench: carhelp emergency did not print the emergency numbers" >&2; status=1 ;;
esac
awk -v e="$e" -v b="$emergency_budget_ms" 'BEGIN {
    if (e == "" || e > b) { printf "FAIL: carhelp emergency (broken setup) mean %s ms is over the %s ms budget\n", e, b; exit 1 }
    printf "PASS: carhelp emergency (broken config, unreachable API) mean %.2f ms is within the %s ms budget\n", e, b
}' || status=1

startup_ratio=$(calc 'c / u' -v c="$c" -v u="$u")
if ratio_ok "$c" "$u"; then startup_met=MET; else startup_met='NOT MET'; fi

if [ "$skip_service" = 1 ]; then
    note "BENCH_SKIP_SERVICE=1: steps 2 to 4 skipped"
    printf '\n%-44s %-44s %s\n' 'target' 'measured' 'result'
    printf '%-44s %-44s %s\n' 'startup <= curl --version' \
        "$(printf '%.2f vs %.2f ms (%.2fx)' "$c" "$u" "$startup_ratio")" "$startup_met"
    exit $status
fi

# ---- the reference service -----------------------------------------------------------------
"$server" --listen 127.0.0.1:0 --db "$tmp/service.db" --seed demo >"$tmp/server.out" 2>"$tmp/server.log" &
srv_pid=$!
i=0
while ! grep -q '^listening on ' "$tmp/server.out" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$srv_pid" 2>/dev/null; then
        echo "bench: carhelp-server did not start:" >&2
        tail -5 "$tmp/server.log" >&2
        exit 1
    fi
    sleep 0.1
done
url=$(sed -n '1s/^listening on //p' "$tmp/server.out")
export CARHELP_API_URL="$url"
note "service: $url (pid $srv_pid, database in the temporary directory)"

hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
# The service's CPU time so far (user + system), in seconds.
srv_cpu() { awk -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$srv_pid/stat"; }

# curl logs in with the password on stdin; only the header file (mode 0600) holds the token.
printf '{"staff_id":"%s","password":"%s"}' "$staff_id" "$staff_password" |
    curl -sf -H 'Content-Type: application/json' --data-binary @- "$url/v1/auth/token" >"$tmp/login.json" ||
    { echo "bench: staff login with curl failed" >&2; exit 1; }
jq -r '"Authorization: Bearer " + .token' "$tmp/login.json" >"$tmp/auth.header"
rm -f "$tmp/login.json"
# carhelp logs in on its own, the password on stdin.
printf '%s\n' "$staff_password" | "$carhelp" login --staff "$staff_id" >/dev/null 2>"$tmp/err" ||
    { echo "bench: carhelp login --staff failed:" >&2; cat "$tmp/err" >&2; exit 1; }

# ---- 2: one request ------------------------------------------------------------------------
# Staff see an order once they have verified its customer: both logins verify acc_1001 first.
"$carhelp" account verify --phone 13800138000 --member M100001 --json >/dev/null ||
    { echo "bench: carhelp account verify failed" >&2; exit 1; }
curl -sf -H @"$tmp/auth.header" -H 'Content-Type: application/json' \
    --data-binary '{"phone":"13800138000","member_id":"M100001"}' "$url/v1/accounts/verify" >/dev/null ||
    { echo "bench: verify with curl failed" >&2; exit 1; }
m=$broken_n
a=$("$carhelp" order show "$order_id" --json | jq -r .id) || a=''
b=$(curl -sf -H @"$tmp/auth.header" "$url/v1/orders/$order_id" | jq -r .id) || b=''
if [ "$a" != "$order_id" ] || [ "$b" != "$order_id" ]; then
    broken "order show: carhelp gave '$a', curl '$b'"
fi

note "one request: hyperfine, 5 warm-up runs then $req_runs each"
s0=$(srv_cpu)
hyperfine --shell=none --warmup 5 --runs "$req_runs" --style basic --export-json "$tmp/req.json" \
    -n 'carhelp order show' "$carhelp order show $order_id --json" \
    -n 'curl GET' "curl -s -H @$tmp/auth.header $url/v1/orders/$order_id" >&2
s1=$(srv_cpu)
rc_=$(mean_ms 'carhelp order show' "$tmp/req.json"); rcs=$(sd_ms 'carhelp order show' "$tmp/req.json")
ru=$(mean_ms 'curl GET' "$tmp/req.json"); rus=$(sd_ms 'curl GET' "$tmp/req.json")
rcc=$(cpu_ms 'carhelp order show' "$tmp/req.json"); ruc=$(cpu_ms 'curl GET' "$tmp/req.json")
req_ratio=$(calc 'a / b' -v a="$rc_" -v b="$ru")
req_met=$(verdict $((broken_n > m)) "$(ok ratio_ok "$req_ratio" 1.2)")
printf '\ncarhelp order show --json: mean %.2f ms (sd %.2f, %d runs), CPU %.2f ms\n' "$rc_" "$rcs" "$req_runs" "$rcc"
printf 'curl -s GET /v1/orders/ID:  mean %.2f ms (sd %.2f, %d runs), CPU %.2f ms\n' "$ru" "$rus" "$req_runs" "$ruc"
printf 'ratio carhelp/curl: %.2f; the service spent %s s of CPU on the %d requests\n' "$req_ratio" \
    "$(calc 'b - a' -v a="$s0" -v b="$s1")" "$(( (req_runs + 5) * 2 ))"

# ---- 3: batch ------------------------------------------------------------------------------
if "$carhelp" account verify --help 2>&1 | grep -q -- '--batch'; then
    mode=verify
    batch_cmd='account verify'
    what='account verify --batch (POST /v1/accounts/verify)'
else
    mode=vehicle
    batch_cmd='vehicle show'
    what='vehicle show --batch (GET /v1/vehicles/ID): this build has no account verify --batch'
fi
# shellcheck disable=SC2086  # batch_cmd is two words
if "$carhelp" $batch_cmd --help 2>&1 | grep -q -- '--parallel'; then
    par_opt="--parallel $parallel"
else
    par_opt=''
    what="$what; no --parallel in this build, so one request at a time"
fi
note "batch: $what"

# gen N PREFIX: PREFIX.in (carhelp's input, one JSON object a line) and PREFIX.req (the same
# requests for wrk and the curl loop: METHOD<TAB>PATH<TAB>BODY). Only correct facts of the demo
# accounts, in turn, so every line verifies and no phone is ever locked out.
gen() {
    awk -v n="$1" -v mode="$mode" -v in_="$2.in" -v req="$2.req" 'BEGIN {
        m = 0
        if (mode == "verify") {
            f[m++] = "13800138000 member M100001 member_id"
            f[m++] = "13912345678 member M100002 member_id"
            f[m++] = "13700001111 member M100003 member_id"
            f[m++] = "13800138000 id-last4 002X id_last4"
            f[m++] = "13912345678 id-last4 3454 id_last4"
            f[m++] = "13700001111 id-last4 123X id_last4"
            f[m++] = "13800138000 order ord_20261101_0001 order_id"
            f[m++] = "13912345678 order ord_20261102_0002 order_id"
        } else {
            f[m++] = "veh_001"; f[m++] = "veh_002"; f[m++] = "veh_003"
        }
        for (i = 0; i < n; i++) {
            split(f[i % m], w, " ")
            if (mode == "verify") {
                printf "{\"phone\":\"%s\",\"%s\":\"%s\"}\n", w[1], w[2], w[3] > in_
                printf "POST\t/v1/accounts/verify\t{\"phone\":\"%s\",\"%s\":\"%s\"}\n", w[1], w[4], w[3] > req
            } else {
                printf "{\"id\":\"%s\"}\n", w[1] > in_
                printf "GET\t/v1/vehicles/%s\t\n", w[1] > req
            }
        }
    }'
}

# check_out FILE N: N lines, numbered 1..N in order, every one exit 0. Prints the problems.
check_out() {
    jq -r '[.line, .exit] | @tsv' "$1" | awk -v n="$2" '
        $1 != NR { if (!o++) printf "line %d of the output is input line %s\n", NR, $1 }
        $2 != 0 { bad++ }
        END {
            if (NR != n) printf "%d output lines for %d input lines\n", NR, n
            if (bad) printf "%d lines did not exit 0\n", bad
            exit (NR != n || bad || o)
        }'
}

# run_batch N PREFIX: runs carhelp over PREFIX.in; sets b_rate (lines/s), b_rss (KiB),
# b_cpu (carhelp's user+sys s), b_wall (s), b_srv (the service's CPU s).
run_batch() {
    gen "$1" "$2"
    sa=$(srv_cpu); ta=$(now_ns)
    # GNU time's %M over timeout is the max RSS of carhelp, timeout's child.
    b_rc=0
    # shellcheck disable=SC2086  # batch_cmd and par_opt are words
    "$gnu_time" -o "$2.time" -f '%M %U %S' timeout "$batch_timeout" \
        "$carhelp" $batch_cmd --batch "$2.in" --json $par_opt >"$2.out" 2>"$2.err" || b_rc=$?
    tb=$(now_ns); sb=$(srv_cpu)
    if [ "$b_rc" = 124 ]; then
        broken "batch of $1 lines: not finished after ${batch_timeout} s (BENCH_BATCH_TIMEOUT), stopped"
    elif ! problems=$(check_out "$2.out" "$1"); then
        broken "batch of $1 lines: $problems"
        head -3 "$2.err" >&2
    fi
    b_wall=$(calc '(b - a) / 1e9' -v a="$ta" -v b="$tb")
    b_rate=$(calc 'n / w' -v n="$(wc -l <"$2.out")" -v w="$b_wall")    # lines done per second
    b_rss=$(awk 'END { print $1 }' "$2.time")
    b_cpu=$(awk 'END { print $2 + $3 }' "$2.time")
    b_srv=$(calc 'b - a' -v a="$sa" -v b="$sb")
}

note "batch: carhelp $batch_cmd --batch, $lines lines ${par_opt:+($par_opt)}"
m=$broken_n
run_batch "$lines" "$tmp/b1"
b1_bad=$((broken_n > m))
rate=$b_rate; rss1=$b_rss
printf '\nbatch: %s\n' "$what"
printf 'carhelp --batch %d lines %s: %.2f s, %.0f lines/s; carhelp CPU %.2f s, max RSS %d KiB; service CPU %.2f s (%.0f %% of one core)\n' \
    "$lines" "${par_opt:-(sequential)}" "$b_wall" "$b_rate" "$b_cpu" "$b_rss" "$b_srv" "$(calc '100 * s / w' -v s="$b_srv" -v w="$b_wall")"

note "batch: a shell loop calling curl once per line, $loop_lines lines"
head -n "$loop_lines" "$tmp/b1.req" >"$tmp/loop.req"
m=$broken_n
tab=$(printf '\t')
sa=$(srv_cpu); ta=$(now_ns)
while IFS="$tab" read -r _method path body; do
    if [ -n "$body" ]; then
        curl -s -m 30 -w '\n' -H @"$tmp/auth.header" -H 'Content-Type: application/json' \
            --data-binary "$body" "$url$path"
    else
        curl -s -m 30 -w '\n' -H @"$tmp/auth.header" "$url$path"
    fi
done <"$tmp/loop.req" >"$tmp/loop.out"
tb=$(now_ns); sb=$(srv_cpu)
ok=$(jq -r 'has("error") | not' "$tmp/loop.out" | grep -c true) || ok=0
[ "$ok" -eq "$loop_lines" ] || broken "curl loop: $ok of $loop_lines answers without an error"
loop_bad=$((broken_n > m || b1_bad))
loop_wall=$(calc '(b - a) / 1e9' -v a="$ta" -v b="$tb")
loop_rate=$(calc 'n / w' -v n="$loop_lines" -v w="$loop_wall")
printf 'shell loop, curl once a line, %d lines (lines/s compared): %.2f s, %.1f lines/s; service CPU %.2f s\n' \
    "$loop_lines" "$loop_wall" "$loop_rate" "$(calc 'b - a' -v a="$sa" -v b="$sb")"

note "batch: wrk -c $parallel -t $wrk_threads -d ${wrk_seconds}s, the same requests"
sa=$(srv_cpu); m=$broken_n
wrk -c "$parallel" -t "$wrk_threads" -d "${wrk_seconds}s" -s "$root/bench/wrk.lua" "$url" -- \
    "$tmp/auth.header" "$tmp/b1.req" >"$tmp/wrk.out" 2>&1 || broken "wrk failed: $(tail -3 "$tmp/wrk.out")"
sb=$(srv_cpu)
sed -n 's/^wrk-summary //p' "$tmp/wrk.out" >"$tmp/wrk.json"
if [ -s "$tmp/wrk.json" ]; then
    wrk_req=$(jq -r .requests "$tmp/wrk.json")
    wrk_rate=$(jq -r '.requests / (.duration_us / 1e6)' "$tmp/wrk.json")
    wrk_err=$(jq -r '.connect + .read + .write + .status + .timeout' "$tmp/wrk.json")
    wrk_lat=$(jq -r '.latency_mean_us / 1000' "$tmp/wrk.json")
    [ "$wrk_err" -eq 0 ] || broken "wrk: $wrk_err errors or non-2xx answers of $wrk_req"
else
    wrk_req=0; wrk_rate=0; wrk_lat=0
    broken "wrk printed no summary"
fi
wrk_srv=$(calc 'b - a' -v a="$sa" -v b="$sb")
wrk_bad=$((broken_n > m || b1_bad))
printf 'wrk -c %d -t %d -d %ss (the service'"'"'s ceiling): %d requests, %.0f requests/s, mean latency %.2f ms; service CPU %.2f s (%.0f %% of one core)\n' \
    "$parallel" "$wrk_threads" "$wrk_seconds" "$wrk_req" "$wrk_rate" "$wrk_lat" "$wrk_srv" \
    "$(calc '100 * s / d' -v s="$wrk_srv" -v d="$wrk_seconds")"
loop_ratio=$(calc 'a / b' -v a="$rate" -v b="$loop_rate")
wrk_pct=$(calc '100 * a / b' -v a="$rate" -v b="$wrk_rate")
printf 'ratios: carhelp batch / curl loop %.1fx, carhelp batch / wrk %.0f %%\n' "$loop_ratio" "$wrk_pct"
loop_met=$(verdict "$loop_bad" "$(ok ratio_ok 20 "$loop_ratio")")
wrk_met=$(verdict "$wrk_bad" "$(ok ratio_ok 70 "$wrk_pct")")

# ---- 4: peak memory ------------------------------------------------------------------------
if [ "$big_lines" -gt 0 ]; then
    note "memory: carhelp $batch_cmd --batch, $big_lines lines"
    m=$broken_n
    run_batch "$big_lines" "$tmp/b2"
    b2_bad=$((broken_n > m))
    rm -f "$tmp/b2.in" "$tmp/b2.req" "$tmp/b2.out"
    rss2=$b_rss
    printf 'carhelp --batch %d lines %s: %.2f s, %.0f lines/s; carhelp CPU %.2f s, max RSS %d KiB; service CPU %.2f s (%.0f %% of one core)\n' \
        "$big_lines" "${par_opt:-(sequential)}" "$b_wall" "$b_rate" "$b_cpu" "$b_rss" "$b_srv" "$(calc '100 * s / w' -v s="$b_srv" -v w="$b_wall")"
else
    rss2=''; b2_bad=0
fi
# Under 16 MiB both; "the same": the big batch within 10 % of the small one's peak.
max_rss=$rss1
[ -z "$rss2" ] || [ "$rss2" -le "$max_rss" ] || max_rss=$rss2
mem_met=$(verdict $((b1_bad || b2_bad)) "$(ok [ "$max_rss" -lt 16384 ])")
if [ -z "$rss2" ]; then
    flat_met='not measured'; flat_txt="BENCH_BIG_LINES=0: $lines lines only"
else
    flat_met=$(verdict $((b1_bad || b2_bad)) "$(ok ratio_ok "$rss2" "$(calc '1.1 * a' -v a="$rss1")")")
    flat_txt=$(printf '%d -> %d KiB (%+.1f %%)' "$rss1" "$rss2" "$(calc '100 * (b - a) / a' -v a="$rss1" -v b="$rss2")")
fi

# ---- the table -----------------------------------------------------------------------------
printf '\n%-50s %-56s %s\n' 'target (reported, not enforced)' 'measured' 'result'
printf '%-50s %-56s %s\n' 'startup <= curl --version' \
    "$(printf '%.2f vs %.2f ms (%.2fx)' "$c" "$u" "$startup_ratio")" "$startup_met"
printf '%-50s %-56s %s\n' 'one request <= 1.2x curl' \
    "$(printf '%.2f vs %.2f ms (%.2fx)' "$rc_" "$ru" "$req_ratio")" "$req_met"
printf '%-50s %-56s %s\n' "batch >= 20x curl loop ($mode, $loop_lines loop lines)" \
    "$(printf '%.0f vs %.1f lines/s (%.1fx)' "$rate" "$loop_rate" "$loop_ratio")" "$loop_met"
printf '%-50s %-56s %s\n' "batch >= 70 % of wrk (-c $parallel)" \
    "$(printf '%.0f vs %.0f lines/s (%.0f %%)' "$rate" "$wrk_rate" "$wrk_pct")" "$wrk_met"
printf '%-50s %-56s %s\n' 'peak memory < 16 MiB' \
    "$(printf 'max RSS %d KiB (%s lines)%s' "$rss1" "$lines" "${rss2:+, $rss2 KiB ($big_lines lines)}")" "$mem_met"
printf '%-50s %-56s %s\n' "peak memory the same for $lines and $big_lines lines" "$flat_txt" "$flat_met"
printf 'machine: %s cores, %s, load average %s at the end; %s\n' "$cores" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)" \
    "$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')" "$(date -u '+%Y-%m-%d %H:%M UTC')"
[ "$mode" = verify ] || echo "note: batch measured with vehicle show: this build has no account verify --batch"
if [ $status -ne 0 ]; then
    echo "bench: exit 1: a budget of the first step was missed or a measurement is broken (see above)"
fi
exit $status
