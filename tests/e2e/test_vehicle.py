"""vehicle show, unlock, lock, vehicle honk/flash against the reference service: bad input
(exit 2, nothing sent), authorisation (3, 5, 8), the simulated vehicle (success, offline,
expiry), exactly-once delivery through a flaky network, waiting (progress, --wait, Ctrl-C,
lost network, a status the client does not know), confirmations on a terminal, --no-wait and
--dry-run. A small HTTP proxy (tests/pylib/faultproxy.py) stands in for a bad mobile network:
it can lose the answer to a request the service already handled, refuse requests, or rewrite
answers."""
import datetime
import json
import os
import re
import signal
import socket
import sqlite3
import sys
import time
import urllib.request
from pathlib import Path

import pexpect
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

CUSTOMER = ("13800138000", "246810")      # 王小明, active order ord_20261125_0004 on veh_001
OTHER = ("13912345678", "135790")         # 李娜, no active order
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"
PLATE, VEH = "京AD12345", "veh_001"
OFFLINE_PLATE = "京B67890"                # veh_002, offline
FREE_PLATE = "沪AD54321"                  # veh_003, online, nobody's active order
ORDER = "ord_20261125_0004"
SUPPORT = "400-000-1234"
NOW = "2026-11-25T19:41:00+08:00"


# ---- helpers -------------------------------------------------------------------------------

def closed_port_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


class Cli:
    """carhelp in its own XDG folders, logged in as someone against one service."""

    def __init__(self, tmp_path, api_url, name):
        self.env = chtest.isolated_env(tmp_path / name, api_url)

    def __call__(self, *args, input=None, timeout=60, **extra):
        env = dict(self.env)
        env.update({k: str(v) for k, v in extra.items()})
        if "--api-url" not in args:
            return chtest.run(env, *args, input=input, timeout=timeout)
        # A proxy in front of this service, or a dead port standing for it gone: the token
        # is read as issued there (a stored token only goes to the origin it was issued for).
        with chtest.token_bound_to(env, args[args.index("--api-url") + 1]):
            return chtest.run(env, *args, input=input, timeout=timeout)

    def login_customer(self, who=CUSTOMER):
        r = self("login", "--phone", who[0], input=who[1] + "\n")
        assert r.returncode == 0, r.stderr
        return self

    def login_staff(self):
        r = self("login", "--staff", STAFF, input=STAFF_PASSWORD + "\n")
        assert r.returncode == 0, r.stderr
        return self

    def spawn(self, *args, timeout=30):
        return pexpect.spawn(chtest.CARHELP, list(args), env=self.env, encoding="utf-8",
                             timeout=timeout, dimensions=(40, 200))


def private_server(tmp_path, *extra, delay_ms=200):
    db = tmp_path / "service.db"
    srv = chtest.Server("--faults", "--vehicle-delay-ms", str(delay_ms), *extra, db=db)
    srv.db = db
    return srv


def stop_clean(srv):
    """Stops the service and fails when it did not exit cleanly (a sanitizer build reports
    memory errors and leaks on stderr and in the exit status)."""
    rc = srv.stop()
    time.sleep(0.1)
    reports = [ln for ln in srv.log_lines if "Sanitizer" in ln or "runtime error" in ln]
    assert rc == 0 and not reports, (rc, reports[:5])


def db_rows(db, sql, *args):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def api(base, method, path, body=None, token=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json"} if data else {}
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    hdrs.update(headers or {})
    req = urllib.request.Request(base + path, data=data, method=method, headers=hdrs)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")


def token_for(base, who=None):
    if who is None:
        return api(base, "POST", "/v1/auth/token",
                   {"staff_id": STAFF, "password": STAFF_PASSWORD})[2]["token"]
    api(base, "POST", "/v1/auth/otp", {"phone": who[0]})
    return api(base, "POST", "/v1/auth/token", {"phone": who[0], "otp": who[1]})[2]["token"]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One service for the tests that do not depend on the vehicles' state."""
    srv = private_server(tmp_path_factory.mktemp("vehicle-shared"), delay_ms=300)
    yield srv
    stop_clean(srv)


@pytest.fixture
def customer(tmp_path, shared):
    return Cli(tmp_path, shared.url, "customer").login_customer()


@pytest.fixture
def staff(tmp_path, shared):
    return Cli(tmp_path, shared.url, "staff").login_staff()


@pytest.fixture
def fresh(tmp_path):
    """A private service (its own database file, 200 ms vehicle delay)."""
    srv = private_server(tmp_path)
    yield srv
    stop_clean(srv)


def command_rows(srv):
    return db_rows(srv.db, "SELECT id, type, status, requested_by FROM vehicle_commands")


# ---- bad input: exit 2 and nothing sent ------------------------------------------------------

BAD_TARGETS = ["京A1234", "京AI2345", "京1D12345", "京AD1234567", "ＡＤ京12345", "veh 001",
               "veh/001", "x" * 65, "veh_001;rm", ""]


@pytest.mark.parametrize("target", BAD_TARGETS)
@pytest.mark.parametrize("cmd", [["vehicle", "show"], ["unlock"], ["lock"],
                                 ["vehicle", "honk"], ["vehicle", "flash"]])
def test_malformed_plate_or_id_is_a_usage_error_and_sends_nothing(customer, cmd, target):
    # The service is unreachable: any request would end in exit 6, not 2.
    r = customer(*cmd, target, "--yes", "--api-url", closed_port_url())
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "PLATE|ID" in r.stderr
    assert "expected" in r.stderr


@pytest.mark.parametrize("option,value,field", [
    ("--order", "ord 1", "--order"),
    ("--order", "o" * 65, "--order"),
    ("--wait", "abc", "--wait"),
    ("--wait", "0", "--wait"),
    ("--wait", "-5", "--wait"),
    ("--wait", "99999", "--wait"),
    ("--confirm", "京A1", "--confirm"),
    ("--reason", "", "--reason"),
    ("--reason", "   ", "--reason"),
    ("--reason", "x" * 501, "--reason"),
    ("--reason", "two\nlines", "--reason"),
])
def test_malformed_option_is_a_usage_error_and_sends_nothing(customer, option, value, field):
    r = customer("unlock", PLATE, option, value, "--yes", "--api-url", closed_port_url())
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert field in r.stderr


def test_full_width_plate_is_normalised(customer):
    r = customer("vehicle", "show", "京ＡＤ１２３４５")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(PLATE)


def test_lowercase_plate_with_separator_is_normalised(customer):
    r = customer("--json", "vehicle", "show", "京ad-12345")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["id"] == VEH


def test_staff_without_reason_is_a_usage_error_before_any_request(staff):
    r = staff("unlock", OFFLINE_PLATE, "--confirm", OFFLINE_PLATE, "--api-url", closed_port_url())
    assert r.returncode == 2, r.stderr
    assert "--reason" in r.stderr and "staff" in r.stderr


@pytest.mark.parametrize("cmd", [["vehicle", "honk"], ["vehicle", "flash"], ["lock"]])
def test_staff_needs_a_reason_for_every_command(staff, cmd):
    r = staff(*cmd, FREE_PLATE, "--confirm", FREE_PLATE, "--api-url", closed_port_url())
    assert r.returncode == 2 and "--reason" in r.stderr, r.stderr


def test_wait_and_no_wait_together_are_a_usage_error(customer):
    r = customer("unlock", PLATE, "--yes", "--no-wait", "--wait", "5", "--api-url",
                 closed_port_url())
    assert r.returncode == 2 and "--no-wait" in r.stderr


def test_customer_off_a_terminal_without_yes_is_a_usage_error(customer):
    r = customer("unlock", PLATE, "--api-url", closed_port_url())
    assert r.returncode == 2, r.stderr
    assert "--yes" in r.stderr


def test_staff_yes_alone_is_not_enough(staff):
    r = staff("unlock", FREE_PLATE, "--reason", "locked out", "--yes", "--api-url",
              closed_port_url())
    assert r.returncode == 2, r.stderr
    assert "--confirm" in r.stderr and "--yes alone is not enough" in r.stderr


def test_staff_confirm_with_another_plate_is_refused(tmp_path, fresh):
    staff = Cli(tmp_path, fresh.url, "staff").login_staff()
    r = staff("unlock", FREE_PLATE, "--reason", "locked out", "--confirm", "沪AD54322")
    assert r.returncode == 2, r.stderr
    assert "--confirm" in r.stderr and "not this vehicle's plate" in r.stderr
    assert command_rows(fresh) == []


def test_not_logged_in_is_exit_4(tmp_path, shared):
    r = Cli(tmp_path, shared.url, "nobody")("unlock", PLATE, "--yes")
    assert r.returncode == 4


# ---- not found, not yours, no active order ---------------------------------------------------

def test_unknown_vehicle_is_exit_3(customer, staff):
    assert customer("vehicle", "show", "京A99999").returncode == 3
    r = staff("unlock", "veh_999", "--reason", "x", "--confirm", "京A99999")
    assert r.returncode == 3, r.stderr
    assert "no vehicle" in r.stderr


def test_another_customers_vehicle_is_exit_5(tmp_path, shared):
    other = Cli(tmp_path, shared.url, "other").login_customer(OTHER)
    r = other("unlock", PLATE, "--yes")
    assert r.returncode == 5, r.stderr
    assert "rented by another customer" in r.stderr
    assert other("vehicle", "show", PLATE).returncode == 5
    assert other("vehicle", "honk", PLATE).returncode == 5


def test_customer_without_active_order_is_refused_by_state(tmp_path, shared):
    other = Cli(tmp_path, shared.url, "other").login_customer(OTHER)
    r = other("vehicle", "show", FREE_PLATE)       # a free car: anyone may look at it
    assert r.returncode == 0, r.stderr
    assert "active order  none" in r.stdout
    r = other("unlock", FREE_PLATE, "--yes")
    assert r.returncode == 8, r.stderr
    assert "no active order" in r.stderr and "start one in the app" in r.stderr
    assert SUPPORT in r.stderr


def test_order_of_another_customer_is_exit_5(customer):
    r = customer("unlock", PLATE, "--yes", "--order", "ord_20261102_0002")
    assert r.returncode == 5, r.stderr


def test_finished_order_is_exit_8_with_advice(customer):
    r = customer("unlock", PLATE, "--yes", "--order", "ord_20261101_0001")
    assert r.returncode == 8, r.stderr
    assert "order_not_active" in r.stderr or "not active" in r.stderr
    assert SUPPORT in r.stderr


# ---- the simulated vehicle --------------------------------------------------------------------

def test_offline_vehicle_fails_with_exit_8_and_what_to_do(staff):
    r = staff("unlock", OFFLINE_PLATE, "--reason", "customer locked out",
              "--confirm", OFFLINE_PLATE)
    assert r.returncode == 8, r.stderr
    assert "offline" in r.stderr
    assert "open air" in r.stderr and SUPPORT in r.stderr
    assert "vehicle confirmed" not in r.stdout


def test_unlock_succeeds_only_once_the_vehicle_confirms(tmp_path, fresh):
    cli = Cli(tmp_path, fresh.url, "c").login_customer()
    r = cli("unlock", PLATE, "--yes")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"{PLATE} unlocked (vehicle confirmed)"
    # Off a terminal: plain progress lines on stderr, "sent" is not "done".
    assert "queued at the service" in r.stderr
    assert "confirmed by the vehicle" in r.stderr
    shown = json.loads(cli("--json", "vehicle", "show", PLATE).stdout)
    assert shown["lock_state"] == "unlocked"
    assert shown["last_command"]["type"] == "unlock"
    assert shown["last_command"]["status"] == "succeeded"
    assert shown["active_order_id"] == ORDER
    rows = command_rows(fresh)
    assert [(t, s, who) for _, t, s, who in rows] == [("unlock", "succeeded", "acc_1001")]


def test_lock_and_json_output(tmp_path, fresh):
    cli = Cli(tmp_path, fresh.url, "c").login_customer()
    r = cli("--json", "lock", "veh_001", "--yes")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["status"] == "succeeded" and doc["type"] == "lock"
    assert doc["order_id"] == ORDER and doc["vehicle_id"] == VEH


def test_honk_and_flash_need_no_confirmation(tmp_path, fresh):
    cli = Cli(tmp_path, fresh.url, "c").login_customer()
    r = cli("vehicle", "honk", PLATE)
    assert r.returncode == 0 and "honked (vehicle confirmed)" in r.stdout, r.stderr
    r = cli("vehicle", "flash", PLATE)
    assert r.returncode == 0 and "flashed its lights" in r.stdout, r.stderr


def test_vehicle_show_human_output(customer):
    r = customer("vehicle", "show", PLATE)
    assert r.returncode == 0, r.stderr
    for text in (PLATE, VEH, "BYD Dolphin", "battery 76 %", "39.9087, 116.3975", ORDER,
                 "last command"):
        assert text in r.stdout


def test_staff_sees_the_offline_vehicle(staff):
    r = staff("vehicle", "show", OFFLINE_PLATE)
    assert r.returncode == 0, r.stderr
    assert "offline since" in r.stdout and "fuel 12 %" in r.stdout


def test_staff_commands_are_audited_with_their_result(tmp_path, fresh):
    staff = Cli(tmp_path, fresh.url, "s").login_staff()
    r = staff("unlock", FREE_PLATE, "--reason", "customer locked out, ticket T1",
              "--confirm", FREE_PLATE)
    assert r.returncode == 0, r.stderr
    r = staff("unlock", OFFLINE_PLATE, "--reason", "no signal check", "--confirm", OFFLINE_PLATE)
    assert r.returncode == 8
    rows = db_rows(fresh.db, "SELECT actor, actor_role, action, target_id, reason, details, at"
                             " FROM audit_log WHERE target_type = 'vehicle' ORDER BY id")
    results = {}
    for actor, role, action, target, reason, details, at in rows:
        assert actor == STAFF and role == "staff" and at > 0
        d = json.loads(details)
        results.setdefault(target, []).append((action, d["result"], reason))
    assert results["veh_003"] == [("vehicle_command.unlock", "queued", "customer locked out, ticket T1"),
                                  ("vehicle_command.result", "succeeded",
                                   "customer locked out, ticket T1")]
    assert results["veh_002"] == [("vehicle_command.unlock", "queued", "no signal check"),
                                  ("vehicle_command.result", "failed", "no signal check")]


def test_customer_commands_are_not_in_the_staff_audit(tmp_path, fresh):
    cli = Cli(tmp_path, fresh.url, "c").login_customer()
    assert cli("vehicle", "honk", PLATE).returncode == 0
    assert db_rows(fresh.db, "SELECT count(*) FROM audit_log WHERE target_type = 'vehicle'") \
        == [(0,)]


def test_command_not_acknowledged_in_60_s_expires(tmp_path):
    """The service clock (--now) decides: a vehicle answering after 2 minutes is too late."""
    db = tmp_path / "service.db"
    srv = chtest.Server("--vehicle-delay-ms", "120000", "--now", NOW, db=db)
    try:
        token = token_for(srv.url, CUSTOMER)
        status, _, cmd = api(srv.url, "POST", "/v1/vehicles/veh_001/commands", {"type": "unlock"},
                             token)
        assert status == 202 and cmd["status"] == "queued"
        # 60 s after it was made; the clock started at NOW (19:41:00) but ticks while the
        # service starts and the customer logs in, so on a slow machine that is 19:41:01.
        created = datetime.datetime.fromisoformat(cmd["created_at"])
        expires = datetime.datetime.fromisoformat(cmd["expires_at"])
        assert expires - created == datetime.timedelta(seconds=60)
        assert cmd["created_at"].startswith("2026-11-25T19:41:0")
    finally:
        srv.stop()
    later = chtest.Server("--vehicle-delay-ms", "120000", "--now", "2026-11-25T19:45:00+08:00",
                          seed=None, db=db)
    try:
        status, _, doc = api(later.url, "GET", f"/v1/vehicles/veh_001/commands/{cmd['id']}",
                             token=token)
        assert status == 200, doc
        assert doc["status"] == "expired" and doc["failure_code"] == "timeout"
        assert doc["updated_at"] == cmd["expires_at"]
        _, _, v = api(later.url, "GET", "/v1/vehicles/veh_001", token=token)
        assert v["lock_state"] == "locked"          # an expired unlock opened nothing
    finally:
        later.stop()


def test_status_moves_queued_sent_succeeded_on_the_service_clock(tmp_path):
    srv = private_server(tmp_path, delay_ms=1500)
    try:
        token = token_for(srv.url, CUSTOMER)
        _, _, cmd = api(srv.url, "POST", "/v1/vehicles/veh_001/commands", {"type": "unlock"},
                        token)
        path = f"/v1/vehicles/veh_001/commands/{cmd['id']}"
        seen = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            st = api(srv.url, "GET", path, token=token)[2]["status"]
            if not seen or seen[-1] != st:
                seen.append(st)
            if st == "succeeded":
                break
            time.sleep(0.1)
        assert seen == ["queued", "sent", "succeeded"]
    finally:
        srv.stop()


def test_service_refuses_bad_command_bodies(shared):
    token = token_for(shared.url, CUSTOMER)
    for body in ({}, {"type": "explode"}, {"type": "unlock", "reason": 5},
                 {"type": "unlock", "order_id": ""}):
        status, _, doc = api(shared.url, "POST", "/v1/vehicles/veh_001/commands", body, token)
        assert status == 400 and doc["error"]["code"] == "invalid_request", (body, doc)
    staff_token = token_for(shared.url)
    status, _, doc = api(shared.url, "POST", "/v1/vehicles/veh_003/commands", {"type": "honk"},
                         staff_token)
    assert status == 400 and doc["error"]["code"] == "reason_required"


def test_customer_cannot_read_someone_elses_command(shared):
    staff_token = token_for(shared.url)
    _, _, cmd = api(shared.url, "POST", "/v1/vehicles/veh_001/commands",
                    {"type": "flash", "reason": "finding the car"}, staff_token)
    other = token_for(shared.url, OTHER)
    status, _, doc = api(shared.url, "GET", f"/v1/vehicles/veh_001/commands/{cmd['id']}",
                         token=other)
    assert status == 404
    status, _, doc = api(shared.url, "GET", f"/v1/vehicles/veh_001/commands/{cmd['id']}",
                         token=staff_token)
    assert status == 200 and doc["id"] == cmd["id"]


def test_plate_in_the_path_percent_encoded(shared):
    token = token_for(shared.url)
    status, _, doc = api(shared.url, "GET", "/v1/vehicles/%E4%BA%ACAD12345", token=token)
    assert status == 200 and doc["id"] == VEH


# ---- exactly once through a flaky network -----------------------------------------------------

def test_lost_answer_is_retried_with_the_same_key_and_runs_once(tmp_path, fresh):
    def lose_first_post(req):
        if req["method"] == "POST" and req["path"].endswith("/commands") and req["n"] == 0:
            return "lose_answer"
        return "forward"
    proxy = FaultProxy(fresh.port, lose_first_post)
    try:
        cli = Cli(tmp_path, fresh.url, "c").login_customer()
        r = cli("unlock", PLATE, "--yes", "--api-url", proxy.url)
        assert r.returncode == 0, r.stderr
        assert "vehicle confirmed" in r.stdout
        posts = proxy.posts()
        assert len(posts) == 2, "the first answer was lost, so the client retried once"
        keys = {p["headers"].get("Idempotency-Key") for p in posts}
        assert len(keys) == 1 and None not in keys
        assert len(command_rows(fresh)) == 1, "the service ran the unlock exactly once"
    finally:
        proxy.close()


def test_service_dropping_the_first_tries_still_runs_once(tmp_path, fresh):
    """The service's own --faults: X-Fault: drop on the first two POSTs (added by the proxy, the
    CLI never sends test headers); the third try gets through, with the same key."""
    def drop_first_two(req):
        if req["method"] == "POST" and req["n"] < 2:
            req["headers"]["X-Fault"] = "drop"
        return "forward"
    proxy = FaultProxy(fresh.port, drop_first_two)
    try:
        cli = Cli(tmp_path, fresh.url, "c").login_customer()
        r = cli("unlock", PLATE, "--yes", "--api-url", proxy.url)
        assert r.returncode == 0, r.stderr
        keys = {p["headers"]["Idempotency-Key"] for p in proxy.posts()}
        assert len(proxy.posts()) == 3 and len(keys) == 1
        assert len(command_rows(fresh)) == 1
    finally:
        proxy.close()


def test_two_invocations_are_two_commands_with_different_keys(tmp_path, fresh):
    proxy = FaultProxy(fresh.port, lambda req: "forward")
    try:
        cli = Cli(tmp_path, fresh.url, "c").login_customer()
        for _ in range(2):
            assert cli("vehicle", "flash", PLATE, "--api-url", proxy.url).returncode == 0
        keys = [p["headers"]["Idempotency-Key"] for p in proxy.posts()]
        assert len(keys) == 2 and keys[0] != keys[1]
        assert len(command_rows(fresh)) == 2
    finally:
        proxy.close()


def test_network_failure_on_send_is_exit_6_never_outboxed(tmp_path, fresh):
    def refuse_posts(req):
        return "refuse" if req["method"] == "POST" else "forward"
    proxy = FaultProxy(fresh.port, refuse_posts)
    try:
        cli = Cli(tmp_path, fresh.url, "c").login_customer()
        r = cli("unlock", PLATE, "--yes", "--api-url", proxy.url, "--timeout", "5")
        assert r.returncode == 6, r.stderr
        assert SUPPORT in r.stderr and "not saved for later" in r.stderr
        assert "vehicle show" in r.stderr
        keys = {p["headers"]["Idempotency-Key"] for p in proxy.posts()}
        assert len(proxy.posts()) == 3 and len(keys) == 1    # 1 try + 2 retries, one key
        state = Path(cli.env["CARHELP_STATE_DIR"])
        assert not any(p.is_file() for p in state.rglob("*")), "nothing queued in the outbox"
        assert command_rows(fresh) == []
    finally:
        proxy.close()


def test_service_error_on_send_is_exit_7_with_the_support_number(tmp_path, fresh):
    def with_fault(req):
        if req["method"] == "POST":
            req["headers"]["X-Fault"] = "status=503"     # the service's own fault injection
        return "forward"
    proxy = FaultProxy(fresh.port, with_fault)
    try:
        cli = Cli(tmp_path, fresh.url, "c").login_customer()
        r = cli("unlock", PLATE, "--yes", "--api-url", proxy.url, "--timeout", "10")
        assert r.returncode == 7, r.stderr
        assert SUPPORT in r.stderr
        keys = {p["headers"]["Idempotency-Key"] for p in proxy.posts()}
        assert len(proxy.posts()) == 3 and len(keys) == 1
        assert command_rows(fresh) == []
    finally:
        proxy.close()


# ---- waiting ----------------------------------------------------------------------------------

def test_no_wait_returns_after_the_202(tmp_path):
    srv = private_server(tmp_path, delay_ms=30000)
    try:
        cli = Cli(tmp_path, srv.url, "c").login_customer()
        t0 = time.monotonic()
        r = cli("unlock", PLATE, "--yes", "--no-wait")
        assert r.returncode == 0, r.stderr
        assert time.monotonic() - t0 < 5
        assert re.search(r"command cmd_[0-9a-f]+ queued; not confirmed", r.stdout), r.stdout
        assert "vehicle show" in r.stderr
        r = cli("--json", "unlock", PLATE, "--yes", "--no-wait")
        assert json.loads(r.stdout)["status"] == "queued"
    finally:
        srv.stop()


def test_wait_running_out_is_exit_7_and_says_how_to_check(tmp_path):
    srv = private_server(tmp_path, delay_ms=30000)
    try:
        cli = Cli(tmp_path, srv.url, "c").login_customer()
        t0 = time.monotonic()
        r = cli("unlock", PLATE, "--yes", "--wait", "1.5")
        assert r.returncode == 7, r.stderr
        assert time.monotonic() - t0 < 10
        assert "did not answer within 1.5 s" in r.stderr and "may still complete" in r.stderr
        assert f"carhelp vehicle show {PLATE}" in r.stderr
        shown = json.loads(cli("--json", "vehicle", "show", PLATE).stdout)
        assert shown["last_command"]["status"] in ("queued", "sent")
    finally:
        srv.stop()


def test_unknown_status_is_pending_until_the_clients_deadline(tmp_path, fresh):
    def unknown_status(req):
        if req["method"] == "GET" and "/commands/" in req["path"]:
            return lambda doc: dict(doc, status="waiting_for_gateway")
        return "forward"
    proxy = FaultProxy(fresh.port, unknown_status)
    try:
        cli = Cli(tmp_path, fresh.url, "c").login_customer()
        r = cli("unlock", PLATE, "--yes", "--wait", "2", "--api-url", proxy.url)
        assert r.returncode == 7, r.stderr
        assert "waiting_for_gateway" in r.stderr and "unknown to this client" in r.stderr
        assert len([q for q in proxy.seen if "/commands/" in q["path"]]) >= 3   # kept polling
    finally:
        proxy.close()


def test_network_lost_while_waiting_is_exit_6_and_the_command_may_still_run(tmp_path, fresh):
    def lose_polls(req):
        return "refuse" if req["method"] == "GET" and "/commands/" in req["path"] else "forward"
    proxy = FaultProxy(fresh.port, lose_polls)
    try:
        cli = Cli(tmp_path, fresh.url, "c").login_customer()
        r = cli("unlock", PLATE, "--yes", "--api-url", proxy.url, "--timeout", "3")
        assert r.returncode == 6, r.stderr
        assert "may still run" in r.stderr
        assert f"carhelp vehicle show {PLATE}" in r.stderr and SUPPORT in r.stderr
        time.sleep(0.5)
        shown = json.loads(cli("--json", "vehicle", "show", PLATE).stdout)
        assert shown["last_command"]["status"] == "succeeded"   # it did run
    finally:
        proxy.close()


def test_ctrl_c_while_waiting_stops_the_waiting_not_the_command(tmp_path):
    srv = private_server(tmp_path, delay_ms=4000)
    try:
        cli = Cli(tmp_path, srv.url, "c").login_customer()
        child = cli.spawn("unlock", PLATE, "--yes")
        child.expect("queued at the service")
        child.kill(signal.SIGINT)
        child.expect("stopped waiting")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 130
        time.sleep(4.5)
        shown = json.loads(cli("--json", "vehicle", "show", PLATE).stdout)
        assert shown["last_command"]["status"] == "succeeded"
        assert shown["lock_state"] == "unlocked"
    finally:
        srv.stop()


def test_ctrl_c_message_names_the_command_and_how_to_check(tmp_path):
    srv = private_server(tmp_path, delay_ms=30000)
    try:
        cli = Cli(tmp_path, srv.url, "c").login_customer()
        child = cli.spawn("unlock", PLATE, "--yes")
        child.expect("queued at the service")
        child.kill(signal.SIGINT)
        child.expect(r"the command cmd_[0-9a-f]+ was NOT cancelled and may still run")
        child.expect(f"carhelp vehicle show {PLATE}")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 130
    finally:
        srv.stop()


# ---- confirmations on a terminal --------------------------------------------------------------

def test_customer_confirmation_names_plate_order_and_place(tmp_path, fresh):
    cli = Cli(tmp_path, fresh.url, "c").login_customer()
    child = cli.spawn("unlock", PLATE)
    child.expect(f"unlock {PLATE}")
    child.expect(f"order {ORDER}")
    child.expect(r"39\.9087, 116\.3975")
    child.expect(r"Send it now\? \[y/N\]")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert command_rows(fresh) == []
    child = cli.spawn("unlock", PLATE)
    child.expect(r"\[y/N\]")
    child.sendline("y")
    child.expect(r"unlocked \(vehicle confirmed\)")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert len(command_rows(fresh)) == 1


def test_customer_no_input_on_a_terminal_without_yes_is_exit_2(tmp_path, fresh):
    cli = Cli(tmp_path, fresh.url, "c").login_customer()
    child = cli.spawn("--no-input", "unlock", PLATE)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert command_rows(fresh) == []


def test_staff_must_type_the_plate(tmp_path, fresh):
    staff = Cli(tmp_path, fresh.url, "s").login_staff()
    child = staff.spawn("unlock", FREE_PLATE, "--reason", "customer locked out", "--yes")
    child.expect("audit log")
    child.expect(r"Type the plate to confirm \(沪AD54321\): ")
    child.sendline("沪AD54320")
    child.expect("does not match")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert command_rows(fresh) == []

    child = staff.spawn("unlock", FREE_PLATE, "--reason", "customer locked out")
    child.expect(r"Type the plate to confirm")
    child.sendline("沪ａｄ５４３２１")                   # full-width, lower case: same plate
    child.expect(r"沪AD54321 unlocked \(vehicle confirmed\)")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert [(t, s, who) for _, t, s, who in command_rows(fresh)] == \
        [("unlock", "succeeded", STAFF)]


def test_spinner_on_a_terminal(tmp_path):
    srv = private_server(tmp_path, delay_ms=1500)
    try:
        cli = Cli(tmp_path, srv.url, "c").login_customer()
        child = cli.spawn("unlock", PLATE, "--yes")
        child.expect(r"\r\x1b\[K[|/\\-] unlock 京AD12345: ")
        child.expect(r"unlocked \(vehicle confirmed\)")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
    finally:
        srv.stop()


# ---- --dry-run ----------------------------------------------------------------------------------

def test_dry_run_shows_what_would_be_sent_and_sends_nothing(tmp_path, fresh):
    cli = Cli(tmp_path, fresh.url, "c").login_customer()
    r = cli("unlock", "京ＡＤ１２３４５", "--dry-run", "--order", ORDER, "--api-url",
            closed_port_url())
    assert r.returncode == 0, r.stderr
    assert "POST /v1/vehicles/%E4%BA%ACAD12345/commands" in r.stdout
    assert re.search(r"Idempotency-Key: [0-9a-f-]{36}", r.stdout)
    assert '"order_id":"ord_20261125_0004"' in r.stdout
    assert "Nothing was sent" in r.stdout
    r = cli("--json", "vehicle", "flash", PLATE, "--dry-run")
    doc = json.loads(r.stdout)
    assert doc["dry_run"] is True and doc["body"] == {"type": "flash"}
    assert command_rows(fresh) == []


def test_dry_run_still_validates(customer):
    r = customer("unlock", "京A1", "--dry-run")
    assert r.returncode == 2


def test_dry_run_for_staff_still_needs_the_reason(staff):
    r = staff("unlock", FREE_PLATE, "--dry-run", "--api-url", closed_port_url())
    assert r.returncode == 2 and "--reason" in r.stderr


# ---- vehicle show --batch ---------------------------------------------------------------------

def test_batch_show_prints_one_ndjson_line_per_input(staff, tmp_path):
    f = tmp_path / "plates.txt"
    f.write_text("京AD12345\nveh_003\n\n# a comment\n京A1\n{\"plate\":\"京ｂ６７８９０\"}\n"
                 "{\"x\":1}\nveh_999\n")
    r = staff("vehicle", "show", "--batch", str(f))
    assert r.returncode == 1, r.stderr            # some lines failed
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(d["line"], d["exit"]) for d in lines] == [(1, 0), (2, 0), (5, 2), (6, 0), (7, 2),
                                                       (8, 3)]
    assert lines[0]["result"]["id"] == VEH and lines[1]["result"]["plate"] == FREE_PLATE
    assert lines[2]["error"]["code"] == "invalid_plate"
    assert lines[3]["input"] == {"plate": "京ｂ６７８９０"} and lines[3]["result"]["id"] == "veh_002"
    assert lines[5]["error"]["http_status"] == 404


def test_batch_show_csv_from_stdin_all_good_is_exit_0(staff):
    r = staff("vehicle", "show", "--batch", "-", input="plate,note\n京AD12345,x\n沪AD54321,y\n")
    assert r.returncode == 0, r.stderr
    ids = [json.loads(x)["result"]["id"] for x in r.stdout.splitlines()]
    assert ids == ["veh_001", "veh_003"]


def test_batch_and_argument_together_or_neither_are_usage_errors(staff, tmp_path):
    assert staff("vehicle", "show").returncode == 2
    assert staff("vehicle", "show", PLATE, "--batch", "-", input="").returncode == 2
    r = staff("vehicle", "show", "--batch", str(tmp_path / "missing"))
    assert r.returncode == 2 and "--batch" in r.stderr


def test_batch_stops_with_exit_6_when_the_service_is_gone(staff):
    r = staff("vehicle", "show", "--batch", "-", "--api-url", closed_port_url(), "--timeout", "2",
              input="京AD12345\n沪AD54321\n")
    assert r.returncode == 6, r.stderr
    # Both lines were in flight at once (--parallel 8): each says so; nothing after them runs.
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert 1 <= len(lines) <= 2 and all(x["exit"] == 6 for x in lines)
