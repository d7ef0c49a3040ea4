"""End-to-end tests of carhelp-server: the real binary on 127.0.0.1, driven over HTTP."""
import hashlib
import http.client
import json
import os
import re
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from chtest import SERVER, Server  # noqa: E402

REQUEST_ID = re.compile(r"^req_[0-9a-f]{16}$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
STAFF = {"staff_id": "field01", "password": "field01-demo-pass"}
# Wednesday 2026-11-25: 19:41 is in the weekday evening peak, 14:00 is not, 23:00 is closed.
PEAK = "2026-11-25T19:41:00+08:00"
OFF_PEAK = "2026-11-25T14:00:00+08:00"
CLOSED = "2026-11-25T23:00:00+08:00"


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    @property
    def error_code(self):
        return self.json()["error"]["code"]


def call(srv, method, path, body=None, token=None, headers=None, raw=None, timeout=10,
         context=None):
    """One request with urllib; HTTP errors come back as a Reply, not an exception."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(srv.url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return Reply(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, e.headers, e.read())


def login_customer(srv, phone="13800138000", code="246810"):
    assert call(srv, "POST", "/v1/auth/otp", {"phone": phone}).status == 202
    r = call(srv, "POST", "/v1/auth/token", {"phone": phone, "otp": code})
    assert r.status == 200, r.body
    return r.json()["token"]


def login_staff(srv):
    r = call(srv, "POST", "/v1/auth/token", STAFF)
    assert r.status == 200, r.body
    return r.json()["token"]


def assert_error(reply, status, code):
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"].startswith("application/json")
    err = reply.json()["error"]
    assert err["code"] == code
    assert err["message"]
    assert err["request_id"] == reply.headers["X-Request-Id"]


@pytest.fixture
def srv():
    with Server() as s:
        yield s


@pytest.fixture
def fsrv():
    with Server("--faults") as s:
        yield s


# ---- startup, options, meta ----

def test_startup_line_names_the_chosen_port(srv):
    assert re.match(r"^http://127\.0\.0\.1:\d+$", srv.url)
    assert srv.port != 0
    with socket.create_connection(("127.0.0.1", srv.port), timeout=2):
        pass


def test_meta_has_the_agreed_shape(srv):
    r = call(srv, "GET", "/v1/meta")
    assert r.status == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    meta = r.json()
    assert set(meta) == {"api_version", "service", "server_time", "time_zone",
                         "min_client_version", "idempotency_key_ttl_s"}
    assert meta["api_version"] == "1.0"
    assert meta["service"] == "carhelp-server 0.1.0"
    assert meta["time_zone"] == "Asia/Shanghai"
    assert meta["min_client_version"] == "0.1.0"
    assert meta["idempotency_key_ttl_s"] == 2592000
    assert RFC3339.match(meta["server_time"])


def test_now_option_sets_the_service_clock():
    with Server("--now", PEAK) as s:
        t = call(s, "GET", "/v1/meta").json()["server_time"]
    assert t in ("2026-11-25T19:41:00+08:00", "2026-11-25T19:41:01+08:00")


def test_help_and_version_exit_zero():
    out = subprocess.run([SERVER, "--help"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and "--listen" in out.stdout and "--faults" in out.stdout
    out = subprocess.run([SERVER, "--version"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and out.stdout.strip() == "carhelp-server 0.1.0"


@pytest.mark.parametrize("args", [
    ["--bogus"],
    ["--listen"],
    ["--listen", "localhost"],
    ["--listen", "127.0.0.1:99999"],
    ["--seed", "nope"],
    ["--now", "yesterday"],
    ["--vehicle-delay-ms", "-5"],
    ["--tls-cert", "/nonexistent.pem"],
    ["stray-argument"],
])
def test_bad_options_exit_2_with_one_message(args):
    out = subprocess.run([SERVER, *args], capture_output=True, text=True, timeout=10)
    assert out.returncode == 2, out
    assert out.stdout == ""
    assert out.stderr.startswith("carhelp-server: ")


def test_every_response_carries_a_request_id(srv):
    replies = [
        call(srv, "GET", "/v1/meta"),
        call(srv, "GET", "/v1/support/status"),
        call(srv, "GET", "/v1/nowhere"),
        call(srv, "GET", "/v1/auth/whoami"),
        call(srv, "POST", "/v1/auth/otp", raw=b"{oops"),
        call(srv, "DELETE", "/v1/meta"),
        call(srv, "DELETE", "/v1/auth/token", token=login_customer(srv)),
    ]
    ids = [r.headers["X-Request-Id"] for r in replies]
    assert all(REQUEST_ID.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids)


# ---- auth ----

def test_customer_logs_in_with_the_demo_code(srv):
    assert call(srv, "POST", "/v1/auth/otp", {"phone": "13800138000"}).json() == {
        "sent": True, "expires_in_s": 300}
    r = call(srv, "POST", "/v1/auth/token", {"phone": "13800138000", "otp": "246810"})
    assert r.status == 200
    tok = r.json()
    assert re.match(r"^[0-9a-f]{64}$", tok["token"])
    assert tok["token_type"] == "Bearer"
    assert tok["role"] == "customer" and tok["subject"] == "acc_1001"
    assert RFC3339.match(tok["expires_at"])


def test_customer_token_lasts_seven_days_and_staff_twelve_hours():
    with Server("--now", PEAK) as s:
        call(s, "POST", "/v1/auth/otp", {"phone": "13912345678"})
        cust = call(s, "POST", "/v1/auth/token", {"phone": "13912345678", "otp": "135790"}).json()
        staff = call(s, "POST", "/v1/auth/token", STAFF).json()
    assert cust["expires_at"][:16] == "2026-12-02T19:41"
    assert staff["expires_at"][:16] == "2026-11-26T07:41"


def test_wrong_code_is_invalid_credentials(srv):
    call(srv, "POST", "/v1/auth/otp", {"phone": "13800138000"})
    r = call(srv, "POST", "/v1/auth/token", {"phone": "13800138000", "otp": "000000"})
    assert_error(r, 401, "invalid_credentials")


def test_code_is_refused_when_none_was_requested(srv):
    r = call(srv, "POST", "/v1/auth/token", {"phone": "13800138000", "otp": "246810"})
    assert_error(r, 401, "invalid_credentials")


def test_code_works_once(srv):
    login_customer(srv)
    r = call(srv, "POST", "/v1/auth/token", {"phone": "13800138000", "otp": "246810"})
    assert_error(r, 401, "invalid_credentials")


def test_code_is_burned_after_five_wrong_guesses(srv):
    call(srv, "POST", "/v1/auth/otp", {"phone": "13800138000"})
    for _ in range(5):
        call(srv, "POST", "/v1/auth/token", {"phone": "13800138000", "otp": "999999"})
    r = call(srv, "POST", "/v1/auth/token", {"phone": "13800138000", "otp": "246810"})
    assert_error(r, 401, "invalid_credentials")


def test_unknown_phone_gets_the_same_answer_as_a_known_one(srv):
    known = call(srv, "POST", "/v1/auth/otp", {"phone": "13800138000"})
    unknown = call(srv, "POST", "/v1/auth/otp", {"phone": "13600000000"})
    assert (unknown.status, unknown.body) == (known.status, known.body) == (
        202, b'{"sent":true,"expires_in_s":300}')
    r = call(srv, "POST", "/v1/auth/token", {"phone": "13600000000", "otp": "246810"})
    assert_error(r, 401, "invalid_credentials")


@pytest.mark.parametrize("phone", ["12345", "23800138000", "1380013800x", "+8613800138000", 42])
def test_malformed_phone_is_invalid_phone(srv, phone):
    assert_error(call(srv, "POST", "/v1/auth/otp", {"phone": phone}), 400, "invalid_phone")


def test_frozen_customer_may_still_log_in(srv):
    token = login_customer(srv, "13700001111", "112233")
    acc = call(srv, "GET", "/v1/accounts/acc_1003", token=token).json()
    assert acc["status"] == "frozen" and acc["licence_status"] == "expired"


def test_staff_logs_in_with_password(srv):
    r = call(srv, "POST", "/v1/auth/token", STAFF)
    assert r.status == 200
    assert r.json()["role"] == "staff" and r.json()["subject"] == "field01"


@pytest.mark.parametrize("body", [
    {"staff_id": "field01", "password": "wrong"},
    {"staff_id": "nobody", "password": "field01-demo-pass"},
    {"staff_id": "field01", "password": ""},
])
def test_bad_staff_credentials_are_401(srv, body):
    assert_error(call(srv, "POST", "/v1/auth/token", body), 401, "invalid_credentials")


@pytest.mark.parametrize("body", [{}, {"phone": "13800138000"}, {"staff_id": "field01"},
                                  {"otp": "246810"}])
def test_token_request_without_a_complete_form_is_400(srv, body):
    assert_error(call(srv, "POST", "/v1/auth/token", body), 400, "invalid_request")


def test_whoami_customer(srv):
    r = call(srv, "GET", "/v1/auth/whoami", token=login_customer(srv))
    assert r.status == 200
    me = r.json()
    assert {k: me[k] for k in ("subject", "role", "name", "account_id")} == {
        "subject": "acc_1001", "role": "customer", "name": "王小明", "account_id": "acc_1001"}
    assert RFC3339.match(me["expires_at"])


def test_whoami_staff(srv):
    me = call(srv, "GET", "/v1/auth/whoami", token=login_staff(srv)).json()
    assert me["subject"] == "field01" and me["role"] == "staff"
    assert me["name"] == "field01" and me["account_id"] is None


def test_revoked_token_is_401_token_revoked(srv):
    token = login_customer(srv)
    r = call(srv, "DELETE", "/v1/auth/token", token=token)
    assert r.status == 204 and r.body == b""
    assert_error(call(srv, "GET", "/v1/auth/whoami", token=token), 401, "token_revoked")
    assert_error(call(srv, "DELETE", "/v1/auth/token", token=token), 401, "token_revoked")


def test_revoking_one_token_leaves_others_alone(srv):
    first, second = login_customer(srv), login_customer(srv)
    call(srv, "DELETE", "/v1/auth/token", token=first)
    assert call(srv, "GET", "/v1/auth/whoami", token=second).status == 200


def test_missing_token_is_unauthenticated(srv):
    assert_error(call(srv, "GET", "/v1/auth/whoami"), 401, "unauthenticated")
    assert_error(call(srv, "DELETE", "/v1/auth/token"), 401, "unauthenticated")


@pytest.mark.parametrize("header", ["Bearer " + "0" * 64, "Bearer short", "Basic Zm9vOmJhcg==",
                                    "Bearer " + "A" * 64])
def test_unknown_or_malformed_token_is_token_invalid(srv, header):
    r = call(srv, "GET", "/v1/auth/whoami", headers={"Authorization": header})
    assert_error(r, 401, "token_invalid")


def test_expired_token_is_401_token_expired(tmp_path):
    db = tmp_path / "svc.db"
    with Server("--now", PEAK, db=db) as s:
        token = login_staff(s)
    with Server("--now", "2026-11-26T08:00:00+08:00", db=db) as s:
        assert_error(call(s, "GET", "/v1/auth/whoami", token=token), 401, "token_expired")


# ---- accounts ----

def test_customer_sees_own_account_masked(srv):
    r = call(srv, "GET", "/v1/accounts/acc_1001", token=login_customer(srv))
    assert r.status == 200
    acc = r.json()
    assert acc == {
        "id": "acc_1001", "name": "王小明", "member_id": "M100001",
        "phone_masked": "138****8000", "id_number_masked": "1101**********002X",
        "status": "active", "balance_fen": 5800, "deposit_fen": 0,
        "licence_status": "verified", "member_level": "gold", "created_at": acc["created_at"]}
    assert RFC3339.match(acc["created_at"])
    assert b"13800138000" not in r.body and b"11010519491231002X" not in r.body


def test_customer_gets_403_for_other_accounts_without_leaks(srv):
    token = login_customer(srv)
    other = call(srv, "GET", "/v1/accounts/acc_1002", token=token)
    missing = call(srv, "GET", "/v1/accounts/acc_9999", token=token)
    assert_error(other, 403, "forbidden")
    assert_error(missing, 403, "forbidden")
    assert other.json()["error"]["message"] == missing.json()["error"]["message"]
    for leak in ("李娜".encode(), b"M100002", b"5678", b"12000", b"acc_1002"):
        assert leak not in other.body


def test_staff_needs_to_verify_before_seeing_an_account(srv):
    token = login_staff(srv)
    r = call(srv, "GET", "/v1/accounts/acc_1001", token=token)
    assert_error(r, 403, "verification_required")
    assert "王小明".encode() not in r.body
    assert_error(call(srv, "GET", "/v1/accounts/acc_9999", token=token), 404, "not_found")


def test_staff_sees_an_account_this_token_verified(tmp_path):
    db = tmp_path / "svc.db"
    with Server(db=db) as s:
        token, other = login_staff(s), login_staff(s)
        with sqlite3.connect(db) as con:  # stands in for POST /v1/accounts/verify (later issue)
            con.execute("INSERT INTO verifications VALUES (?, 'acc_1002', 'id_last4', 0)",
                        (hashlib.sha256(token.encode()).hexdigest(),))
        r = call(s, "GET", "/v1/accounts/acc_1002", token=token)
        assert r.status == 200 and r.json()["phone_masked"] == "139****5678"
        assert r.json()["id_number_masked"] == "3101**********3454"
        assert_error(call(s, "GET", "/v1/accounts/acc_1002", token=other), 403,
                     "verification_required")


# ---- request handling ----

def test_malformed_json_is_400(srv):
    for raw in (b"{\"phone\":", b"[1,2]", b"not json", b""):
        assert_error(call(srv, "POST", "/v1/auth/token", raw=raw), 400, "invalid_request")


def test_unknown_path_is_404(srv):
    for path in ("/v1/nope", "/", "/v1/meta/extra", "/v2/meta", "/v1/accounts/"):
        assert_error(call(srv, "GET", path), 404, "not_found")


def test_wrong_method_is_405_with_allow(srv):
    r = call(srv, "PUT", "/v1/auth/token", {})
    assert_error(r, 405, "method_not_allowed")
    assert set(r.headers["Allow"].split(", ")) == {"POST", "DELETE"}


def test_body_over_one_mib_is_413(srv):
    big = b'{"phone":"' + b"1" * (1024 * 1024 + 10) + b'"}'
    try:
        r = call(srv, "POST", "/v1/auth/otp", raw=big)
    except (ConnectionError, urllib.error.URLError):
        pytest.fail("the service closed the connection instead of answering 413")
    assert_error(r, 413, "payload_too_large")


def test_oversized_body_announced_with_expect_is_refused_before_it_is_sent(srv):
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        sock.sendall(b"POST /v1/auth/otp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                     b"\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
        head = sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 413 "), head
    assert b"payload_too_large" in head and b"X-Request-Id: req_" in head


def test_chunked_body_over_one_mib_is_413(srv):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    chunks = (b"x" * 65536 for _ in range(20))
    conn.request("POST", "/v1/auth/otp", body=chunks, encode_chunked=True,
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 413
    assert json.loads(r.read())["error"]["code"] == "payload_too_large"
    conn.close()


# ---- support status ----

def channel(status, name):
    return next(c for c in status["channels"] if c["channel"] == name)


def test_support_status_shape_at_peak():
    with Server("--now", PEAK) as s:
        st = call(s, "GET", "/v1/support/status").json()
    assert st["time_zone"] == "Asia/Shanghai" and st["open_now"] is True
    assert st["hours"] == {"open": "08:00", "close": "22:00"}
    assert st["peak_now"] is True
    purposes = {(p["purpose"], p["number"], p["for_support"]) for p in st["phones"]}
    assert ("customer_service", "400-000-1234", True) in purposes
    assert ("sales", "400-000-5678", False) in purposes
    assert {p["number"] for p in st["phones"] if p["purpose"] == "emergency"} == {
        "122", "120", "110", "119"}
    assert [c["channel"] for c in st["channels"]] == ["phone", "app_chat", "wechat"]
    assert channel(st, "phone") == {"channel": "phone", "hours": "08:00-22:00", "open_now": True,
                                    "queue_length": 0, "estimated_wait_s": 300}


def test_support_status_off_peak_and_closed():
    with Server("--now", OFF_PEAK) as s:
        st = call(s, "GET", "/v1/support/status").json()
    assert st["peak_now"] is False and channel(st, "phone")["estimated_wait_s"] == 60
    with Server("--now", CLOSED) as s:
        st = call(s, "GET", "/v1/support/status").json()
    assert st["open_now"] is False
    assert channel(st, "phone")["estimated_wait_s"] is None
    assert channel(st, "wechat")["estimated_wait_s"] is None
    assert channel(st, "app_chat")["open_now"] is True


def test_weekend_peak_is_daytime():
    with Server("--now", "2026-11-28T11:00:00+08:00") as s:  # Saturday
        assert call(s, "GET", "/v1/support/status").json()["peak_now"] is True
    with Server("--now", "2026-11-28T08:30:00+08:00") as s:
        assert call(s, "GET", "/v1/support/status").json()["peak_now"] is False


def test_phone_queue_counts_open_tickets(tmp_path):
    db = tmp_path / "svc.db"
    with Server("--now", OFF_PEAK, db=db) as s:
        with sqlite3.connect(db) as con:
            for i, status in enumerate(["open", "in_progress", "closed"]):
                con.execute("INSERT INTO tickets(id, created_by, created_by_role, category,"
                            " priority, status, queue, message, sla_due_at, created_at,"
                            " updated_at) VALUES (?, 'acc_1001', 'customer', 'other', 'normal',"
                            " ?, 'phone', 'm', 0, 0, 0)", (f"tkt_{i}", status))
        ph = channel(call(s, "GET", "/v1/support/status").json(), "phone")
    assert ph["queue_length"] == 2 and ph["estimated_wait_s"] == 180


# ---- faults ----

def test_x_fault_is_ignored_without_the_flag(srv):
    r = call(srv, "GET", "/v1/meta", headers={"X-Fault": "status=503"})
    assert r.status == 200


def test_fault_status_with_retry_after(fsrv):
    r = call(fsrv, "GET", "/v1/meta", headers={"X-Fault": "status=503,retry-after=7"})
    assert_error(r, 503, "unavailable")
    assert r.headers["Retry-After"] == "7"
    r = call(fsrv, "GET", "/v1/meta", headers={"X-Fault": "status=429"})
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 0
    assert_error(call(fsrv, "GET", "/v1/meta", headers={"X-Fault": "status=500"}), 500,
                 "internal")


def test_fault_delay(fsrv):
    start = time.monotonic()
    r = call(fsrv, "GET", "/v1/meta", headers={"X-Fault": "delay=600"})
    assert r.status == 200 and time.monotonic() - start >= 0.6


def test_a_delayed_request_does_not_block_others(fsrv):
    t = threading.Thread(target=call, args=(fsrv, "GET", "/v1/meta"),
                         kwargs={"headers": {"X-Fault": "delay=3000"}})
    t.start()
    time.sleep(0.2)
    start = time.monotonic()
    assert call(fsrv, "GET", "/v1/meta").status == 200
    assert time.monotonic() - start < 1.5
    t.join()


def test_fault_drop_closes_without_answer(fsrv):
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        call(fsrv, "GET", "/v1/meta", headers={"X-Fault": "drop"})


def test_fault_truncate_sends_less_than_declared(fsrv):
    conn = http.client.HTTPConnection("127.0.0.1", fsrv.port, timeout=10)
    conn.request("GET", "/v1/meta", headers={"X-Fault": "truncate"})
    r = conn.getresponse()
    assert r.status == 200 and REQUEST_ID.match(r.getheader("X-Request-Id"))
    declared = int(r.getheader("Content-Length"))
    with pytest.raises(http.client.IncompleteRead) as e:
        r.read()
    assert len(e.value.partial) < declared
    conn.close()


def test_fault_garbage_is_non_json_with_json_type(fsrv):
    r = call(fsrv, "GET", "/v1/meta", headers={"X-Fault": "garbage"})
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        json.loads(r.body)


def test_fault_big_streams_nine_mib(fsrv):
    r = call(fsrv, "GET", "/v1/meta", headers={"X-Fault": "big"}, timeout=30)
    assert r.status == 200 and len(r.body) == 9 * 1024 * 1024
    assert r.body.startswith(b"{")


def test_fault_content_type_override(fsrv):
    r = call(fsrv, "GET", "/v1/meta", headers={"X-Fault": "content-type=text/html"})
    assert r.status == 200 and r.headers["Content-Type"] == "text/html"
    assert r.json()["api_version"] == "1.0"


def test_faults_combine(fsrv):
    start = time.monotonic()
    r = call(fsrv, "GET", "/v1/support/status",
             headers={"X-Fault": "delay=300, status=503, retry-after=2"})
    assert time.monotonic() - start >= 0.3
    assert_error(r, 503, "unavailable")
    assert r.headers["Retry-After"] == "2"


def test_fault_slowloris_trickles_the_body(fsrv):
    conn = http.client.HTTPConnection("127.0.0.1", fsrv.port, timeout=5)
    conn.request("GET", "/v1/meta", headers={"X-Fault": "slowloris=100"})
    r = conn.getresponse()
    assert r.status == 200
    start = time.monotonic()
    assert r.read(10) == b'{"api_vers'
    assert time.monotonic() - start >= 0.8
    conn.close()


def test_malformed_fault_header_is_400(fsrv):
    assert_error(call(fsrv, "GET", "/v1/meta", headers={"X-Fault": "explode"}), 400,
                 "invalid_request")


def test_faults_apply_before_auth(fsrv):
    r = call(fsrv, "GET", "/v1/auth/whoami", headers={"X-Fault": "status=503"})
    assert_error(r, 503, "unavailable")


# ---- logging ----

def test_log_has_one_line_per_request_and_no_secrets():
    s = Server()
    token = login_customer(s)
    call(s, "POST", "/v1/auth/token", STAFF)
    call(s, "GET", "/v1/auth/whoami", token=token)
    call(s, "GET", "/v1/nope")
    assert s.stop() == 0
    log = s.log_text()
    assert "otp for 138****8000: 246810" in log
    assert token not in log and "field01-demo-pass" not in log
    assert "13800138000" not in log
    lines = [ln for ln in log.splitlines() if ln.startswith(("GET ", "POST ", "DELETE "))]
    assert len(lines) == 5, log
    # A request is logged once answered; with a pool of threads the order may differ.
    nope = [ln for ln in lines if ln.startswith("GET /v1/nope ")]
    assert len(nope) == 1 and re.match(r"^GET /v1/nope 404 [0-9.]+ms req_[0-9a-f]{16}$", nope[0])


def test_a_path_cannot_forge_log_lines():
    s = Server()
    call(s, "GET", "/v1/x%0AGET%20/v1/meta%20200%201.0ms%20req_0000000000000000")
    s.stop()
    log = s.log_text()
    assert "req_0000000000000000\n" not in log
    assert re.search(r"^GET /v1/x\?GET /v1/meta .* 404 [0-9.]+ms req_[0-9a-f]{16}$", log, re.M)


# ---- persistence and shutdown ----

def db_rows(db, sql):
    with sqlite3.connect(db) as con:
        return con.execute(sql).fetchall()


def test_sigterm_exits_zero_and_db_survives_restart(tmp_path):
    db = tmp_path / "svc.db"
    s = Server(db=db)
    token = login_customer(s)
    assert s.stop() == 0
    key = db_rows(db, "SELECT value FROM meta WHERE key = 'pass_signing_key'")
    assert len(key) == 1 and re.match(r"^[0-9a-f]{64}$", key[0][0])
    with Server(db=db) as s2:
        assert call(s2, "GET", "/v1/auth/whoami", token=token).status == 200
    assert db_rows(db, "SELECT value FROM meta WHERE key = 'pass_signing_key'") == key
    assert db_rows(db, "SELECT count(*) FROM accounts") == [(3,)]
    assert db_rows(db, "SELECT count(*) FROM fee_lines") == [(10,)]


def test_sigterm_does_not_wait_for_injected_delays():
    s = Server("--faults")

    def slow_request():
        try:
            call(s, "GET", "/v1/meta", headers={"X-Fault": "delay=600000"})
        except OSError:
            pass  # the service closes the connection as it stops

    t = threading.Thread(target=slow_request)
    t.start()
    time.sleep(0.3)
    start = time.monotonic()
    assert s.stop() == 0
    assert time.monotonic() - start < 3
    t.join(10)


def _read_answer(sock):
    """A whole HTTP/1.1 answer with Content-Length from a raw socket: (head, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?im)^content-length: *(\d+)", head).group(1))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the body"
        body += chunk
    return head.decode(), body


def test_sigterm_lets_begun_requests_answer_and_refuses_later_ones(tmp_path):
    # A request begun before SIGTERM (headers in, body still coming) finishes and is answered;
    # one sent afterwards on an open keep-alive connection gets 503 with Retry-After; new
    # connections are refused; the service then exits 0 with the database closed.
    import signal
    db = tmp_path / "svc.db"
    s = Server(db=db)
    host, port = "127.0.0.1", s.port
    begun = socket.create_connection((host, port), timeout=10)
    later = socket.create_connection((host, port), timeout=10)
    later.sendall(b"GET /v1/meta HTTP/1.1\r\nHost: x\r\n\r\n")
    assert _read_answer(later)[0].startswith("HTTP/1.1 200")  # kept alive
    body = b'{"phone": "13800138000"}'
    begun.sendall(b"POST /v1/auth/otp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
    time.sleep(0.5)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert s.proc.poll() is None, "stopped without waiting for the begun request"
    later.sendall(b"GET /v1/meta HTTP/1.1\r\nHost: x\r\n\r\n")
    head, refused = _read_answer(later)
    assert head.startswith("HTTP/1.1 503"), head
    assert re.search(r"(?im)^retry-after: 1\r?$", head)
    assert re.search(r"(?im)^connection: close", head)
    assert json.loads(refused)["error"]["code"] == "unavailable"
    with pytest.raises(OSError):
        socket.create_connection((host, port), timeout=5).close()
    begun.sendall(body[10:])
    head, answer = _read_answer(begun)
    assert head.startswith("HTTP/1.1 202"), head
    assert json.loads(answer)["sent"] is True
    assert s.proc.wait(10) == 0
    assert not os.path.exists(str(db) + "-wal")  # closed, the WAL folded back
    assert db_rows(db, "SELECT count(*) FROM otps WHERE phone = '13800138000'") == [(1,)]


def test_sigint_also_stops_cleanly(tmp_path):
    import signal
    s = Server(db=tmp_path / "svc.db")
    s.proc.send_signal(signal.SIGINT)
    assert s.proc.wait(10) == 0


def test_tokens_and_codes_are_stored_hashed(tmp_path):
    db = tmp_path / "svc.db"
    with Server(db=db) as s:
        token = login_customer(s)
    hashes = [h for (h,) in db_rows(db, "SELECT token_hash FROM tokens")]
    assert hashes == [hashlib.sha256(token.encode()).hexdigest()]
    raw = db.read_bytes() + (tmp_path / "svc.db-wal").read_bytes() \
        if (tmp_path / "svc.db-wal").exists() else db.read_bytes()
    assert token.encode() not in raw
    assert db_rows(db, "SELECT count(*) FROM otps WHERE code_hash = '246810'") == [(0,)]
    (pw,) = db_rows(db, "SELECT password_hash FROM staff WHERE id = 'field01'")[0]
    assert pw.startswith("$y$")


def test_schema_is_versioned_and_complete(tmp_path):
    db = tmp_path / "svc.db"
    Server(db=db, seed=None).stop()
    # One version per migration in server/db_schema.c: v1 the schema, v2 tickets, v3 vehicles,
    # v4 the verification lockout's index, v5 stolen-account freezes (logins blocked).
    assert db_rows(db, "PRAGMA user_version") == [(5,)]
    assert db_rows(db, "PRAGMA journal_mode") == [("wal",)]
    tables = {t for (t,) in db_rows(db, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"accounts", "staff", "tokens", "otps", "verifications", "verify_attempts", "tariffs",
            "tariff_rules", "vehicles", "orders", "fee_lines", "payments", "refunds", "tickets",
            "ticket_events", "attachments", "ratings", "vehicle_commands", "idempotency_keys",
            "audit_log", "meta"} <= tables
    assert db_rows(db, "SELECT count(*) FROM accounts") == [(0,)]


def test_demo_seed_matches_api_md(tmp_path):
    db = tmp_path / "svc.db"
    with Server("--now", PEAK, db=db):
        pass
    start = 1795606860  # 2026-11-25T19:41:00+08:00
    assert db_rows(db, "SELECT id, phone, status, balance_fen, licence_status, member_level"
                       " FROM accounts ORDER BY id") == [
        ("acc_1001", "13800138000", "active", 5800, "verified", "gold"),
        ("acc_1002", "13912345678", "active", 12000, "verified", "silver"),
        ("acc_1003", "13700001111", "frozen", 0, "expired", "standard")]
    totals = db_rows(db, "SELECT o.id, sum(f.amount_fen), (SELECT sum(amount_fen) FROM payments"
                         " p WHERE p.order_id = o.id) FROM orders o JOIN fee_lines f ON"
                         " f.order_id = o.id GROUP BY o.id ORDER BY o.id")
    assert totals == [("ord_20261101_0001", 3582, 3582), ("ord_20261102_0002", 4813, 4813),
                      ("ord_20261103_0003", 1820, 1820)]
    assert db_rows(db, "SELECT status, started_at FROM orders WHERE id = 'ord_20261125_0004'") \
        == [("active", start - 25 * 60)]
    assert db_rows(db, "SELECT online, last_seen_at, fuel_pct FROM vehicles WHERE id = 'veh_002'") \
        == [(0, start - 7200, 12)]
    assert db_rows(db, "SELECT plate, battery_pct FROM vehicles WHERE id IN ('veh_001','veh_003')"
                       " ORDER BY id") == [("京AD12345", 76), ("沪AD54321", 54)]
    assert db_rows(db, "SELECT kind, price_fen FROM tariff_rules WHERE tariff_id = 'tar_std'"
                       " ORDER BY position") == [("time", 35), ("distance", 99), ("service", 300)]
    assert db_rows(db, "SELECT count(*) FROM tickets") == [(0,)]
    assert db_rows(db, "SELECT count(*) FROM refunds") == [(0,)]


# ---- TLS ----

def test_tls_serves_https(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    with Server("--tls-cert", str(cert), "--tls-key", str(key)) as s:
        assert s.url.startswith("https://127.0.0.1:")
        ctx = ssl.create_default_context(cafile=str(cert))
        r = call(s, "GET", "/v1/meta", context=ctx)
        assert r.status == 200 and r.json()["api_version"] == "1.0"
        with pytest.raises(urllib.error.URLError):
            call(s, "GET", "/v1/meta", context=ssl.create_default_context())
