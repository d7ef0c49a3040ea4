"""Accounts through the Prism proxy: verify (verified, not verified, 429 locked_out with
Retry-After, 400, 403) and show (200, 403 forbidden, 403 verification_required, 404), by direct
HTTP and by the real CLI. Freezing is in test_contract_freeze.py, on a service of its own.

The proxy's service is shared by the whole contract session, so nothing here changes what other
tests rely on: lockouts use phones that belong to no account (they lock the same way), and no
account is frozen here (a freeze ends the account's sessions and refuses its logins)."""
import itertools
import json
import os

import pytest

from contract_lib import assert_conforms, assert_error, chtest, http

pytestmark = pytest.mark.usefixtures("clean_log")

WANG_PHONE, WANG_ACCOUNT = "13800138000", "acc_1001"
ZHANG_PHONE, ZHANG_CODE, ZHANG_ACCOUNT = "13700001111", "112233", "acc_1003"
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"

# Phones of no account, a fresh one per use (per process, so reruns of one session differ too).
_unknown = itertools.count((os.getpid() % 10000) * 1000)


def unknown_phone():
    return f"1350{next(_unknown) % 10**7:07d}"


def bearer(doc):
    return doc["token"]


@pytest.fixture(scope="module")
def staff(prism):
    return bearer(assert_conforms(http(prism.url, "POST", "/v1/auth/token",
                                       {"staff_id": STAFF, "password": STAFF_PASSWORD}), 200))


@pytest.fixture(scope="module")
def zhang(prism):
    assert_conforms(http(prism.url, "POST", "/v1/auth/otp", {"phone": ZHANG_PHONE}), 202)
    return bearer(assert_conforms(http(prism.url, "POST", "/v1/auth/token",
                                       {"phone": ZHANG_PHONE, "otp": ZHANG_CODE}), 200))


def verify(prism, token, **body):
    return http(prism.url, "POST", "/v1/accounts/verify", body, token=token)


# -- direct HTTP ----------------------------------------------------------------------------

@pytest.mark.parametrize("fact", [{"id_last4": "002X"}, {"id_number": "11010519491231002X"},
                                  {"order_id": "ord_20261101_0001"}, {"member_id": "M100001"}])
def test_verify_each_method(prism, staff, fact):
    doc = assert_conforms(verify(prism, staff, phone=WANG_PHONE, **fact), 200)
    assert doc == {"verified": True, "account_id": WANG_ACCOUNT, "method": next(iter(fact)),
                   "attempts_left": 5}


def test_verify_not_verified(prism, staff):
    doc = assert_conforms(verify(prism, staff, phone=unknown_phone(), id_last4="1234"), 200)
    assert doc == {"verified": False, "account_id": None, "method": "id_last4",
                   "attempts_left": 4}


def test_verify_locked_out_is_429_with_retry_after(prism, staff):
    phone = unknown_phone()
    lefts = [assert_conforms(verify(prism, staff, phone=phone, member_id="M000001"), 200)
             ["attempts_left"] for _ in range(5)]
    assert lefts == [4, 3, 2, 1, 0]
    resp = verify(prism, staff, phone=phone, member_id="M000001")
    assert_error(resp, 429, "locked_out")
    assert 0 < int(resp.headers.get("Retry-After")) <= 900


def test_verify_invalid_phone_is_400(prism, staff):
    assert_error(verify(prism, staff, phone="12345", id_last4="1234"), 400, "invalid_phone")


def test_verify_another_phone_as_a_customer_is_403(prism, zhang):
    assert_error(verify(prism, zhang, phone=WANG_PHONE, id_last4="002X"), 403, "forbidden")


def test_show_own_account(prism, zhang):
    doc = assert_conforms(http(prism.url, "GET", f"/v1/accounts/{ZHANG_ACCOUNT}", token=zhang),
                          200)
    assert doc["status"] == "frozen" and doc["phone_masked"] == "137****1111"


def test_show_another_account_as_a_customer_is_403(prism, zhang):
    for other in (WANG_ACCOUNT, "acc_9999"):
        assert_error(http(prism.url, "GET", f"/v1/accounts/{other}", token=zhang), 403,
                     "forbidden")


def test_show_as_staff_needs_verification_then_works(prism):
    tok = bearer(assert_conforms(http(prism.url, "POST", "/v1/auth/token",
                                      {"staff_id": STAFF, "password": STAFF_PASSWORD}), 200))
    path = f"/v1/accounts/{ZHANG_ACCOUNT}"
    assert_error(http(prism.url, "GET", path, token=tok), 403, "verification_required")
    assert_conforms(verify(prism, tok, phone=ZHANG_PHONE, member_id="M100003"), 200)
    assert assert_conforms(http(prism.url, "GET", path, token=tok), 200)["name"] == "张伟"
    assert_error(http(prism.url, "GET", "/v1/accounts/acc_9999", token=tok), 404, "not_found")


# -- the CLI through the proxy ----------------------------------------------------------------

@pytest.fixture
def cli(prism, tmp_path):
    env = chtest.isolated_env(tmp_path, api_url=prism.url)

    def run(*args, input=None):
        return chtest.run(env, *args, input=input)
    return run


def exits(res, code):
    assert res.returncode == code, (f"exit {res.returncode}, expected {code}\n"
                                    f"stdout: {res.stdout}\nstderr: {res.stderr}")
    return res


def test_cli_staff_verify_and_show(cli):
    exits(cli("login", "--staff", STAFF, input=STAFF_PASSWORD + "\n"), 0)
    exits(cli("account", "verify", "--phone", WANG_PHONE, "--id-last4", "002X"), 0)
    exits(cli("account", "verify", "--phone", WANG_PHONE, "--id-number", "-"),
          2)   # no stdin line: refused before any request
    exits(cli("account", "verify", "--phone", ZHANG_PHONE, "--order", "ord_20261101_0001"), 1)
    exits(cli("account", "verify", "--phone", ZHANG_PHONE, "--member", "M100003"), 0)
    shown = json.loads(exits(cli("--json", "account", "show", ZHANG_ACCOUNT), 0).stdout)
    assert shown["status"] == "frozen"
    exits(cli("account", "show", "acc_1002"), 5)


def test_cli_locked_out_is_exit_9(cli):
    exits(cli("login", "--staff", STAFF, input=STAFF_PASSWORD + "\n"), 0)
    phone = unknown_phone()
    for _ in range(5):
        exits(cli("account", "verify", "--phone", phone, "--id-last4", "0000"), 1)
    res = exits(cli("account", "verify", "--phone", phone, "--id-last4", "0000"), 9)
    assert "try again after" in res.stderr


def test_cli_customer_show_own(cli):
    exits(cli("login", "--phone", ZHANG_PHONE, input=ZHANG_CODE + "\n"), 0)
    assert "张伟" in exits(cli("account", "show"), 0).stdout
    exits(cli("account", "show", WANG_ACCOUNT), 5)
