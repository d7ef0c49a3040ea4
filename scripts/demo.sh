#!/usr/bin/env bash
# demo.sh (`make demo`): a short narrated tour of what carhelp does today, against the reference
# service with the demo data on a free loopback port. Each step prints a heading, the command
# as you would type it, then its output. Nothing outside a temporary folder is touched: the
# service keeps its data in a database file there, carhelp its config, credentials and cache in private
# folders. Exits non-zero when a step does not end as it should.
# Environment: CARHELP_BIN, CARHELP_SERVER_BIN (default build/...), DEMO_PAUSE=SEC between steps.
set -uo pipefail

root=$(CDPATH='' cd "$(dirname "$0")/.." && pwd)
CARHELP_BIN=${CARHELP_BIN:-$root/build/carhelp}
CARHELP_SERVER_BIN=${CARHELP_SERVER_BIN:-$root/build/carhelp-server}
pause=${DEMO_PAUSE:-0}

for b in "$CARHELP_BIN" "$CARHELP_SERVER_BIN"; do
    [[ -x $b ]] || { echo "demo: $b is not built (run \`make demo\`, which builds it)" >&2; exit 1; }
done

if [[ -t 1 && -z ${NO_COLOR:-} ]]; then
    B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
else
    B='' D='' G='' R='' N=''
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/carhelp-demo.XXXXXX")
server_pid=''
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

# carhelp sees only the demo's folders and service, never the user's own login or settings.
for v in $(compgen -e); do
    case $v in CARHELP_BIN|CARHELP_SERVER_BIN) ;; CARHELP_*) unset "$v" ;; esac
done
unset NO_COLOR https_proxy http_proxy HTTPS_PROXY HTTP_PROXY all_proxy ALL_PROXY
mkdir -p "$tmp/config" "$tmp/state" "$tmp/cache"
export CARHELP_CONFIG_DIR=$tmp/config CARHELP_STATE_DIR=$tmp/state CARHELP_CACHE_DIR=$tmp/cache

# Start the service; its first line of output is "listening on URL".
# Its data lives in a file in the temporary folder, so the service can stop and come back
# (the outbox step) with the same tickets and tokens.
"$CARHELP_SERVER_BIN" --listen 127.0.0.1:0 --seed demo --db "$tmp/service.db" \
    >"$tmp/server.out" 2>"$tmp/server.log" &
server_pid=$!
url=''
for _ in $(seq 100); do
    line=$(head -n 1 "$tmp/server.out" 2>/dev/null)
    if [[ $line == "listening on "* ]]; then url=${line#listening on }; break; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z $url ]]; then
    echo "demo: carhelp-server did not start:" >&2
    cat "$tmp/server.log" >&2
    exit 1
fi
export CARHELP_API_URL=$url

failed=0
n=0
# step EXPECTED_EXIT "heading" [--stdin TEXT] -- ARGS...: show and run `carhelp ARGS`.
step() {
    local want=$1 heading=$2 input='' shown
    shift 2
    if [[ $1 == --stdin ]]; then input=$2; shift 2; fi
    [[ $1 == -- ]] && shift
    n=$((n + 1))
    shown="carhelp $*"
    [[ -n $input ]] && shown="echo $input | $shown"
    printf '\n%s%d. %s%s\n' "$B" "$n" "$heading" "$N"
    printf '%s$ %s%s\n' "$D" "$shown" "$N"
    local rc
    if [[ -n $input ]]; then
        printf '%s\n' "$input" | "$CARHELP_BIN" "$@"
    else
        "$CARHELP_BIN" "$@" </dev/null
    fi
    rc=$?
    if [[ $rc == "$want" ]]; then
        [[ $want != 0 ]] && printf '%s(exit %d, as expected)%s\n' "$D" "$rc" "$N"
    else
        printf '%sdemo: step %d exited %d, expected %d%s\n' "$R" "$n" "$rc" "$want" "$N" >&2
        failed=$((failed + 1))
    fi
    [[ $pause == 0 ]] || sleep "$pause"
}

printf '%scarhelp demo%s: the reference service runs at %s with the demo data\n' "$B" "$N" "$url"
printf '(temporary and in memory; carhelp uses the folders under %s)\n' "$tmp"

step 0 "Which carhelp is this? (no network, no config)" -- --version
step 0 "Is everything set up? doctor checks config, network, API, clock and token" -- doctor
step 0 "Whom to call, and is anyone there now? (works offline too)" -- contact
step 0 "Log in as the customer 王小明: the service sends a one-time code (piped in here)" \
    --stdin 246810 -- login --phone 13800138000
step 0 "Who am I logged in as?" -- auth status
step 0 "The same for scripts: one JSON document" -- --json auth status
step 0 "Log out: the token is revoked at the service and deleted here" -- logout
step 4 "Logged out, auth status says so with exit 4" -- auth status
step 0 "Field staff log in with their staff ID and password (no echo on a terminal)" \
    --stdin field01-demo-pass -- login --staff field01
step 0 "Staff token: role and expiry" -- auth status
step 0 "A caller says he is 王小明: staff verify his phone and the last four of his ID" \
    -- account verify --phone 13800138000 --id-last4 002X
step 1 "A caller gets the last four wrong: not verified, attempts left shown (exit 1)" \
    -- account verify --phone 13912345678 --id-last4 0000
step 0 "张伟 calls about his account: verified by his member ID" \
    -- account verify --phone 13700001111 --member M100003
step 0 "Verified, staff may look at it: 张伟's account is frozen" -- account show acc_1003
printf 'phone,member\n13800138000,M100001\n13912345678,M100002\n13700001111,M100003\n' \
    >"$tmp/members.csv"
step 0 "Many callers at once: one process verifies a whole list (CSV or JSON lines), 8 requests in flight, NDJSON out in input order" \
    -- account verify --batch "$tmp/members.csv"
printf '京AD12345\n京B67890\n沪AD54321\n' >"$tmp/fleet.txt"
step 0 "Which of our cars are offline? The fleet list in one go (one line per car)" \
    -- vehicle show --batch "$tmp/fleet.txt" --parallel 3
step 8 "A car that cannot be reached: staff try to unlock 京B67890 (offline) for a caller; the plate is named again, the reason is audited, and it fails with what to do (exit 8)" \
    -- unlock 京B67890 --reason "caller locked out, ticket pending" --confirm 京B67890
step 0 "Log out again" -- logout
step 0 "王小明 is on a trip (order ord_20261125_0004) and cannot open the car" \
    --stdin 246810 -- login --phone 13800138000
step 0 "His car: locked, battery, online, where it is, his active order" -- vehicle show 京AD12345
step 0 "Remote unlock (--yes answers the confirmation a terminal would ask): sent once, then waited for until the car itself confirms; progress on stderr" \
    -- unlock 京AD12345 --yes
step 0 "The car now says unlocked, and shows the last command" -- vehicle show 京AD12345
step 0 "李娜 has no active order" --stdin 135790 -- login --phone 13912345678
step 8 "So she cannot unlock a car, not even a free one (exit 8, with what to do)" \
    -- unlock 沪AD54321 --yes
step 0 "李娜's orders, newest first (Chinese plates aligned in the table)" -- order list
step 0 "What she was billed for ord_20261102_0002: fee lines, payment, total" \
    -- order fees ord_20261102_0002
step 1 "The audit recomputes it from the tariff: 95 minutes billed for a 35-minute trip, ¥21.00 too much (exit 1)" \
    -- order audit ord_20261102_0002
step 1 "Every order of hers since 1 November: ord_20261103_0003 has the service fee twice (¥3.00)" \
    -- order audit --since 2026-11-01
step 0 "She disputes the first one: a billing ticket carrying the audit's findings as evidence" \
    -- order dispute ord_20261102_0002 --reason "35-minute trip billed as 95 minutes"
step 0 "Before she calls about it: what to have ready, filled in from her account and the order (masked)" \
    -- checklist --issue billing --order ord_20261102_0002
dispute=$("$CARHELP_BIN" --json ticket list --limit 1 </dev/null | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
step 0 "The dispute as a QR-coded pass (signed by the service) for a service point, short code under it" \
    -- ticket qr "$dispute"
code=$("$CARHELP_BIN" --json ticket qr "$dispute" </dev/null | grep -o '"short_code":"[^"]*"' | cut -d'"' -f4)
step 0 "On the phone she reads out the short code instead; it checks and shows the ticket's status" \
    -- ticket verify "$code"
# A photo made here: an 8x8 red PNG, as a phone camera would save it (any name works: the
# type is judged by the content).
printf '\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x08\x00\x00\x00\x08\x08\x02\x00\x00\x00\x4b\x6d\x29\xdc\x00\x00\x00\x11\x49\x44\x41\x54\x78\x9c\x63\x38\xa1\xa1\x81\x15\x31\x0c\x2d\x09\x00\x82\x5d\x46\x01\x6a\x8d\x16\x6b\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82' \
    >"$tmp/IMG_2041.png"
step 0 "She reports a vehicle fault with a photo: the ticket ID and when the first answer is due (24 h)" \
    -- report vehicle --vehicle 沪AD54321 --message "Warning light on the dashboard" --attach "$tmp/IMG_2041.png"
ticket=$("$CARHELP_BIN" --json ticket list --limit 1 </dev/null | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
step 0 "Her tickets, with the SLA due times" -- ticket list
step 0 "The ticket: SLA, the photo, the history" -- ticket show "$ticket"
step 0 "Staff answered; she rates how it was handled (once per ticket)" \
    -- ticket rate "$ticket" --score 5 --comment "Quick and friendly"
port=${url##*:}
kill -TERM "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=''
step 10 "The service is down (a car park without signal): the report is saved to the outbox, exit 10" \
    -- report cleanliness --vehicle 沪AD54321 --message "Back seat is dirty" --retries 0
step 0 "What waits in the outbox" -- outbox list
"$CARHELP_SERVER_BIN" --listen "127.0.0.1:$port" --db "$tmp/service.db" \
    >"$tmp/server.out" 2>>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 100); do
    [[ $(head -n 1 "$tmp/server.out" 2>/dev/null) == "listening on "* ]] && break
    sleep 0.1
done
step 0 "The service is back: flush delivers it, exactly once (its Idempotency-Key makes a repeat harmless)" \
    -- outbox flush
step 0 "An accident: safety guidance and 122/120/110/119 at once, then an emergency ticket (30-minute SLA)" \
    -- emergency --location 31.2304,121.4737
step 0 "The shell: the same commands without 'carhelp', in one process over one connection (fed from a pipe here; on a terminal: Tab completion, history, Ctrl-C, and 'triage' leads the way)" \
    --stdin "ticket list --limit 1" -- shell
step 0 "Log out" -- logout

cat <<EOF

${B}That was the tour.${N} To try it yourself, start the service by hand (in-memory demo data,
on the default port 127.0.0.1:8765):

    build/carhelp-server --seed demo

and point carhelp at it, in another terminal, in any of these ways:

    export CARHELP_API_URL=http://127.0.0.1:8765     # for this shell
    build/carhelp --api-url http://127.0.0.1:8765 doctor   # for one command
    mkdir -p ~/.config/carhelp && printf '[default]\\napi_url = http://127.0.0.1:8765\\n' > ~/.config/carhelp/config

(http://127.0.0.1:8765 is also the built-in default.) Demo logins: phone 13800138000,
code 246810; staff field01, password field01-demo-pass. See README.md and man/carhelp.1.
EOF

if [[ $failed != 0 ]]; then
    printf '\n%sdemo: %d step(s) did not end as expected%s\n' "$R" "$failed" "$N" >&2
    echo "demo: the service's log:" >&2
    sed 's/^/    /' "$tmp/server.log" >&2
    exit 1
fi
printf '%sdemo: all %d steps ended as expected%s\n' "$G" "$n" "$N"
