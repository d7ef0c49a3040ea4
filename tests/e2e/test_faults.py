"""The fault matrix: every command class against every fault the reference service
can inject (`--faults`, the X-Fault request header, added by tests/pylib/faultproxy.py on the
way through: carhelp never sends test headers).

Command classes: read (order show, account show), create (report, ticket comment), vehicle
command (unlock, vehicle honk), batch (vehicle show, account verify and order audit with
--batch), outbox flush, and the shell.
Fault modes: a delay beyond --timeout; 400, 401, 403, 404, 409, 422; 500, 502, 503; 429 and 503
with Retry-After within the budget (first try only: the command then succeeds) and beyond it;
a dropped connection; a truncated body; a garbage body; the wrong content type; a 9 MiB body;
slowloris (status line and headers trickled a byte at a time).

Each case asserts cli.md's exit code; one error line on stderr, naming the request ID whenever
the service got as far as sending one (checked against the service's own log); the number of
tries on the wire (counted by the proxy) and in the -v trace; the wall time within --timeout
plus a margin; and, for creates and vehicle commands, that the service ends with exactly one
record when it handled the request (zero when the fault stopped it first), also after retries,
after the outbox is flushed, and after a request the client gave up on is handled late."""
import json
import re
import sqlite3
import sys
import time
import uuid
from pathlib import Path

import pexpect
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

CUSTOMER = ("13800138000", "246810")    # 王小明: active order ord_20261125_0004 on veh_001
PLATE = "京AD12345"
ORDER = "ord_20261101_0001"
SLOW = getattr(chtest, "SLOW", 1)       # > 1 under valgrind: everything takes longer
TIMEOUT = 2 if SLOW == 1 else 4         # --timeout of a faulted command
SHORT_TIMEOUT = 1                       # for the faults that spend the whole budget waiting
# The budget is the client's; the margin covers process start and exit.
MARGIN = 4.0 * SLOW
# Under valgrind (`make check VALGRIND=1`) every carhelp starts many times slower: there the
# matrix runs a cross-section, every class and every mode but a quarter of the pairs.
VALGRIND = bool(getattr(chtest, "VALGRIND_DIR", ""))
CLASSES = ["order show", "account show", "report", "ticket comment", "unlock", "honk",
           "vehicle show", "account verify", "order audit", "outbox flush", "shell"]
SHELL_PROMPT = r"carhelp \(default: [^)]*\)(?: \[(\d+)\])?> "
RID = re.compile(r"\(request (req_[0-9a-f]+)\)")


# ---- fault modes --------------------------------------------------------------------------

class Mode:
    """One X-Fault mode and what a plain command (one request that matters) must do under it.
    tries: requests on the wire; handled: whether the service ran the handler (a create or
    vehicle command then exists exactly once); rid: whether the service sent a request ID."""

    def __init__(self, name, fault, exit, tries=1, rid=True, handled=False, first_only=False,
                 timeout=TIMEOUT, min_s=0.0):
        self.name, self.fault, self.exit, self.tries = name, fault, exit, tries
        self.rid, self.handled, self.first_only = rid, handled, first_only
        self.timeout, self.min_s = timeout, min_s

    def __repr__(self):
        return self.name


# A delay beyond the budget: the service still handles the request when the delay is over.
LATE_MS = int(SHORT_TIMEOUT * 1000 + 600)

MODES = [
    Mode("delay", f"delay={LATE_MS}", 6, rid=False, handled=True, timeout=SHORT_TIMEOUT),
    Mode("400", "status=400", 2),
    Mode("401", "status=401", 4),
    Mode("403", "status=403", 5),
    Mode("404", "status=404", 3),
    Mode("409", "status=409", 8),
    Mode("422", "status=422", 2),
    Mode("500", "status=500", 7, tries=3),
    Mode("502", "status=502", 7, tries=3),
    # The service sends every 503 with Retry-After; 0 keeps this case about the 5xx itself.
    Mode("503", "status=503,retry-after=0", 7, tries=3),
    Mode("429-within", "status=429,retry-after=1", 0, tries=2, handled=True, first_only=True,
         min_s=1.0),
    Mode("503-within", "status=503,retry-after=1", 0, tries=2, handled=True, first_only=True,
         min_s=1.0),
    Mode("429-beyond", "status=429,retry-after=30", 9),
    Mode("503-beyond", "status=503,retry-after=30", 9),
    Mode("drop", "drop", 6, tries=3, rid=False),
    Mode("truncate", "truncate", 7, tries=3, handled=True),
    Mode("garbage", "garbage", 7, handled=True),
    Mode("content-type", "content-type=text/html", 7, handled=True),
    Mode("big", "big", 7, handled=True),
    Mode("slowloris", "slowloris=50", 6, rid=False, handled=True, timeout=SHORT_TIMEOUT),
]


def sampled(cls, mode):
    """Skips the pairs outside the valgrind run's cross-section."""
    if VALGRIND and (CLASSES.index(cls) + MODES.index(mode)) % 4:
        pytest.skip("valgrind run: a cross-section of the fault matrix")


# ---- the service, the proxy and the client --------------------------------------------------

@pytest.fixture(scope="module")
def service(tmp_path_factory):
    db = tmp_path_factory.mktemp("faults") / "service.db"
    srv = chtest.Server("--faults", "--vehicle-delay-ms", "50", db=db)
    srv.db = db
    yield srv
    srv.stop()


def db_count(srv, sql, *args):
    con = sqlite3.connect(f"file:{srv.db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


class Injector:
    """The proxy's policy: while armed, requests matching `target` (method, path regex) are
    marked "armed" and get the mode's X-Fault (with first_only: only the first of identical
    requests, so the first try of each batch line); with `refuse` they are closed unanswered."""

    def __init__(self):
        self.mode, self.target, self.refuse, self.hits = None, None, False, {}

    def arm(self, mode, target):
        self.mode, self.target, self.hits = mode, target, {}

    def disarm(self):
        self.mode, self.refuse = None, False

    def __call__(self, req):
        if self.target is None:
            return "forward"
        method, pattern = self.target
        if req["method"] != method or not re.fullmatch(pattern, req["path"].split("?")[0]):
            return "forward"
        if self.refuse:
            return "refuse"
        if self.mode is None:
            return "forward"
        req["armed"] = True
        key = (req["path"], req["body"])
        n = self.hits[key] = self.hits.get(key, 0) + 1
        if not self.mode.first_only or n == 1:
            req["headers"]["X-Fault"] = self.mode.fault
        return "forward"


class Rig:
    """The module's proxy (with an Injector) in front of the module's service, and carhelp
    logged in as the demo customer through it. Each test gets its own state folder (the
    outbox) and a cleared request log."""

    def __init__(self, srv, tmp_path):
        self.srv = srv
        self.inject = Injector()
        self.proxy = FaultProxy(srv.port, policy=self.inject)
        self.env = chtest.isolated_env(tmp_path, self.proxy.url)
        self.tmp = tmp_path
        r = self.run("login", "--phone", CUSTOMER[0], input=CUSTOMER[1] + "\n")
        assert r.returncode == 0, r.stderr

    def fresh(self, tmp_path):
        self.inject.disarm()
        self.inject.target = None
        assert self.proxy.wait_idle(30)
        with self.proxy.lock:
            self.proxy.seen.clear()
        self.tmp = tmp_path
        for sub in ("state", "cache"):
            (tmp_path / sub).mkdir()
        self.env = dict(self.env, CARHELP_STATE_DIR=str(tmp_path / "state"),
                        CARHELP_CACHE_DIR=str(tmp_path / "cache"))
        return self

    def run(self, *args, input=None, **extra):
        env = dict(self.env)
        env.update({k: str(v) for k, v in extra.items()})
        return chtest.run(env, *args, input=input, timeout=120)

    def armed_requests(self):
        return [r for r in self.proxy.requests() if r.get("armed")]

    def outbox_items(self):
        return sorted((Path(self.env["CARHELP_STATE_DIR"]) / "outbox").glob("*.json"))

    def rejected_items(self):
        return sorted((Path(self.env["CARHELP_STATE_DIR"]) / "outbox" / "rejected").glob("*"))

    def logged_ids(self, method, pattern):
        """Request IDs the service logged for requests matching (method, path regex)."""
        ids = set()
        for line in self.srv.log_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == method and re.fullmatch(pattern, parts[1]):
                ids.add(parts[-1])
        return ids


@pytest.fixture(scope="module")
def module_rig(service, tmp_path_factory):
    r = Rig(service, tmp_path_factory.mktemp("faults-login"))
    yield r
    r.proxy.close()


@pytest.fixture
def rig(module_rig, tmp_path):
    return module_rig.fresh(tmp_path)


# ---- what every case asserts ----------------------------------------------------------------

INFO = re.compile(r"carhelp: (warning: |saved to the outbox |\d+ requests? waits? in the outbox|"
                  r"\d+ delivered, |.*: (queued at the service|confirmed by the vehicle|sent to "
                  r"the vehicle|sent to the vehicle, waiting for it to confirm)$)")


def error_lines(stderr):
    """The diagnostics of a failure: stderr without the -v trace, hints, progress and notes."""
    return [ln for ln in stderr.splitlines()
            if ln.startswith("carhelp: ") and not INFO.match(ln)]


def traced_tries(stderr, method, pattern):
    tries = 0
    for ln in stderr.splitlines():
        m = re.match(r"> (\S+) https?://[^/]+(\S*)", ln)
        if m and m.group(1) == method and re.fullmatch(pattern, m.group(2)):
            tries += 1
    return tries


def check_error_line(rig, mode, stderr, target, exit_code):
    lines = error_lines(stderr)
    if exit_code == 0:
        assert lines == [], stderr
        return
    assert len(lines) == 1, f"one error line expected:\n{stderr}"
    line = lines[0]
    assert re.match(r"carhelp: [^:]+: .+", line), line
    m = RID.search(line)
    if mode.rid:
        assert m, f"the error names no request ID: {line}"
        wait_until(lambda: m.group(1) in rig.logged_ids(*target), 5)
        assert m.group(1) in rig.logged_ids(*target), (m.group(1), line)
    else:
        assert not m, f"no answer came, yet a request ID is named: {line}"


def wait_until(pred, seconds):
    end = time.monotonic() + seconds * SLOW
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def timed(rig, mode, *args, budget_requests=1, **extra):
    t0 = time.monotonic()
    r = rig.run("-v", "--timeout", str(mode.timeout), *args, **extra)
    elapsed = time.monotonic() - t0
    assert elapsed < budget_requests * mode.timeout + MARGIN, \
        f"{elapsed:.1f} s: past the --timeout {mode.timeout} s budget\n{r.stderr}"
    assert elapsed >= mode.min_s, f"{elapsed:.2f} s: Retry-After was not honoured"
    return r


def create_exit(code):
    """A create that cannot be delivered (network, 5xx after the retries, a malformed answer)
    is saved to the outbox instead: exit 10."""
    return 10 if code in (6, 7) else code


# ---- read: order show, account show -----------------------------------------------------------

READS = {
    "order show": (["order", "show", ORDER], ("GET", r"/v1/orders/[^/]+")),
    "account show": (["account", "show"], ("GET", r"/v1/accounts/[^/]+")),
}


@pytest.mark.parametrize("mode", MODES, ids=repr)
@pytest.mark.parametrize("cmd", list(READS))
def test_read(rig, cmd, mode):
    sampled(cmd, mode)
    args, target = READS[cmd]
    rig.inject.arm(mode, target)
    r = timed(rig, mode, *args)
    assert r.returncode == mode.exit, (r.returncode, r.stderr)
    assert len(rig.armed_requests()) == mode.tries == traced_tries(r.stderr, *target)
    check_error_line(rig, mode, r.stderr, target, mode.exit)
    if mode.exit == 0:
        assert (ORDER if cmd == "order show" else "acc_1001") in r.stdout


# ---- create: report, ticket comment -----------------------------------------------------------

def tickets_with(srv, message):
    return db_count(srv, "SELECT count(*) FROM tickets WHERE message = ?", message)


def comments_with(srv, message):
    return db_count(srv, "SELECT count(*) FROM ticket_events WHERE kind = 'comment' AND body = ?",
                    message)


def a_ticket(rig):
    r = rig.run("--json", "report", "other", "--message", f"base {uuid.uuid4()}")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["id"]


def settle_and_flush(rig, count, mode, code):
    """After the faulted create: the service holds the record once if it handled the request
    (a late one included); a saved create, flushed, is delivered exactly once."""
    assert rig.proxy.wait_idle(LATE_MS / 1000 + 10), "a request is still in flight"
    assert count() == (1 if mode.handled else 0)
    if code == 10:
        assert len(rig.outbox_items()) == 1
        rig.inject.disarm()
        r = rig.run("outbox", "flush")
        assert r.returncode == 0, r.stderr
        assert rig.outbox_items() == []
        assert count() == 1
    else:
        assert rig.outbox_items() == []


@pytest.mark.parametrize("mode", MODES, ids=repr)
@pytest.mark.parametrize("cmd", ["report", "ticket comment"])
def test_create(rig, cmd, mode):
    sampled(cmd, mode)
    message = f"fault {mode.name} {uuid.uuid4()}"
    if cmd == "report":
        args = ["report", "vehicle", "--message", message]
        target = ("POST", r"/v1/tickets")
        count = lambda: tickets_with(rig.srv, message)     # noqa: E731
    else:
        ticket = a_ticket(rig)
        args = ["ticket", "comment", ticket, "--message", message]
        target = ("POST", rf"/v1/tickets/{ticket}/comments")
        count = lambda: comments_with(rig.srv, message)    # noqa: E731
    rig.inject.arm(mode, target)
    r = timed(rig, mode, *args)
    code = create_exit(mode.exit)
    assert r.returncode == code, (r.returncode, r.stderr)
    posts = rig.armed_requests()
    assert len(posts) == mode.tries == traced_tries(r.stderr, *target)
    assert len({p["headers"].get("Idempotency-Key") for p in posts}) == 1, "one key for all tries"
    check_error_line(rig, mode, r.stderr, target, code)
    settle_and_flush(rig, count, mode, code)


# ---- vehicle commands: unlock, honk -----------------------------------------------------------

VEHICLE = {
    "unlock": ["unlock", PLATE, "--yes"],
    "honk": ["vehicle", "honk", PLATE],
}
COMMANDS = ("POST", r"/v1/vehicles/[^/]+/commands")


@pytest.mark.parametrize("mode", MODES, ids=repr)
@pytest.mark.parametrize("cmd", list(VEHICLE))
def test_vehicle_command(rig, cmd, mode):
    sampled(cmd, mode)
    kind = VEHICLE[cmd][0] if cmd == "unlock" else "honk"
    before = db_count(rig.srv, "SELECT count(*) FROM vehicle_commands WHERE type = ?", kind)
    rig.inject.arm(mode, COMMANDS)
    r = timed(rig, mode, *VEHICLE[cmd])
    assert r.returncode == mode.exit, (r.returncode, r.stderr)
    posts = rig.armed_requests()
    assert len(posts) == mode.tries == traced_tries(r.stderr, *COMMANDS)
    assert len({p["headers"].get("Idempotency-Key") for p in posts}) == 1
    check_error_line(rig, mode, r.stderr, COMMANDS, mode.exit)
    if mode.exit:
        # Never queued for later (a late unlock is dangerous), and the user is told to check.
        assert rig.outbox_items() == []
        assert mode.exit in (2, 3, 4, 5, 8, 9) or f"vehicle show {PLATE}" in r.stderr
    assert rig.proxy.wait_idle(LATE_MS / 1000 + 10)
    after = db_count(rig.srv, "SELECT count(*) FROM vehicle_commands WHERE type = ?", kind)
    assert after - before == (1 if mode.handled else 0), "the command ran once, or never"


# ---- batch: vehicle show, account verify, order audit (--batch) -----------------------------

BATCHES = {
    # command: (args, target, lines, retried): the target is the request each line's fault hits
    "vehicle show": (["vehicle", "show"], ("GET", r"/v1/vehicles/[^/]+"), [PLATE, "veh_003"],
                     True),
    # A verification is a POST without an Idempotency-Key (each one counts as an attempt), so
    # it is never retried: one try per line whatever the answer.
    "account verify": (["account", "verify"], ("POST", r"/v1/accounts/verify"),
                       ['{"phone":"13800138000","member":"M100001"}',
                        '{"phone":"13800138000","id_last4":"002X"}'], False),
    "order audit": (["order", "audit"], ("GET", r"/v1/orders/[^/]+/fees"), [ORDER], True),
}
# What one try gets when there is no second: the answer itself.
# A 503 is a service error (7) whatever its Retry-After when the request is never retried.
SINGLE_TRY = {"500": 7, "502": 7, "503": 7, "truncate": 7, "drop": 6, "429-within": 9,
              "503-within": 7, "503-beyond": 7}
WHOLE_BATCH = (4, 6, 9)      # no other line can escape these: the batch stops, with that code


@pytest.mark.parametrize("mode", MODES, ids=repr)
@pytest.mark.parametrize("cmd", list(BATCHES))
def test_batch(rig, cmd, mode):
    sampled(cmd, mode)
    args, target, lines, retried = BATCHES[cmd]
    line_exit, tries = mode.exit, mode.tries
    if not retried:
        line_exit, tries = SINGLE_TRY.get(mode.name, mode.exit), 1
    batch = rig.tmp / "batch.txt"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rig.inject.arm(mode, target)
    r = timed(rig, Mode(mode.name, mode.fault, line_exit, tries, timeout=mode.timeout,
                        min_s=mode.min_s if retried else 0),
              *args, "--batch", str(batch), budget_requests=len(lines))
    out = [json.loads(ln) for ln in r.stdout.splitlines()]
    whole = line_exit in WHOLE_BATCH
    # Lines already in flight (--parallel 8: all of these) finish and say so.
    assert (1 <= len(out) <= len(lines)) if whole else len(out) == len(lines), r.stdout
    for doc in out:
        assert doc["exit"] == line_exit, doc
        if line_exit:
            rid = doc["error"]["request_id"]
            assert (rid is not None) == mode.rid, doc
            assert rid is None or wait_until(lambda: rid in rig.logged_ids(*target), 5)
        else:
            assert "result" in doc
    assert r.returncode == (line_exit if whole else (1 if line_exit else 0)), r.stderr
    assert len(rig.armed_requests()) == tries * len(out) == traced_tries(r.stderr, *target)
    if whole:
        check_error_line(rig, mode, r.stderr, target, line_exit)
    else:
        assert error_lines(r.stderr) == [], "per-line failures are in the NDJSON, not on stderr"


# ---- outbox flush -------------------------------------------------------------------------------

def flush_exit(code):
    """What `outbox flush` says for one item: still waiting (10) for what the outbox takes,
    otherwise the failure's own code (a 4xx other than 401/429 also moves it aside)."""
    return 10 if code in (6, 7) else code


@pytest.mark.parametrize("mode", MODES, ids=repr)
def test_outbox_flush(rig, mode):
    sampled("outbox flush", mode)
    message = f"flush {mode.name} {uuid.uuid4()}"
    target = ("POST", r"/v1/tickets")
    # Saved while the network refused it.
    rig.inject.arm(None, target)
    rig.inject.refuse = True
    r = rig.run("report", "other", "--message", message, CARHELP_RETRIES=0)
    assert r.returncode == 10, r.stderr
    rig.inject.disarm()
    rig.inject.arm(mode, target)
    for req in rig.proxy.requests():
        req.pop("armed", None)
    r = timed(rig, mode, "outbox", "flush")
    code = flush_exit(mode.exit)
    assert r.returncode == code, (r.returncode, r.stderr)
    posts = rig.armed_requests()
    assert len(posts) == mode.tries == traced_tries(r.stderr, *target)
    assert len({p["headers"].get("Idempotency-Key") for p in posts}) == 1
    check_error_line(rig, mode, r.stderr, target, code)
    assert rig.proxy.wait_idle(LATE_MS / 1000 + 10)
    count = lambda: tickets_with(rig.srv, message)    # noqa: E731
    assert count() == (1 if mode.handled else 0)
    if code == 0:
        assert rig.outbox_items() == []
        return
    refused = code in (2, 3, 5, 8)
    assert len(rig.rejected_items()) == (1 if refused else 0)
    assert len(rig.outbox_items()) == (0 if refused else 1)
    rig.inject.disarm()
    r = rig.run("outbox", "flush")
    assert r.returncode == 0, r.stderr
    assert count() == (0 if refused else 1), "delivered exactly once"


# ---- the shell ----------------------------------------------------------------------------------

class Shell:
    """One `carhelp shell` for every mode in turn, as someone on a bad network would keep
    one open: each fault must leave it at its prompt, still working. Started again only
    when a failed test left it in an unknown state."""

    def __init__(self, env):
        self.env, self.child, self.clean = env, None, False

    def get(self):
        if self.child is None or not self.clean or not self.child.isalive():
            self.close()
            self.child = pexpect.spawn(chtest.CARHELP, ["shell"],
                                       env=dict(self.env, TERM="dumb"), encoding="utf-8",
                                       timeout=30 * SLOW,
                                       dimensions=(40, 200))
            self.child.expect(SHELL_PROMPT)
        self.clean = False
        return self.child

    def close(self):
        if self.child is not None:
            self.child.close(force=True)
            self.child = None


@pytest.fixture(scope="module")
def shell(module_rig):
    sh = Shell(module_rig.env)
    yield sh
    if sh.child is not None and sh.clean:
        chtest.wait_for_line_editor(sh.child)
        sh.child.sendeof()
        sh.child.expect(pexpect.EOF)
    sh.close()


@pytest.mark.parametrize("mode", MODES, ids=repr)
def test_shell_read(rig, shell, mode):
    sampled("shell", mode)
    target = READS["order show"][1]
    child = shell.get()
    rig.inject.arm(mode, target)
    t0 = time.monotonic()
    child.sendline(f"order show {ORDER} -v --timeout {mode.timeout}")
    child.expect(SHELL_PROMPT)
    elapsed = time.monotonic() - t0
    out = child.before.replace("\r\n", "\n")
    assert elapsed < mode.timeout + MARGIN, f"{elapsed:.1f} s\n{out}"
    assert elapsed >= mode.min_s
    assert int(child.match.group(1) or 0) == mode.exit, out
    assert len(rig.armed_requests()) == mode.tries == traced_tries(out, *target)
    check_error_line(rig, mode, out, target, mode.exit)
    # Still at its prompt and working.
    rig.inject.disarm()
    child.sendline("order show " + ORDER)
    child.expect(SHELL_PROMPT)
    assert "completed" in child.before and not child.match.group(1)
    shell.clean = True


# ---- the JSON error object --------------------------------------------------------------------

@pytest.mark.parametrize("fault,tries", [("status=500", 3), ("truncate", 3), ("garbage", 1)])
@pytest.mark.parametrize("cmd", ["order show", "unlock"])
def test_json_error_names_the_request_and_the_retries(rig, cmd, fault, tries):
    args, target = (READS[cmd] if cmd in READS else (VEHICLE[cmd], COMMANDS))
    rig.inject.arm(Mode(fault, fault, 7, tries), target)
    r = rig.run("--json", "--timeout", str(TIMEOUT), *args)
    assert r.returncode == 7, r.stderr
    docs = [json.loads(ln) for ln in r.stderr.splitlines() if ln.startswith("{")]
    assert len(docs) == 1, r.stderr
    err = docs[0]["error"]
    assert err["exit_code"] == 7 and err["retries"] == tries - 1
    assert err["request_id"] in rig.logged_ids(*target)
    assert len(rig.armed_requests()) == tries


def test_json_report_saved_to_the_outbox_names_the_request(rig):
    rig.inject.arm(Mode("500", "status=500", 7, 3), ("POST", r"/v1/tickets"))
    r = rig.run("--json", "--timeout", str(TIMEOUT), "report", "other", "--message", "json 500")
    assert r.returncode == 10, r.stderr
    doc = json.loads(r.stdout)["outbox"]
    assert doc["error"] == "internal"
    assert doc["request_id"] in rig.logged_ids("POST", r"/v1/tickets")
    assert RID.search(error_lines(r.stderr)[0])


# ---- slowloris: the client's total timeout holds ----------------------------------------------

def test_slowloris_trickles_the_status_line_and_headers_byte_by_byte(service):
    """The fault itself: nothing but single bytes, the status line first, MS apart."""
    import socket
    s = socket.create_connection(("127.0.0.1", service.port), timeout=10)
    try:
        s.sendall(b"GET /v1/meta HTTP/1.1\r\nHost: x\r\nX-Fault: slowloris=30\r\n\r\n")
        t0 = time.monotonic()
        first = data = s.recv(100)
        while len(data) < 12:
            data += s.recv(100)
        elapsed = time.monotonic() - t0
        assert data.startswith(b"HTTP/1.1 200"), data
        assert len(first) < 12, "the status line came at once"
        assert elapsed >= 11 * 0.03, f"12 bytes in {elapsed:.3f} s: not one every 30 ms"
    finally:
        s.close()


def test_slowloris_never_holds_a_command_past_its_timeout_even_with_retries(rig):
    """Every try trickled: the budget covers the tries together, not each one."""
    mode = Mode("slowloris", "slowloris=20", 6, rid=False, timeout=SHORT_TIMEOUT)
    rig.inject.arm(mode, READS["order show"][1])
    r = timed(rig, mode, "order", "show", ORDER, CARHELP_RETRIES=5)
    assert r.returncode == 6 and "timed out" in r.stderr, r.stderr
