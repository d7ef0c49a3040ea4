#!/usr/bin/python3
"""tests/load/soak.py (`make soak`, docs/DECISIONS.md "Reliability and security"): the real carhelp-server on
loopback with a fresh SQLite database (WAL), tickets created by wrk from 64 connections.

Phase 1, steady load for --seconds (default 30): every request carries its own Idempotency-Key
and every tenth is a deliberate replay of an earlier key (tickets.lua). Then:
  - zero 5xx (and no other answer but 201), zero socket errors and timeouts in wrk;
  - every key acknowledged with 201 names one ticket, replays included (dedup);
  - requests wrk left in flight when it stopped are retried with their key, as a client that
    lost the answer would; after that the tickets in the database are exactly the keys
    acknowledged with 201: none lost, none twice, none unasked for;
  - SIGTERM stops the idle service with status 0 and the database closed (WAL folded back).
Phase 2, SIGTERM under load: the service is restarted on the same database, loaded again, and
sent SIGTERM midway. It must exit 0 within 15 s; restarted once more on the same database,
every ticket acknowledged before the stop is there (SQL and GET /v1/tickets/ID), and retrying
the unacknowledged keys again gives exactly one ticket per key.

Any violation: a message on stderr and exit status 1. The summary (requests, rate, p50/p99,
5xx, tickets in the database, acknowledged) goes to stdout.
Environment: CARHELP_SERVER_BIN (default build/carhelp-server)."""
import argparse
import glob
import json
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import urllib.request
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loadlib  # noqa: E402
from loadlib import LoadError  # noqa: E402

STOP_BUDGET_S = 15


def ticket_body(key):
    """Byte for byte the body tickets.lua sends (the replay check hashes the raw body)."""
    return ('{"category":"app","priority":"low","message":"soak %s"}' % key).encode()


def read_log(folder):
    """The keys wrk sent (new ones, not replays) and what each 201 acknowledged:
    (sent, acks) with acks a list of (key, ticket_id, replayed)."""
    sent, acks = [], []
    for path in sorted(glob.glob(os.path.join(folder, "sent-*.txt"))):
        with open(path) as f:
            sent += f.read().split()
    for path in sorted(glob.glob(os.path.join(folder, "ack-*.txt"))):
        with open(path) as f:
            for line in f:
                key, tid, replayed = line.split()
                acks.append((key, tid, replayed == "1"))
    return sent, acks


def acknowledged(acks):
    """key -> ticket ID; LoadError when a key was acknowledged with two different tickets."""
    by_key = {}
    for key, tid, _ in acks:
        if key == "?" or tid == "?":
            raise LoadError(f"a 201 without the ticket's ID or key: {key} {tid}")
        if by_key.setdefault(key, tid) != tid:
            raise LoadError(f"Idempotency-Key {key} was acknowledged with two tickets: "
                            f"{by_key[key]} and {tid} (a replay created a duplicate)")
    return by_key


def db_tickets(db, run):
    """key -> [ticket IDs] of this run's tickets, read straight from the database file."""
    con = sqlite3.connect(db, timeout=30)
    try:
        rows = con.execute("SELECT id, message FROM tickets WHERE message LIKE ?",
                           (f"soak {run}-%",)).fetchall()
    finally:
        con.close()
    found = {}
    for tid, message in rows:
        found.setdefault(message[len("soak "):], []).append(tid)
    return found


def retry(url, token, key):
    """Sends a key's request again; (ticket ID, replayed)."""
    req = urllib.request.Request(url + "/v1/tickets", data=ticket_body(key), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            doc = json.loads(resp.read())
            return doc["id"], resp.headers.get("Idempotent-Replayed") == "true"
    except urllib.error.HTTPError as e:
        raise LoadError(f"retrying key {key}: {e.code} {e.read()[:200]!r}")


def settle(url, token, keys, by_key, found):
    """Retries keys without an acknowledgement. A key whose ticket exists must come back as a
    replay of it; one without must be created now. Returns how many were retried."""
    missing = [k for k in dict.fromkeys(keys) if k not in by_key]
    for key in missing:
        tid, replayed = retry(url, token, key)
        if key in found and (not replayed or [tid] != found[key]):
            raise LoadError(f"retrying key {key} whose ticket {found[key]} exists gave "
                            f"{tid} (replayed: {replayed})")
        # Not found: created now, or a replay of a request that committed after the look
        # (check_exactly_once then finds exactly that ticket).
        by_key[key] = tid
    return len(missing)


def check_exactly_once(db, run, sent, by_key):
    """The database holds one ticket per acknowledged key, the acknowledged one, and no other."""
    found = db_tickets(db, run)
    twice = {k: v for k, v in found.items() if len(v) > 1}
    if twice:
        k, v = next(iter(twice.items()))
        raise LoadError(f"{len(twice)} keys have more than one ticket, e.g. {k}: {v}")
    lost = [k for k in by_key if k not in found]
    if lost:
        raise LoadError(f"{len(lost)} acknowledged tickets are not in the database, e.g. "
                        f"key {lost[0]} ticket {by_key[lost[0]]}")
    wrong = [k for k in by_key if found[k] != [by_key[k]]]
    if wrong:
        raise LoadError(f"key {wrong[0]} was acknowledged as {by_key[wrong[0]]} but the "
                        f"database has {found[wrong[0]]}")
    unasked = set(found) - set(sent)
    if unasked:
        raise LoadError(f"{len(unasked)} tickets for keys never sent, e.g. {sorted(unasked)[0]}")
    extra = set(found) - set(by_key)
    if extra:
        raise LoadError(f"{len(extra)} tickets in the database were never acknowledged, "
                        f"e.g. key {sorted(extra)[0]}")
    return len(found)


def check_wrk(result, phase):
    errors = {k: v for k, v in result["errors"].items() if k != "status" and v}
    if errors:
        raise LoadError(f"{phase}: wrk reported socket errors/timeouts {errors}\n"
                        f"{result['text']}")
    fivexx = sum(n for s, n in result["status"].items() if s >= 500)
    if fivexx:
        raise LoadError(f"{phase}: {fivexx} answers were 5xx: {result['status']}")
    other = {s: n for s, n in result["status"].items() if s != 201}
    if other:
        raise LoadError(f"{phase}: answers other than 201: {other}")
    return fivexx


def stop_cleanly(srv, db, phase):
    t0 = time.monotonic()
    rc = srv.stop(timeout=STOP_BUDGET_S)
    took = time.monotonic() - t0
    if rc != 0:
        raise LoadError(f"{phase}: carhelp-server exited with {rc} after SIGTERM\n"
                        f"{srv.log_tail()}")
    with open(srv.log_path, errors="replace") as f:
        logged = f.read()
    if "SIGTERM received, stopping" not in logged:
        raise LoadError(f"{phase}: carhelp-server did not log its SIGTERM stop\n{srv.log_tail()}")
    wal = db + "-wal"
    if os.path.exists(wal) and os.path.getsize(wal) > 0:
        raise LoadError(f"{phase}: {wal} is left after the stop: the database was not closed")
    return took


def wrk_env(token, run, out, args):
    return {"LOAD_TOKEN": token, "LOAD_RUN": run, "LOAD_OUT": out,
            "LOAD_REPLAY_EVERY": str(args.replay_every)}


def phase_steady(tmp, db, args):
    run = "s" + uuid.uuid4().hex[:8]
    out = os.path.join(tmp, "steady")
    os.mkdir(out)
    srv = loadlib.Server(db, os.path.join(tmp, "steady.log"))
    try:
        token = loadlib.login_customer(srv.url)
        result = loadlib.run_wrk(srv.url, "tickets.lua", args.seconds, args.connections,
                                 threads=args.threads, env=wrk_env(token, run, out, args))
        check_wrk(result, "steady load")
        sent, acks = read_log(out)
        if len(acks) != result["status"].get(201, 0):
            raise LoadError(f"wrk counted {result['status'].get(201, 0)} answers 201 but "
                            f"logged {len(acks)}: the test's own bookkeeping is broken")
        by_key = acknowledged(acks)
        acked_by_wrk = len(by_key)
        retried = settle(srv.url, token, sent, by_key, db_tickets(db, run))
    finally:
        if srv.proc.poll() is None:
            srv.stop()
    stop_s = stop_cleanly(srv, db, "steady load")
    tickets = check_exactly_once(db, run, sent, by_key)
    return {"result": result, "tickets": tickets, "acked": len(by_key), "acked_by_wrk": acked_by_wrk,
            "retried": retried, "replays": sum(1 for a in acks if a[2]), "stop_s": stop_s,
            "token": token}


def phase_sigterm(tmp, db, args):
    run = "t" + uuid.uuid4().hex[:8]
    out = os.path.join(tmp, "sigterm")
    os.mkdir(out)
    seconds = max(4, args.seconds // 3)
    srv = loadlib.Server(db, os.path.join(tmp, "sigterm.log"))
    token = loadlib.login_customer(srv.url)
    wrk = loadlib.start_wrk(srv.url, "tickets.lua", seconds, args.connections, args.threads,
                            wrk_env(token, run, out, args))
    time.sleep(seconds * 0.4)
    if wrk.poll() is not None:
        raise LoadError(f"wrk stopped early: {wrk.communicate()[0]}")
    stop_s = stop_cleanly(srv, db, "SIGTERM under load")
    wrk.send_signal(signal.SIGINT)  # wrk stops and reports; it would only meet a closed port
    result = loadlib.finish_wrk(wrk, seconds + 60)
    # 503 is the stopping service refusing what came after the signal; nothing else may fail.
    fivexx = sum(n for s, n in result["status"].items() if s >= 500 and s != 503)
    if fivexx:
        raise LoadError(f"SIGTERM under load: {fivexx} answers were 5xx: {result['status']}")
    sent, acks = read_log(out)
    by_key = acknowledged(acks)
    if not by_key:
        raise LoadError("SIGTERM under load: no ticket was acknowledged before the stop")
    acked_before = dict(by_key)
    srv = loadlib.Server(db, os.path.join(tmp, "restart.log"))  # the same database
    try:
        found = db_tickets(db, run)
        lost = [k for k in acked_before if found.get(k) != [acked_before[k]]]
        if lost:
            raise LoadError(f"after SIGTERM and restart, {len(lost)} acknowledged tickets are "
                            f"missing, e.g. key {lost[0]} ticket {acked_before[lost[0]]} "
                            f"(database has {found.get(lost[0])})")
        for key in list(acked_before)[:: max(1, len(acked_before) // 20)]:
            status, doc = loadlib.call(srv.url, "GET", f"/v1/tickets/{acked_before[key]}",
                                       token=token)
            if status != 200 or doc.get("message") != f"soak {key}":
                raise LoadError(f"after restart, GET /v1/tickets/{acked_before[key]} "
                                f"answered {status}")
        # Committed but unanswered (the drain ran out, or the answer was on its way): a retry
        # must replay the ticket. Plus a few keys wrk generated as the port closed: created
        # now. (wrk makes a request for each reconnection attempt, so most of those keys
        # never reached the service; retrying all of them would only take time.)
        unanswered = [k for k in found if k not in by_key]
        fresh = [k for k in dict.fromkeys(sent) if k not in found and k not in by_key][:20]
        retried = settle(srv.url, token, unanswered + fresh, by_key, found)
    finally:
        if srv.proc.poll() is None:
            srv.stop()
    stop_cleanly(srv, db, "restart")
    tickets = check_exactly_once(db, run, sent, by_key)
    return {"result": result, "acked_before": len(acked_before), "tickets": tickets,
            "refused": result["status"].get(503, 0),
            "retried": retried, "unanswered": len(unanswered), "stop_s": stop_s,
            "seconds": seconds}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=30, help="steady load time (default 30)")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--replay-every", type=int, default=10,
                    help="every Nth request replays an earlier key (0: none; default 10)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (printed)")
    args = ap.parse_args()
    loadlib.need_wrk()
    if not os.access(loadlib.SERVER, os.X_OK):
        raise LoadError(f"{loadlib.SERVER} is not built (run `make`)")
    tmp = tempfile.mkdtemp(prefix="carhelp-soak-")
    db = os.path.join(tmp, "svc.db")
    started = time.monotonic()
    try:
        s = phase_steady(tmp, db, args)
        t = phase_sigterm(tmp, db, args)
    except LoadError as e:
        print(f"soak: FAIL: {e}\nsoak: work folder kept: {tmp}", file=sys.stderr)
        return 1
    r = s["result"]
    lat = r["latency_us"]
    replays = f"every {args.replay_every}th a replay" if args.replay_every else "no replays"
    print(f"soak: {args.connections} connections, {args.seconds} s of POST /v1/tickets "
          f"(Idempotency-Key each, {replays}), carhelp-server on loopback, SQLite WAL")
    print(f"  requests {r['requests']}, {loadlib.rps(r):.0f}/s, latency p50 {lat['p50'] / 1000:.1f} ms"
          f" p99 {lat['p99'] / 1000:.1f} ms max {lat['max'] / 1000:.1f} ms; 5xx 0, socket errors 0")
    print(f"  tickets in db {s['tickets']} = acknowledged keys {s['acked']} "
          f"({s['acked_by_wrk']} by wrk, {s['retried']} in flight at the end retried); "
          f"replays {s['replays']}, all the same ticket")
    print(f"  SIGTERM under load after {t['seconds'] * 0.4:.1f} s: stopped in {t['stop_s']:.1f} s "
          f"(exit 0, db closed; {t['refused']} refused with 503); after restart all "
          f"{t['acked_before']} acknowledged tickets on disk; {t['unanswered']} committed but "
          f"unanswered, replayed on retry")
    print(f"soak: PASS in {time.monotonic() - started:.0f} s")
    if args.keep:
        print(f"soak: work folder: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LoadError as e:
        sys.exit(f"soak: FAIL: {e}")
