"""The stolen-account journey of the support guide, end to end: a thief holds the customer's
session (logged in before the freeze); staff, or the customer themself, freeze the account;
from then on the thief's session can neither unlock the car nor list the orders, a new login
is refused with exit 5 and the support number, and the service's audit log has every refusal.

Freezing changes the demo data for everyone, so every test runs its own service with a
database file (read directly to check the car and the audit log)."""
import json
import sqlite3
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

WANG_PHONE, WANG_CODE, WANG_ACCOUNT = "13800138000", "246810", "acc_1001"
ZHANG_PHONE, ZHANG_CODE, ZHANG_ACCOUNT = "13700001111", "112233", "acc_1003"
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"
PLATE = "京AD12345"          # veh_001: 王小明's active order ord_20261125_0004
FREE_PLATE = "沪AD54321"     # veh_003: nobody rents it
SUPPORT = "400-000-1234"

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def svc(tmp_path):
    db = tmp_path / "svc.db"
    srv = chtest.Server("--db", str(db), "--vehicle-delay-ms", "100")
    srv.db = db
    yield srv
    srv.stop()


def person(tmp_path, srv, name):
    """carhelp(*args, input=None) as one person, with their own credentials file."""
    env = chtest.isolated_env(tmp_path / name, srv.url)

    def run(*args, input=None):
        return chtest.run(env, *args, input=input)
    return run


def assert_exit(r, code):
    assert r.returncode == code, (f"exit {r.returncode}, expected {code}\n"
                                  f"stdout: {r.stdout}\nstderr: {r.stderr}")
    return r


def logged_in_customer(tmp_path, srv, name, phone=WANG_PHONE, code=WANG_CODE):
    run = person(tmp_path, srv, name)
    assert_exit(run("login", "--phone", phone, input=code + "\n"), 0)
    return run


def logged_in_staff(tmp_path, srv):
    run = person(tmp_path, srv, "staff")
    assert_exit(run("login", "--staff", STAFF, input=STAFF_PASSWORD + "\n"), 0)
    return run


def rows(db, sql, *args):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, args)]
    finally:
        con.close()


def audit(db, action):
    return rows(db, "SELECT * FROM audit_log WHERE action = ? ORDER BY id", action)


def vehicle_locked(db, vehicle_id):
    return rows(db, "SELECT locked FROM vehicles WHERE id = ?", vehicle_id)[0]["locked"] == 1


def unlock_commands(db):
    return rows(db, "SELECT id FROM vehicle_commands WHERE type = 'unlock'")


def post(url, path, body, token):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers=headers)
    try:
        with _opener.open(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def token_over_http(url, phone=WANG_PHONE, code=WANG_CODE):
    """A second session of the thief's, logged in without the CLI, for raw requests."""
    assert post(url, "/v1/auth/otp", {"phone": phone}, None)[0] == 202
    status, doc = post(url, "/v1/auth/token", {"phone": phone, "otp": code}, None)
    assert status == 200, doc
    return doc["token"]


def assert_the_thief_is_shut_out(svc, thief, raw_token):
    """The journey after the freeze, whoever froze the account."""
    r = assert_exit(thief("unlock", PLATE, "--yes"), 4)
    assert "frozen" in r.stderr and "carhelp login" in r.stderr
    assert vehicle_locked(svc.db, "veh_001") and unlock_commands(svc.db) == []
    assert_exit(thief("order", "list"), 4)
    # Straight to the command endpoint with the old token: the same 401, nothing queued.
    status, doc = post(svc.url, "/v1/vehicles/veh_001/commands", {"type": "unlock"}, raw_token)
    assert status == 401 and doc["error"]["code"] == "token_revoked", doc
    assert unlock_commands(svc.db) == []

    r = assert_exit(thief("login", "--phone", WANG_PHONE, input=WANG_CODE + "\n"), 5)
    assert "frozen" in r.stderr and SUPPORT in r.stderr, r.stderr
    hint = [ln for ln in r.stderr.splitlines() if ln.startswith("hint:")]
    assert hint and SUPPORT in hint[0], r.stderr
    j = assert_exit(thief("--json", "login", "--phone", WANG_PHONE, input=WANG_CODE + "\n"), 5)
    err = json.loads(j.stderr.strip().splitlines()[-1])["error"]
    assert err["code"] == "account_frozen" and err["http_status"] == 403

    # The audit log has each refusal: the session's uses and the logins.
    used = [json.loads(x["details"]) for x in audit(svc.db, "request.refused")]
    assert all(x["code"] == "token_revoked" and x["cause"] == "account_frozen" for x in used)
    tried = {(x["method"], x["path"]) for x in used}
    assert ("GET", f"/v1/vehicles/{PLATE}") in tried, tried
    assert ("GET", f"/v1/accounts/{WANG_ACCOUNT}/orders") in tried, tried
    assert ("POST", "/v1/vehicles/veh_001/commands") in tried, tried
    assert all((x["actor"], x["target_type"], x["target_id"]) ==
               (WANG_ACCOUNT, "account", WANG_ACCOUNT) and x["request_id"].startswith("req_")
               for x in audit(svc.db, "request.refused"))
    logins = audit(svc.db, "login.refused")
    assert len(logins) == 2 and all(x["target_id"] == WANG_ACCOUNT for x in logins)
    assert json.loads(logins[0]["details"]) == {"code": "account_frozen"}


def test_staff_freeze_shuts_the_thief_out_of_the_car_the_orders_and_the_login(tmp_path, svc):
    thief = logged_in_customer(tmp_path, svc, "thief")
    raw = token_over_http(svc.url)
    staff = logged_in_staff(tmp_path, svc)
    assert_exit(staff("account", "verify", "--phone", WANG_PHONE, "--id-last4", "002X"), 0)
    assert_exit(staff("account", "freeze", WANG_ACCOUNT, "--reason", "phone reported stolen",
                      "--yes"), 0)
    (freeze,) = audit(svc.db, "account.freeze")
    assert (freeze["actor"], freeze["reason"]) == (STAFF, "phone reported stolen")
    assert json.loads(freeze["details"]) == {"previous_status": "active", "sessions_revoked": 2}

    assert_the_thief_is_shut_out(svc, thief, raw)
    shown = json.loads(assert_exit(staff("--json", "vehicle", "show", PLATE), 0).stdout)
    assert shown["lock_state"] == "locked"


def test_the_customers_own_freeze_shuts_the_thief_out_too(tmp_path, svc):
    thief = logged_in_customer(tmp_path, svc, "thief")
    raw = token_over_http(svc.url)
    customer = logged_in_customer(tmp_path, svc, "customer")
    r = assert_exit(customer("account", "freeze", "--reason", "phone stolen", "--yes"), 0)
    assert WANG_ACCOUNT in r.stdout and "every session of it is signed out" in r.stdout, r.stdout
    (freeze,) = audit(svc.db, "account.freeze")
    assert (freeze["actor"], freeze["actor_role"]) == (WANG_ACCOUNT, "customer")
    assert json.loads(freeze["details"]) == {"previous_status": "active", "sessions_revoked": 3}

    assert_the_thief_is_shut_out(svc, thief, raw)
    # The customer's own session ended with the thief's: the way back is customer service.
    assert_exit(customer("account", "show"), 4)
    staff = logged_in_staff(tmp_path, svc)
    assert json.loads(assert_exit(staff("--json", "vehicle", "show", PLATE), 0).stdout)[
        "lock_state"] == "locked"


def test_a_freeze_leaves_other_customers_and_staff_logged_in(tmp_path, svc):
    other = logged_in_customer(tmp_path, svc, "li", "13912345678", "135790")
    staff = logged_in_staff(tmp_path, svc)
    assert_exit(staff("account", "verify", "--phone", WANG_PHONE, "--member", "M100001"), 0)
    assert_exit(staff("account", "freeze", WANG_ACCOUNT, "--reason", "stolen", "--yes"), 0)
    assert_exit(other("account", "show"), 0)
    assert_exit(staff("account", "show", WANG_ACCOUNT), 0)
    # Staff may still lock the stolen account's car (with a reason, audit-logged).
    r = staff("lock", PLATE, "--reason", "account frozen, car reported stolen",
              "--confirm", PLATE, "--yes")
    assert_exit(r, 0)


def test_an_account_frozen_by_the_operator_logs_in_but_commands_no_car(tmp_path, svc):
    """张伟's account (acc_1003) is frozen in the demo data without a stolen-account freeze:
    he may log in and see it, never command a vehicle (403 account_frozen, audit-logged)."""
    zhang = logged_in_customer(tmp_path, svc, "zhang", ZHANG_PHONE, ZHANG_CODE)
    shown = assert_exit(zhang("account", "show"), 0).stdout
    assert "cannot start orders or send vehicle commands" in shown and SUPPORT in shown, shown
    r = assert_exit(zhang("unlock", FREE_PLATE, "--yes", "--no-wait"), 5)
    assert "frozen" in r.stderr and SUPPORT in r.stderr, r.stderr
    assert vehicle_locked(svc.db, "veh_003") and unlock_commands(svc.db) == []
    (refused,) = audit(svc.db, "vehicle_command.refused")
    assert (refused["actor"], refused["actor_role"], refused["target_type"],
            refused["target_id"]) == (ZHANG_ACCOUNT, "customer", "vehicle", "veh_003")
    assert json.loads(refused["details"]) == {"type": "unlock", "code": "account_frozen"}
    assert refused["request_id"].startswith("req_")


def test_the_refused_login_says_it_in_chinese_under_a_chinese_locale(tmp_path, svc):
    import subprocess
    have = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.lower()
    if "zh_cn.utf8" not in have.replace("utf-8", "utf8"):
        pytest.skip("zh_CN.UTF-8 is not generated (test_i18n.py generates it when root)")
    staff = logged_in_staff(tmp_path, svc)
    assert_exit(staff("account", "verify", "--phone", WANG_PHONE, "--id-last4", "002X"), 0)
    assert_exit(staff("account", "freeze", WANG_ACCOUNT, "--reason", "stolen", "--yes"), 0)
    env = chtest.isolated_env(tmp_path / "zh", svc.url)
    env.pop("LC_ALL")
    env["LANG"] = "zh_CN.UTF-8"
    r = assert_exit(chtest.run(env, "login", "--phone", WANG_PHONE, input=WANG_CODE + "\n"), 5)
    assert f"该账户已冻结：如需解冻，请拨打客服电话 {SUPPORT}" in r.stderr, r.stderr
