"""account verify / show / freeze against the real reference service.

Verification failures count per phone and freezes change accounts, so every test that makes
them runs its own private service (demo data): the session's shared service stays as the
demo dataset describes it for everyone else's tests."""
import io
import json
import socket
import sqlite3
import statistics
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

WANG_PHONE, WANG_CODE, WANG_ID = "13800138000", "246810", "11010519491231002X"
LI_PHONE, LI_CODE = "13912345678", "135790"
ZHANG_PHONE, ZHANG_CODE = "13700001111", "112233"
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"
# A token-shaped string: the CLI accepts it from CARHELP_TOKEN without asking anyone.
SOME_TOKEN = "0" * 64


# -- helpers --------------------------------------------------------------------------------

class Private(chtest.Server):
    """A service of one test's own (chtest.Server drains its log into log_lines)."""


@pytest.fixture
def private():
    srv = Private()
    yield srv
    srv.stop()


def closed_port_url():
    """A loopback URL where nothing listens: any request there fails with exit 6."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(url, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    try:
        with _opener.open(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def token_for(url, **credentials):
    if "phone" in credentials:   # the one-time code must have been "sent" first
        assert http(url, "POST", "/v1/auth/otp", {"phone": credentials["phone"]})[0] == 202
    status, _, body = http(url, "POST", "/v1/auth/token", credentials)
    assert status == 200, body
    return json.loads(body)["token"]


def staff_token(url):
    return token_for(url, staff_id=STAFF, password=STAFF_PASSWORD)


def cli(tmp_path, url, **extra):
    """carhelp(*args, input=None) in an isolated environment pointed at url."""
    env = chtest.isolated_env(tmp_path, url, **extra)

    def run(*args, input=None):
        return chtest.run(env, *args, input=input)
    run.env = env
    return run


def login_staff(run):
    r = run("login", "--staff", STAFF, input=STAFF_PASSWORD + "\n")
    assert r.returncode == 0, r.stderr


def login_customer(run, phone, code):
    r = run("login", "--phone", phone, input=code + "\n")
    assert r.returncode == 0, r.stderr


def account_status(db, account):
    with sqlite3.connect(str(db)) as c:
        return c.execute("SELECT status FROM accounts WHERE id = ?", (account,)).fetchone()[0]


def audit_rows(db):
    with sqlite3.connect(str(db)) as c:
        c.row_factory = sqlite3.Row
        return [dict(r) for r in c.execute(
            "SELECT * FROM audit_log WHERE action = 'account.freeze' ORDER BY id")]


def assert_exit(r, code):
    assert r.returncode == code, (f"exit {r.returncode}, expected {code}\n"
                                  f"stdout: {r.stdout}\nstderr: {r.stderr}")


# -- verify: success, each method -----------------------------------------------------------

@pytest.fixture
def staff(tmp_path, server):
    run = cli(tmp_path, server.url)
    login_staff(run)
    return run


def test_staff_verifies_wang_by_the_last_four_of_his_id(staff):
    r = staff("account", "verify", "--phone", WANG_PHONE, "--id-last4", "002X")
    assert_exit(r, 0)
    assert "Verified" in r.stdout and "acc_1001" in r.stdout
    assert "138****8000" in r.stdout and WANG_PHONE not in r.stdout


def test_lower_case_x_and_a_plus86_phone_with_spaces_are_normalised(staff):
    r = staff("account", "verify", "--phone", "+86 138 0013 8000", "--id-last4", "002x")
    assert_exit(r, 0)


@pytest.mark.parametrize("option,value", [("--order", "ord_20261101_0001"),
                                          ("--member", "M100001")])
def test_staff_verifies_by_order_or_member_id(staff, option, value):
    r = staff("--json", "account", "verify", "--phone", WANG_PHONE, option, value)
    assert_exit(r, 0)
    doc = json.loads(r.stdout)
    assert doc["verified"] is True and doc["account_id"] == "acc_1001"
    assert doc["method"] == {"--order": "order_id", "--member": "member_id"}[option]
    assert doc["attempts_left"] == 5


@pytest.mark.parametrize("option,value", [("--id-number", WANG_ID), ("--id-last4", "002X")])
def test_a_dash_reads_the_id_from_stdin_so_it_stays_out_of_argv(staff, option, value):
    r = staff("account", "verify", "--phone", WANG_PHONE, option, "-", input=value + "\n")
    assert_exit(r, 0)
    assert "acc_1001" in r.stdout
    assert value not in r.stdout + r.stderr


def test_a_dash_with_nothing_on_stdin_is_a_usage_error(staff):
    r = staff("account", "verify", "--phone", WANG_PHONE, "--id-number", "-", input="")
    assert_exit(r, 2)
    assert "--id-number" in r.stderr


def test_the_id_number_never_shows_in_verbose_traces(staff):
    r = staff("-vv", "account", "verify", "--phone", WANG_PHONE, "--id-number", "-",
              input=WANG_ID + "\n")
    assert_exit(r, 0)
    assert WANG_ID not in r.stderr and WANG_ID not in r.stdout
    assert "/v1/accounts/verify" in r.stderr


def test_verification_needs_a_login(tmp_path, server):
    r = cli(tmp_path, server.url)("account", "verify", "--phone", WANG_PHONE,
                                  "--id-last4", "002X")
    assert_exit(r, 4)
    assert "carhelp login" in r.stderr


# -- bad input: exit 2, the field named, nothing sent -------------------------------------

BAD_VERIFY = [
    (["--phone", "1380013800", "--id-last4", "002X"], "--phone"),
    (["--phone", "12800138000", "--id-last4", "002X"], "--phone"),
    (["--phone", "138001380001", "--id-last4", "002X"], "--phone"),
    (["--phone", WANG_PHONE, "--id-last4", "02X"], "--id-last4"),
    (["--phone", WANG_PHONE, "--id-last4", "00X2"], "--id-last4"),
    (["--phone", WANG_PHONE, "--id-last4", "002XX"], "--id-last4"),
    (["--phone", WANG_PHONE, "--id-number", "110105194912310021"], "--id-number"),
    (["--phone", WANG_PHONE, "--id-number", "11010519491231002"], "--id-number"),
    (["--phone", WANG_PHONE, "--order", "ord 0001"], "--order"),
    (["--phone", WANG_PHONE, "--order", "x" * 65], "--order"),
    (["--phone", WANG_PHONE, "--member", "M1;DROP"], "--member"),
    (["--phone", WANG_PHONE], "--id-last4"),
    (["--phone", WANG_PHONE, "--id-last4", "002X", "--member", "M100001"], "--member"),
    (["--id-last4", "002X"], "--phone"),
]


@pytest.mark.parametrize("args,field", BAD_VERIFY, ids=[" ".join(a)[:40] for a, _ in BAD_VERIFY])
def test_invalid_verify_input_is_exit_2_naming_the_field_and_sends_nothing(tmp_path, args,
                                                                           field):
    # Nothing listens at the URL: a request would be exit 6, so exit 2 proves none was sent.
    run = cli(tmp_path, closed_port_url(), CARHELP_TOKEN=SOME_TOKEN)
    r = run("account", "verify", *args)
    assert_exit(r, 2)
    assert r.stderr.startswith("carhelp: ") and field in r.stderr, r.stderr
    assert r.stdout == ""


def test_an_invalid_id_read_from_stdin_is_refused_before_any_request(tmp_path):
    run = cli(tmp_path, closed_port_url(), CARHELP_TOKEN=SOME_TOKEN)
    r = run("account", "verify", "--phone", WANG_PHONE, "--id-number", "-",
            input="110105194912310021\n")
    assert_exit(r, 2)
    assert "--id-number" in r.stderr and "110105194912310021" not in r.stderr


def test_a_valid_verify_to_the_closed_port_is_a_network_failure(tmp_path):
    # The control for the tests above: the same setup does reach for the network.
    run = cli(tmp_path, closed_port_url(), CARHELP_TOKEN=SOME_TOKEN)
    assert_exit(run("account", "verify", "--phone", WANG_PHONE, "--id-last4", "002X"), 6)


@pytest.mark.parametrize("args,field", [
    (["account", "show", "acc 1001"], "ACCOUNT"),
    (["account", "freeze", "acc/1001", "--reason", "stolen"], "ACCOUNT"),
    (["account", "freeze", "acc_1001", "--reason", "   "], "--reason"),
    (["account", "freeze", "acc_1001", "--reason", "x" * 501], "--reason"),
    (["account", "freeze", "acc_1001", "--reason", "line\nbreak"], "--reason"),
])
def test_invalid_account_or_reason_is_exit_2_and_sends_nothing(tmp_path, args, field):
    run = cli(tmp_path, closed_port_url(), CARHELP_TOKEN=SOME_TOKEN)
    r = run("--yes", *args)
    assert_exit(r, 2)
    assert field in r.stderr, r.stderr


def test_show_takes_at_most_one_account(tmp_path):
    run = cli(tmp_path, closed_port_url(), CARHELP_TOKEN=SOME_TOKEN)
    assert_exit(run("account", "show", "acc_1001", "acc_1002"), 2)


# -- not verified, unknown phones, lockout -------------------------------------------------

def masked_out(text):
    """Not-verified output with the masked phone taken out, to compare two answers."""
    for phone in ("138****8000", "139****5678", "137****1111", "135****0000", "136****4321"):
        text = text.replace(phone, "PHONE")
    return text


def test_a_wrong_last_four_is_not_verified_with_the_attempts_left(tmp_path, private):
    run = cli(tmp_path, private.url)
    login_staff(run)
    r = run("account", "verify", "--phone", WANG_PHONE, "--id-last4", "1234")
    assert_exit(r, 1)
    assert "Not verified" in r.stdout and "4 attempt" in r.stdout
    r = run("--json", "account", "verify", "--phone", WANG_PHONE, "--id-last4", "1234")
    assert_exit(r, 1)
    assert json.loads(r.stdout) == {"verified": False, "account_id": None,
                                    "method": "id_last4", "attempts_left": 3}


def test_an_unknown_phone_gets_the_same_answer_as_a_wrong_last_four(tmp_path, private):
    run = cli(tmp_path, private.url)
    login_staff(run)
    known = run("account", "verify", "--phone", WANG_PHONE, "--id-last4", "1234")
    unknown = run("account", "verify", "--phone", "13500000000", "--id-last4", "1234")
    assert_exit(known, 1)
    assert_exit(unknown, 1)
    assert masked_out(known.stdout) == masked_out(unknown.stdout)
    assert known.stderr == unknown.stderr == ""
    kj = run("--json", "account", "verify", "--phone", LI_PHONE, "--member", "M999999")
    uj = run("--json", "account", "verify", "--phone", "13600004321", "--member", "M999999")
    assert kj.stdout == uj.stdout and kj.returncode == uj.returncode == 1


def test_an_unknown_phone_takes_about_as_long_as_a_known_one(private):
    """Loose on purpose: the medians of many tries must be of the same order, not equal."""
    tok = staff_token(private.url)

    def timed(phone, last4):
        t0 = time.perf_counter()
        status, _, body = http(private.url, "POST", "/v1/accounts/verify",
                               {"phone": phone, "id_last4": last4}, tok)
        elapsed = time.perf_counter() - t0
        assert status == 200, body
        assert json.loads(body)["verified"] is False
        return elapsed

    known, unknown = [], []
    for i in range(30):
        known.append(timed(WANG_PHONE, "1234"))
        # A success resets the count, so the known phone never locks during the loop.
        http(private.url, "POST", "/v1/accounts/verify",
             {"phone": WANG_PHONE, "id_last4": "002X"}, tok)
        unknown.append(timed(f"135{i:08d}", "1234"))
    mk, mu = statistics.median(known), statistics.median(unknown)
    assert mu < 3 * mk + 0.005 and mk < 3 * mu + 0.005, (mk, mu)


def brute(run, phone, guesses, option="--id-last4"):
    return [run("account", "verify", "--phone", phone, option, g) for g in guesses]


def test_brute_force_of_the_last_four_locks_the_phone_after_5_failures(tmp_path, private):
    run = cli(tmp_path, private.url)
    login_staff(run)
    results = brute(run, LI_PHONE, ["0000", "1111", "2222", "3333", "4444"])
    assert [r.returncode for r in results] == [1, 1, 1, 1, 1]
    assert "4 attempt" in results[0].stdout
    assert "No attempts left" in results[4].stdout
    locked = run("account", "verify", "--phone", LI_PHONE, "--id-last4", "5555")
    assert_exit(locked, 9)
    assert "locked_out" not in locked.stdout and locked.stdout == ""
    assert "try again after" in locked.stderr and " s)" in locked.stderr


def test_a_locked_phone_stays_locked_even_for_the_right_answer_and_other_methods(tmp_path,
                                                                              private):
    run = cli(tmp_path, private.url)
    login_staff(run)
    brute(run, LI_PHONE, ["0000", "1111", "2222", "3333", "4444"])
    for option, value in [("--id-last4", "3454"), ("--id-number", "310115198805123454"),
                          ("--member", "M100002"), ("--order", "ord_20261102_0002")]:
        r = run("account", "verify", "--phone", LI_PHONE, option, value)
        assert_exit(r, 9)
    r = run("--json", "account", "verify", "--phone", LI_PHONE, "--id-last4", "3454")
    assert_exit(r, 9)
    err = json.loads(r.stderr)["error"]
    assert err["code"] == "locked_out" and err["http_status"] == 429 and err["exit_code"] == 9
    # Another phone is not affected, and the lockout never blocks login.
    assert_exit(run("account", "verify", "--phone", WANG_PHONE, "--id-last4", "002X"), 0)
    other = cli(tmp_path / "li", private.url)
    login_customer(other, LI_PHONE, LI_CODE)


def test_the_service_answers_429_locked_out_with_retry_after(private):
    tok = staff_token(private.url)
    for _ in range(5):
        status, _, _ = http(private.url, "POST", "/v1/accounts/verify",
                            {"phone": LI_PHONE, "id_last4": "0000"}, tok)
        assert status == 200
    status, headers, body = http(private.url, "POST", "/v1/accounts/verify",
                                 {"phone": LI_PHONE, "id_last4": "3454"}, tok)
    assert status == 429 and json.loads(body)["error"]["code"] == "locked_out"
    assert 0 < int(headers["Retry-After"]) <= 900


def test_unknown_phones_count_and_lock_the_same_way(tmp_path, private):
    run = cli(tmp_path, private.url)
    login_staff(run)
    results = brute(run, "13511112222", ["0000", "1111", "2222", "3333", "4444", "5555"])
    assert [r.returncode for r in results] == [1, 1, 1, 1, 1, 9]


def test_a_success_resets_the_count(tmp_path, private):
    run = cli(tmp_path, private.url)
    login_staff(run)
    brute(run, WANG_PHONE, ["0000", "1111", "2222", "3333"])
    assert_exit(run("account", "verify", "--phone", WANG_PHONE, "--id-last4", "002X"), 0)
    r = run("account", "verify", "--phone", WANG_PHONE, "--id-last4", "0000")
    assert_exit(r, 1)
    assert "4 attempt" in r.stdout


def test_the_lockout_ends_15_minutes_after_the_first_failure(tmp_path):
    db = tmp_path / "svc.db"
    with Private("--now", "2026-11-25T10:00:00+08:00", db=db) as first:
        tok = staff_token(first.url)
        for _ in range(6):
            http(first.url, "POST", "/v1/accounts/verify",
                 {"phone": LI_PHONE, "id_last4": "0000"}, tok)
    with Private("--now", "2026-11-25T10:14:00+08:00", db=db) as still:
        run = cli(tmp_path / "a", still.url)
        login_staff(run)
        assert_exit(run("account", "verify", "--phone", LI_PHONE, "--id-last4", "3454"), 9)
    with Private("--now", "2026-11-25T10:16:00+08:00", db=db) as later:
        run = cli(tmp_path / "b", later.url)
        login_staff(run)
        assert_exit(run("account", "verify", "--phone", LI_PHONE, "--id-last4", "3454"), 0)


def test_a_customer_may_verify_only_their_own_phone(tmp_path, private):
    run = cli(tmp_path, private.url)
    login_customer(run, WANG_PHONE, WANG_CODE)
    assert_exit(run("account", "verify", "--phone", WANG_PHONE, "--id-last4", "002X"), 0)
    r = run("account", "verify", "--phone", LI_PHONE, "--id-last4", "3454")
    assert_exit(r, 5)
    assert "李娜" not in r.stderr and "acc_1002" not in r.stderr


# -- show ------------------------------------------------------------------------------------

def test_a_customer_sees_their_own_account_masked(tmp_path, server):
    run = cli(tmp_path, server.url)
    login_customer(run, WANG_PHONE, WANG_CODE)
    r = run("account", "show")
    assert_exit(r, 0)
    for text in ("王小明", "acc_1001", "active", "¥58.00", "¥0.00", "verified", "gold",
                 "M100001", "138****8000", "1101**********002X"):
        assert text in r.stdout, (text, r.stdout)
    assert WANG_PHONE not in r.stdout and WANG_ID not in r.stdout
    doc = json.loads(run("--json", "account", "show").stdout)
    assert doc["id"] == "acc_1001" and doc["balance_fen"] == 5800
    assert doc["phone_masked"] == "138****8000"
    assert json.loads(run("--json", "account", "show", "acc_1001").stdout) == doc


@pytest.mark.parametrize("other", ["acc_1002", "acc_9999"])
def test_a_customer_asking_for_another_account_gets_5_and_nothing_leaks(tmp_path, server,
                                                                        other):
    run = cli(tmp_path, server.url)
    login_customer(run, WANG_PHONE, WANG_CODE)
    r = run("account", "show", other)
    assert_exit(r, 5)
    assert r.stdout == ""
    for secret in ("李娜", "M100002", "139****5678", LI_PHONE, "12000", "silver", "3101"):
        assert secret not in r.stderr, (secret, r.stderr)
    j = run("--json", "account", "show", other)
    assert_exit(j, 5)
    assert json.loads(j.stderr)["error"]["code"] == "forbidden"


def test_the_service_answers_the_same_for_another_and_a_missing_account(server):
    tok = token_for(server.url, phone=WANG_PHONE, otp=WANG_CODE)
    a = http(server.url, "GET", "/v1/accounts/acc_1002", token=tok)
    b = http(server.url, "GET", "/v1/accounts/acc_9999", token=tok)
    assert a[0] == b[0] == 403
    ea, eb = json.loads(a[2])["error"], json.loads(b[2])["error"]
    assert (ea["code"], ea["message"]) == (eb["code"], eb["message"])


def test_staff_see_an_account_only_after_verifying_it(tmp_path, server):
    run = cli(tmp_path, server.url)
    login_staff(run)
    before = run("account", "show", "acc_1003")
    assert_exit(before, 5)
    assert "account verify" in before.stderr and "张伟" not in before.stderr
    assert_exit(run("account", "verify", "--phone", ZHANG_PHONE, "--member", "M100003"), 0)
    after = run("account", "show", "acc_1003")
    assert_exit(after, 0)
    assert "张伟" in after.stdout and "frozen" in after.stdout and "expired" in after.stdout
    assert "137****1111" in after.stdout and "4403**********123X" in after.stdout


def test_staff_need_to_name_the_account(tmp_path, server):
    run = cli(tmp_path, server.url)
    login_staff(run)
    r = run("account", "show")
    assert_exit(r, 2)
    assert "ACCOUNT" in r.stderr


def test_staff_asking_for_an_unknown_account_get_not_found(tmp_path, server):
    run = cli(tmp_path, server.url)
    login_staff(run)
    assert_exit(run("account", "show", "acc_9999"), 3)


def test_zhang_wei_logs_in_and_sees_his_frozen_account(tmp_path, server):
    run = cli(tmp_path, server.url)
    login_customer(run, ZHANG_PHONE, ZHANG_CODE)
    r = run("account", "show")
    assert_exit(r, 0)
    assert "张伟" in r.stdout and "frozen" in r.stdout and "400-000-1234" in r.stdout


# -- expired and revoked tokens --------------------------------------------------------------

def test_a_revoked_token_is_exit_4_with_the_login_hint(tmp_path, server):
    tok = token_for(server.url, phone=WANG_PHONE, otp=WANG_CODE)
    status, _, _ = http(server.url, "DELETE", "/v1/auth/token", token=tok)
    assert status == 204
    run = cli(tmp_path, server.url, CARHELP_TOKEN=tok)
    for args in (["account", "show"], ["account", "show", "acc_1001"],
                 ["account", "verify", "--phone", WANG_PHONE, "--id-last4", "002X"],
                 ["--yes", "account", "freeze", "acc_1001", "--reason", "stolen"]):
        r = run(*args)
        assert_exit(r, 4)
        assert "carhelp login" in r.stderr, r.stderr


def test_an_expired_token_is_exit_4_with_the_login_hint(tmp_path):
    # A customer token lasts 7 days: the same database, the service's clock 8 days on.
    db = tmp_path / "svc.db"
    with Private("--now", "2026-11-01T10:00:00+08:00", db=db) as first:
        tok = token_for(first.url, phone=WANG_PHONE, otp=WANG_CODE)
        assert http(first.url, "GET", "/v1/accounts/acc_1001", token=tok)[0] == 200
    with Private("--now", "2026-11-09T10:00:00+08:00", db=db) as later:
        run = cli(tmp_path, later.url, CARHELP_TOKEN=tok)
        for args in (["account", "show"],
                     ["account", "verify", "--phone", WANG_PHONE, "--id-last4", "002X"]):
            r = run(*args)
            assert_exit(r, 4)
            assert "expired" in r.stderr and "carhelp login" in r.stderr, r.stderr


# -- freeze ------------------------------------------------------------------------------------

@pytest.fixture
def dbsrv(tmp_path):
    srv = Private(db=tmp_path / "svc.db")
    srv.db = tmp_path / "svc.db"
    yield srv
    srv.stop()


def test_no_input_without_yes_is_exit_2_and_nothing_is_sent(tmp_path):
    run = cli(tmp_path, closed_port_url(), CARHELP_TOKEN=SOME_TOKEN)
    r = run("--no-input", "account", "freeze", "acc_1001", "--reason", "stolen")
    assert_exit(r, 2)
    assert "--yes" in r.stderr
    assert_exit(run("account", "freeze"), 2)   # stdin not a terminal implies --no-input


def test_no_input_without_yes_leaves_the_account_as_it_was(tmp_path, dbsrv):
    run = cli(tmp_path, dbsrv.url)
    login_customer(run, WANG_PHONE, WANG_CODE)
    assert_exit(run("--no-input", "account", "freeze"), 2)
    assert account_status(dbsrv.db, "acc_1001") == "active"
    assert audit_rows(dbsrv.db) == []


def test_staff_freeze_without_a_reason_is_exit_2_before_any_request(tmp_path, private):
    run = cli(tmp_path, private.url)
    login_staff(run)
    dead = closed_port_url()
    with chtest.token_bound_to(run.env, dead):   # its service gone: no request can be made
        r = run("--yes", "--api-url", dead, "account", "freeze", "acc_1001")
    assert_exit(r, 2)
    assert "--reason" in r.stderr


def test_staff_freeze_without_a_reason_is_refused_by_the_service_too(private):
    tok = staff_token(private.url)
    http(private.url, "POST", "/v1/accounts/verify", {"phone": WANG_PHONE, "id_last4": "002X"},
         tok)
    status, _, body = http(private.url, "POST", "/v1/accounts/acc_1001/freeze", {}, tok)
    assert status == 400 and json.loads(body)["error"]["code"] == "reason_required"


def test_staff_freeze_of_an_unverified_account_is_5_and_nothing_changes(tmp_path, dbsrv):
    run = cli(tmp_path, dbsrv.url)
    login_staff(run)
    r = run("--yes", "account", "freeze", "acc_1002", "--reason", "reported stolen")
    assert_exit(r, 5)
    assert "account verify" in r.stderr
    assert account_status(dbsrv.db, "acc_1002") == "active"
    assert audit_rows(dbsrv.db) == []


def test_staff_freeze_after_verifying_is_audited_and_idempotent(tmp_path, dbsrv):
    run = cli(tmp_path, dbsrv.url)
    login_staff(run)
    assert_exit(run("account", "verify", "--phone", LI_PHONE, "--id-last4", "3454"), 0)
    r = run("--yes", "account", "freeze", "acc_1002", "--reason", "phone reported stolen")
    assert_exit(r, 0)
    assert "acc_1002" in r.stdout and "frozen" in r.stdout
    assert account_status(dbsrv.db, "acc_1002") == "frozen"
    rows = audit_rows(dbsrv.db)
    assert len(rows) == 1
    row = rows[0]
    assert (row["actor"], row["actor_role"], row["target_type"], row["target_id"],
            row["reason"]) == ("field01", "staff", "account", "acc_1002",
                               "phone reported stolen")
    assert row["at"] > 0 and row["request_id"].startswith("req_")
    assert json.loads(row["details"]) == {"previous_status": "active", "sessions_revoked": 0}

    again = run("--yes", "--json", "account", "freeze", "acc_1002", "--reason", "again")
    assert_exit(again, 0)
    assert json.loads(again.stdout)["status"] == "frozen"
    assert account_status(dbsrv.db, "acc_1002") == "frozen"
    rows = audit_rows(dbsrv.db)
    assert len(rows) == 2 and json.loads(rows[1]["details"]) == {"previous_status": "frozen",
                                                                 "sessions_revoked": 0}


def test_a_customer_freezes_their_own_account_without_a_reason(tmp_path, dbsrv):
    run = cli(tmp_path, dbsrv.url)
    login_customer(run, WANG_PHONE, WANG_CODE)
    r = run("--yes", "--json", "account", "freeze")
    assert_exit(r, 0)
    assert json.loads(r.stdout)["status"] == "frozen"
    rows = audit_rows(dbsrv.db)
    assert [(x["actor"], x["actor_role"], x["target_id"], x["reason"]) for x in rows] == [
        ("acc_1001", "customer", "acc_1001", None)]
    assert json.loads(rows[0]["details"]) == {"previous_status": "active",
                                              "sessions_revoked": 1}
    # The freeze ended the customer's own session too, and the account logs in no more.
    assert_exit(run("account", "show"), 4)
    r = run("login", "--phone", WANG_PHONE, input=WANG_CODE + "\n")
    assert_exit(r, 5)
    assert "frozen" in r.stderr and "400-000-1234" in r.stderr


def test_a_customer_cannot_freeze_another_account(tmp_path, dbsrv):
    run = cli(tmp_path, dbsrv.url)
    login_customer(run, WANG_PHONE, WANG_CODE)
    r = run("--yes", "account", "freeze", "acc_1002", "--reason", "not mine")
    assert_exit(r, 5)
    assert "李娜" not in r.stderr
    assert account_status(dbsrv.db, "acc_1002") == "active"


def test_freezing_zhang_weis_already_frozen_account_ends_his_sessions_and_logins(tmp_path,
                                                                                 dbsrv):
    """The demo's acc_1003 is frozen by the operator and may log in; his own freeze (a lost
    phone) is a stolen-account freeze: his sessions end and his logins are refused."""
    run = cli(tmp_path, dbsrv.url)
    login_customer(run, ZHANG_PHONE, ZHANG_CODE)
    r = run("--yes", "account", "freeze", "--reason", "lost my phone")
    assert_exit(r, 0)
    assert account_status(dbsrv.db, "acc_1003") == "frozen"
    assert json.loads(audit_rows(dbsrv.db)[0]["details"]) == {"previous_status": "frozen",
                                                              "sessions_revoked": 1}
    assert_exit(run("account", "show"), 4)
    assert_exit(run("login", "--phone", ZHANG_PHONE, input=ZHANG_CODE + "\n"), 5)


def test_a_freeze_that_cannot_reach_the_service_is_6_with_the_support_number(tmp_path):
    run = cli(tmp_path, closed_port_url(), CARHELP_TOKEN=SOME_TOKEN)
    r = run("--yes", "account", "freeze", "acc_1001", "--reason", "stolen")
    assert_exit(r, 6)
    assert "400-000-1234" in r.stderr


def spawn(env, *args):
    import pexpect
    log = io.StringIO()
    child = pexpect.spawn(chtest.CARHELP, list(args), env=env, encoding="utf-8", timeout=20)
    child.logfile_read = log
    return child, log


def finish(child):
    import pexpect
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


@pytest.mark.parametrize("answer,code,status", [("n", 1, "active"), ("y", 0, "frozen")])
def test_on_a_terminal_freeze_asks_naming_the_account(tmp_path, dbsrv, answer, code, status):
    run = cli(tmp_path, dbsrv.url)
    login_customer(run, WANG_PHONE, WANG_CODE)
    child, log = spawn(run.env, "account", "freeze")
    child.expect(r"Freeze account acc_1001 \(王小明\)\?.*\[y/N\] ")
    child.sendline(answer)
    assert finish(child) == code, log.getvalue()
    assert account_status(dbsrv.db, "acc_1001") == status
    assert len(audit_rows(dbsrv.db)) == (1 if answer == "y" else 0)


def test_on_a_terminal_yes_skips_the_question(tmp_path, dbsrv):
    run = cli(tmp_path, dbsrv.url)
    login_customer(run, WANG_PHONE, WANG_CODE)
    child, log = spawn(run.env, "--yes", "account", "freeze")
    assert finish(child) == 0, log.getvalue()
    assert "[y/N]" not in log.getvalue()
    assert account_status(dbsrv.db, "acc_1001") == "frozen"


def test_account_verify_on_a_terminal_reads_the_id_without_echo(tmp_path, private):
    run = cli(tmp_path, private.url)
    login_staff(run)
    child, log = spawn(run.env, "account", "verify", "--phone", WANG_PHONE, "--id-number", "-")
    child.expect("ID number: ")
    child.sendline(WANG_ID)
    child.expect("Verified")
    assert finish(child) == 0
    assert WANG_ID not in log.getvalue()
