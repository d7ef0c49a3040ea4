"""Direct HTTP checks through the Prism proxy for every endpoint of the foundation issue, so the
contract is tested whether or not the CLI uses the endpoint yet. Each answer must pass Prism's
validation (no sl-violations, no problem+json, no Violation in its log) and be the documented
one for the demo data."""
import re
import time

import pytest

from contract_lib import assert_conforms, assert_error, http

pytestmark = pytest.mark.usefixtures("clean_log")

# Demo dataset (api.md). acc_1002 is used here, acc_1001 and acc_1003 by the CLI tests, so the
# suites do not share one phone's OTP state.
PHONE, CODE, ACCOUNT = "13912345678", "135790", "acc_1002"
OTHER_ACCOUNT = "acc_1001"
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def customer_login(base, phone=PHONE, code=CODE):
    assert_conforms(http(base, "POST", "/v1/auth/otp", {"phone": phone}), 202)
    return assert_conforms(http(base, "POST", "/v1/auth/token", {"phone": phone, "otp": code}),
                           200)


def staff_login(base):
    return assert_conforms(http(base, "POST", "/v1/auth/token",
                                {"staff_id": STAFF, "password": STAFF_PASSWORD}), 200)


@pytest.fixture(scope="module")
def customer(prism):
    return customer_login(prism.url)


@pytest.fixture(scope="module")
def staff(prism):
    return staff_login(prism.url)


def test_meta(prism):
    doc = assert_conforms(http(prism.url, "GET", "/v1/meta"), 200)
    assert doc["api_version"] == "1.0"
    assert doc["time_zone"] == "Asia/Shanghai"
    assert doc["idempotency_key_ttl_s"] == 2592000
    assert RFC3339.match(doc["server_time"]) and doc["server_time"].endswith("+08:00")


def test_support_status(prism):
    doc = assert_conforms(http(prism.url, "GET", "/v1/support/status"), 200)
    assert doc["time_zone"] == "Asia/Shanghai"
    assert doc["hours"] == {"open": "08:00", "close": "22:00"}
    by_number = {p["number"]: p for p in doc["phones"]}
    assert by_number["400-000-1234"]["purpose"] == "customer_service"
    assert by_number["400-000-1234"]["for_support"] is True
    assert by_number["400-000-5678"]["for_support"] is False
    assert {n for n, p in by_number.items() if p["purpose"] == "emergency"} == \
        {"122", "120", "110", "119"}
    assert [c["channel"] for c in doc["channels"]] == ["phone", "app_chat", "wechat"]
    for c in doc["channels"]:
        if not c["open_now"] and c["channel"] != "app_chat":
            assert c["estimated_wait_s"] is None


def test_otp_known_and_unknown_phone_same_answer(prism):
    known = assert_conforms(http(prism.url, "POST", "/v1/auth/otp", {"phone": PHONE}), 202)
    unknown = assert_conforms(http(prism.url, "POST", "/v1/auth/otp", {"phone": "13000000009"}),
                              202)
    assert known == unknown == {"sent": True, "expires_in_s": 300}


def test_otp_malformed_phone(prism):
    assert_error(http(prism.url, "POST", "/v1/auth/otp", {"phone": "12345"}), 400, "invalid_phone")


def test_token_customer(prism, customer):
    assert customer["role"] == "customer"
    assert customer["subject"] == ACCOUNT
    assert customer["token_type"] == "Bearer"
    assert re.fullmatch(r"[0-9a-f]{64}", customer["token"])


def test_token_staff(prism, staff):
    assert staff["role"] == "staff"
    assert staff["subject"] == STAFF


def test_token_wrong_code(prism):
    assert_conforms(http(prism.url, "POST", "/v1/auth/otp", {"phone": PHONE}), 202)
    assert_error(http(prism.url, "POST", "/v1/auth/token", {"phone": PHONE, "otp": "000000"}),
                 401, "invalid_credentials")


def test_token_wrong_password(prism):
    assert_error(http(prism.url, "POST", "/v1/auth/token",
                      {"staff_id": STAFF, "password": "not-the-password"}),
                 401, "invalid_credentials")


def test_token_unknown_staff(prism):
    assert_error(http(prism.url, "POST", "/v1/auth/token",
                      {"staff_id": "nobody99", "password": STAFF_PASSWORD}),
                 401, "invalid_credentials")


def test_whoami_customer(prism, customer):
    doc = assert_conforms(http(prism.url, "GET", "/v1/auth/whoami", token=customer["token"]), 200)
    assert doc == {"subject": ACCOUNT, "role": "customer", "name": "李娜",
                   "account_id": ACCOUNT, "expires_at": doc["expires_at"]}
    assert RFC3339.match(doc["expires_at"])


def test_whoami_staff(prism, staff):
    doc = assert_conforms(http(prism.url, "GET", "/v1/auth/whoami", token=staff["token"]), 200)
    assert doc["role"] == "staff" and doc["subject"] == STAFF
    assert doc["account_id"] is None


def test_whoami_bad_token(prism):
    assert_error(http(prism.url, "GET", "/v1/auth/whoami", token="0" * 64), 401, "token_invalid")


def test_account_own(prism, customer):
    doc = assert_conforms(http(prism.url, "GET", f"/v1/accounts/{ACCOUNT}",
                               token=customer["token"]), 200)
    assert doc["id"] == ACCOUNT
    assert doc["member_id"] == "M100002"
    assert doc["phone_masked"] == "139****5678"
    assert doc["id_number_masked"] == "3101**********3454"
    assert (doc["status"], doc["balance_fen"], doc["deposit_fen"]) == ("active", 12000, 0)
    assert (doc["licence_status"], doc["member_level"]) == ("verified", "silver")


def test_account_other_is_forbidden(prism, customer):
    existing = assert_error(http(prism.url, "GET", f"/v1/accounts/{OTHER_ACCOUNT}",
                                 token=customer["token"]), 403, "forbidden")
    missing = assert_error(http(prism.url, "GET", "/v1/accounts/acc_9999",
                                token=customer["token"]), 403, "forbidden")
    # Nothing leaked: the same answer whether the account exists or not.
    assert existing["error"]["message"] == missing["error"]["message"]


def test_account_staff_needs_verification(prism, staff):
    assert_error(http(prism.url, "GET", f"/v1/accounts/{OTHER_ACCOUNT}", token=staff["token"]),
                 403, "verification_required")


def test_account_staff_unknown(prism, staff):
    assert_error(http(prism.url, "GET", "/v1/accounts/acc_9999", token=staff["token"]),
                 404, "not_found")


def test_revoke_token(prism):
    token = staff_login(prism.url)["token"]
    resp = http(prism.url, "DELETE", "/v1/auth/token", token=token)
    assert assert_conforms(resp, 204) is None
    assert resp.body == b""
    assert_error(http(prism.url, "GET", "/v1/auth/whoami", token=token), 401, "token_revoked")


def test_no_secrets_in_service_log(prism, server, customer, staff):
    """Tokens, passwords and full ID numbers never reach the service's log (its stderr)."""
    assert_conforms(http(prism.url, "GET", "/v1/auth/whoami", token=customer["token"]), 200)
    time.sleep(0.3)  # the log is drained by a thread
    log = "".join(server.log_lines)
    assert log, "the service logged nothing at all"
    for secret in (customer["token"], staff["token"], STAFF_PASSWORD, "310115198805123454"):
        assert secret not in log
