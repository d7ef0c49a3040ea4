"""The real carhelp CLI against the Prism proxy (CARHELP_API_URL = the proxy): every request it
makes and every answer it gets must match api/openapi.yaml. A command that succeeds here
while Prism logged a violation still fails (clean_log)."""
import json

import pytest

from contract_lib import chtest

pytestmark = pytest.mark.usefixtures("clean_log")

# acc_1001 for the successful customer login (as in the demo), acc_1003 for wrong codes.
PHONE, CODE, ACCOUNT = "13800138000", "246810", "acc_1001"
WRONG_PHONE = "13700001111"
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"


@pytest.fixture
def env(prism, tmp_path):
    return chtest.isolated_env(tmp_path, api_url=prism.url)


def carhelp(env, *args, input=None):
    return chtest.run(env, *args, input=input)


def ok(res):
    assert res.returncode == 0, (f"exit {res.returncode}\nstdout: {res.stdout}\n"
                                 f"stderr: {res.stderr}")
    return res


def test_contact(env):
    res = ok(carhelp(env, "contact"))
    assert "400-000-1234" in res.stdout


def test_contact_json(env):
    res = ok(carhelp(env, "--json", "contact"))
    json.loads(res.stdout)
    assert "400-000-1234" in res.stdout


def test_customer_login_status_doctor_logout(env):
    ok(carhelp(env, "login", "--phone", PHONE, input=CODE + "\n"))
    status = ok(carhelp(env, "auth", "status"))
    assert ACCOUNT in status.stdout or "customer" in status.stdout, status.stdout
    st = json.loads(ok(carhelp(env, "--json", "auth", "status")).stdout)
    assert json.dumps(st, ensure_ascii=False).find(ACCOUNT) >= 0, st
    ok(carhelp(env, "doctor"))
    ok(carhelp(env, "logout"))
    after = carhelp(env, "auth", "status")
    assert after.returncode == 4, (after.stdout, after.stderr)


def test_staff_login_status_logout(env):
    ok(carhelp(env, "login", "--staff", STAFF, input=STAFF_PASSWORD + "\n"))
    status = ok(carhelp(env, "auth", "status"))
    assert STAFF in status.stdout or "staff" in status.stdout, status.stdout
    ok(carhelp(env, "doctor"))
    ok(carhelp(env, "logout"))


def test_wrong_code_is_not_authenticated(env):
    # The service's 401 invalid_credentials must pass the proxy's validation too.
    res = carhelp(env, "login", "--phone", WRONG_PHONE, input="000000\n")
    assert res.returncode == 4, (res.returncode, res.stdout, res.stderr)
    assert "carhelp:" in res.stderr
    assert carhelp(env, "auth", "status").returncode == 4


def test_wrong_password_is_not_authenticated(env):
    res = carhelp(env, "login", "--staff", STAFF, input="not-the-password\n")
    assert res.returncode == 4, (res.returncode, res.stdout, res.stderr)


def test_doctor_logged_out(env):
    # Logged out, doctor still talks to meta (and maybe support status) through the proxy;
    # whether "not logged in" is a WARN or a FAIL is the CLI's business, not the contract's.
    res = carhelp(env, "--json", "doctor")
    assert res.returncode in (0, 1), (res.returncode, res.stdout, res.stderr)
    json.loads(res.stdout)
