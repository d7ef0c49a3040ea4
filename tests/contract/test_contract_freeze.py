"""Freezing through the Prism proxy: POST /v1/accounts/{id}/freeze (200, idempotent, 400
reason_required, 403), what a freeze does to the account's sessions (401 token_revoked) and
logins (403 account_frozen), and a frozen account's vehicle commands (403 account_frozen), by
direct HTTP and by the real CLI. Every exchange must match api/openapi.yaml.

A freeze ends sessions and blocks logins, which would break every other test of the shared
contract service: this module runs its own service and Prism. Tests may run in any order and
on any worker, so each one changes a single account of its own: 李娜 is frozen by staff,
王小明 freezes himself, and 张伟 (frozen in the demo data by the operator) is only read."""
import uuid
from urllib.parse import quote

import pytest

from contract_lib import Prism, assert_conforms, assert_error, chtest, http

WANG_PHONE, WANG_CODE, WANG_ACCOUNT = "13800138000", "246810", "acc_1001"
LI_PHONE, LI_CODE, LI_ACCOUNT = "13912345678", "135790", "acc_1002"
ZHANG_PHONE, ZHANG_CODE, ZHANG_ACCOUNT = "13700001111", "112233", "acc_1003"
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"
SUPPORT = "400-000-1234"


@pytest.fixture(scope="module")
def server():
    srv = chtest.Server("--vehicle-delay-ms", "100")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def prism(server, tmp_path_factory):
    p = Prism(server.url, tmp_path_factory.mktemp("prism-freeze") / "prism.log")
    yield p
    p.stop()


@pytest.fixture(autouse=True)
def clean_log(prism):
    mark = prism.mark()
    yield prism
    problems = prism.problems_since(mark)
    assert not problems, "Prism reported contract problems:\n" + "\n".join(problems)


def staff_token(prism):
    return assert_conforms(http(prism.url, "POST", "/v1/auth/token",
                                {"staff_id": STAFF, "password": STAFF_PASSWORD}), 200)["token"]


def otp(prism, phone):
    assert_conforms(http(prism.url, "POST", "/v1/auth/otp", {"phone": phone}), 202)


def login(prism, phone, code):
    otp(prism, phone)
    return http(prism.url, "POST", "/v1/auth/token", {"phone": phone, "otp": code})


def customer_token(prism, phone, code):
    return assert_conforms(login(prism, phone, code), 200)["token"]


def command(prism, vehicle, token, key=None):
    headers = {"Idempotency-Key": key} if key else None
    return http(prism.url, "POST", f"/v1/vehicles/{quote(vehicle, safe='')}/commands",
                {"type": "unlock"}, token=token, headers=headers)


def cli(prism, tmp_path, name):
    env = chtest.isolated_env(tmp_path / name, api_url=prism.url)

    def run(*args, input=None):
        return chtest.run(env, *args, input=input)
    return run


def exits(res, code):
    assert res.returncode == code, (f"exit {res.returncode}, expected {code}\n"
                                    f"stdout: {res.stdout}\nstderr: {res.stderr}")
    return res


def test_an_account_frozen_by_the_operator_logs_in_but_its_vehicle_commands_are_403(prism):
    zhang = customer_token(prism, ZHANG_PHONE, ZHANG_CODE)
    doc = assert_conforms(http(prism.url, "GET", f"/v1/accounts/{ZHANG_ACCOUNT}", token=zhang),
                          200)
    assert doc["status"] == "frozen"
    for vehicle in ("veh_003", "京AD12345"):     # a free car, and another customer's by plate
        assert_error(command(prism, vehicle, zhang), 403, "account_frozen")
    key = f"contract-frozen-{uuid.uuid4()}"
    for _ in range(2):                          # with a key: refused each time, nothing kept
        assert_error(command(prism, "veh_003", zhang, key), 403, "account_frozen")


def test_staff_freeze_ends_the_sessions_and_refuses_the_login(prism, tmp_path):
    li = customer_token(prism, LI_PHONE, LI_CODE)
    staff = cli(prism, tmp_path, "staff")
    exits(staff("login", "--staff", STAFF, input=STAFF_PASSWORD + "\n"), 0)
    exits(staff("account", "show", LI_ACCOUNT), 5)          # not verified yet
    exits(staff("account", "verify", "--phone", LI_PHONE, "--id-last4", "3454"), 0)
    exits(staff("--yes", "account", "freeze", LI_ACCOUNT, "--reason", "phone reported stolen"), 0)

    tok = staff_token(prism)
    path = f"/v1/accounts/{LI_ACCOUNT}/freeze"
    assert_conforms(http(prism.url, "POST", "/v1/accounts/verify",
                         {"phone": LI_PHONE, "member_id": "M100002"}, token=tok), 200)
    assert_error(http(prism.url, "POST", path, {}, token=tok), 400, "reason_required")
    for _ in range(2):   # idempotent: the frozen account, unchanged
        doc = assert_conforms(http(prism.url, "POST", path, {"reason": "phone reported stolen"},
                                   token=tok), 200)
        assert doc["id"] == LI_ACCOUNT and doc["status"] == "frozen"

    assert_error(http(prism.url, "GET", f"/v1/accounts/{LI_ACCOUNT}", token=li), 401,
                 "token_revoked")
    assert_error(command(prism, "veh_003", li), 401, "token_revoked")
    assert_error(login(prism, LI_PHONE, LI_CODE), 403, "account_frozen")
    assert_error(login(prism, LI_PHONE, "000000"), 401, "invalid_credentials")


def test_a_customer_freezing_their_own_account_logs_out_everywhere(prism, tmp_path):
    other_session = customer_token(prism, WANG_PHONE, WANG_CODE)
    wang = cli(prism, tmp_path, "wang")
    exits(wang("login", "--phone", WANG_PHONE, input=WANG_CODE + "\n"), 0)
    assert "王小明" in exits(wang("account", "show"), 0).stdout
    exits(wang("account", "show", LI_ACCOUNT), 5)
    exits(wang("--yes", "account", "freeze", LI_ACCOUNT, "--reason", "not mine"), 5)
    exits(wang("--yes", "--json", "account", "freeze"), 0)

    assert_error(http(prism.url, "GET", "/v1/auth/whoami", token=other_session), 401,
                 "token_revoked")
    assert_error(http(prism.url, "POST", f"/v1/accounts/{WANG_ACCOUNT}/freeze", {},
                      token=other_session), 401, "token_revoked")
    exits(wang("unlock", "京AD12345", "--yes", "--no-wait"), 4)
    r = exits(wang("login", "--phone", WANG_PHONE, input=WANG_CODE + "\n"), 5)
    assert SUPPORT in r.stderr
    assert_error(login(prism, WANG_PHONE, WANG_CODE), 403, "account_frozen")
