#!/usr/bin/python3
"""tests/load/profile.py [SECONDS]: the reference service's speed under wrk on loopback, the
measurement behind docs/DECISIONS.md ("reference service speed"). For each endpoint and 8 and
64 connections (2 wrk threads), a fresh service on a fresh database (demo data) is loaded for
SECONDS (default 10) and requests/s, p50/p99 and the service's CPU time per request (user +
system, from /proc: steadier than the rate on a busy machine) printed. CARHELP_SERVER_BIN
picks the binary, so two builds can be compared with the same command. A second argument runs
only the scenarios whose script name contains it (e.g. "verify")."""
import os
import sys
import tempfile
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loadlib  # noqa: E402

SCENARIOS = [
    ("GET /v1/orders/ID", "get_order.lua", "customer"),
    ("POST /v1/accounts/verify", "verify.lua", "staff"),
    ("POST /v1/tickets", "tickets.lua", "customer"),
]


def cpu_seconds(pid):
    """utime + stime of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    only = sys.argv[2] if len(sys.argv) > 2 else None
    print(f"server: {loadlib.SERVER}")
    print(f"{'endpoint':28} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'CPU us/req':>10} {'non-2xx':>7} {'errors':>6}")
    for name, script, who in SCENARIOS:
        if only and only not in script:
            continue
        for conns in (8, 64):
            with tempfile.TemporaryDirectory() as tmp:
                srv = loadlib.Server(os.path.join(tmp, "svc.db"), os.path.join(tmp, "log"))
                try:
                    token = (loadlib.login_staff if who == "staff"
                             else loadlib.login_customer)(srv.url)
                    env = {"LOAD_TOKEN": token, "LOAD_ORDER": loadlib.ORDER_ID,
                           "LOAD_RUN": uuid.uuid4().hex[:8], "LOAD_REPLAY_EVERY": "0"}
                    cpu0 = cpu_seconds(srv.proc.pid)
                    r = loadlib.run_wrk(srv.url, script, seconds, conns, env=env)
                    cpu = (cpu_seconds(srv.proc.pid) - cpu0) / max(1, r["requests"]) * 1e6
                finally:
                    srv.stop()
            errors = sum(v for k, v in r["errors"].items() if k != "status")
            lat = r["latency_us"]
            print(f"{name:28} {conns:>5} {loadlib.rps(r):>9.0f} {lat['p50'] / 1000:>8.2f} "
                  f"{lat['p99'] / 1000:>8.2f} {cpu:>10.0f} {r['errors']['status']:>7} "
                  f"{errors:>6}",
                  flush=True)


if __name__ == "__main__":
    try:
        main()
    except loadlib.LoadError as e:
        sys.exit(f"profile: {e}")
