"""login, logout and `auth status` against the real reference service: customer code and
staff password on stdin, --with-token, the credentials file, and what never gets printed."""
import json
import os
import socket
import stat
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

DEMO_PHONE = "13800138000"
DEMO_CODE = "246810"
STAFF_ID = "field01"
STAFF_PASSWORD = "field01-demo-pass"


def closed_port_url():
    """A loopback URL where nothing listens: any request there fails with exit 6."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def creds_file(env):
    return Path(env["CARHELP_CONFIG_DIR"]) / "credentials"


def stored_token(env):
    for line in creds_file(env).read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "token":
            return value.strip()
    raise AssertionError("no token in the credentials file")


def test_customer_login_with_code_on_stdin_then_status_names_the_customer(carhelp):
    r = carhelp("login", "--phone", DEMO_PHONE, input=DEMO_CODE + "\n")
    assert r.returncode == 0, r.stderr
    assert "Logged in as 王小明 (customer acc_1001) until" in r.stdout
    assert DEMO_PHONE not in r.stdout + r.stderr          # masked everywhere
    assert "138****8000" in r.stderr

    s = carhelp("auth", "status")
    assert s.returncode == 0, s.stderr
    assert "王小明" in s.stdout
    assert "customer" in s.stdout and "acc_1001" in s.stdout
    assert "expires in 6 d" in s.stdout or "expires in 7 d" in s.stdout
    assert carhelp.env["CARHELP_API_URL"] in s.stdout
    assert "credentials file" in s.stdout
    assert DEMO_PHONE not in s.stdout


def test_login_accepts_a_phone_with_spaces_and_country_code(carhelp):
    r = carhelp("login", "--phone", "+86 138 0013 8000", input=DEMO_CODE + "\n")
    assert r.returncode == 0, r.stderr
    assert "acc_1001" in r.stdout


def test_wrong_code_exits_4_with_the_services_message_and_stores_nothing(carhelp):
    r = carhelp("login", "--phone", DEMO_PHONE, input="000000\n")
    assert r.returncode == 4, (r.stdout, r.stderr)
    assert r.stderr.startswith("carhelp: ")
    assert "000000" not in r.stderr
    assert not creds_file(carhelp.env).exists()


def test_invalid_phone_exits_2_before_any_request(carhelp):
    # Nothing listens at the URL: a request would be exit 6, so exit 2 proves none was sent.
    r = carhelp("login", "--phone", "12345", input=DEMO_CODE + "\n",
                CARHELP_API_URL=closed_port_url())
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "--phone" in r.stderr
    assert r.stderr.count("\n") <= 2


def test_code_that_is_not_4_to_8_digits_exits_2(carhelp):
    for bad in ("12", "123456789", "12ab56", ""):
        r = carhelp("login", "--phone", DEMO_PHONE, input=bad + "\n")
        assert r.returncode == 2, (bad, r.stderr)
        assert "4 to 8 digits" in r.stderr
    assert not creds_file(carhelp.env).exists()


def test_missing_code_on_stdin_exits_2(carhelp):
    r = carhelp("login", "--phone", DEMO_PHONE, input="")
    assert r.returncode == 2, r.stderr


def test_full_width_code_from_an_input_method_is_accepted(carhelp):
    r = carhelp("login", "--phone", DEMO_PHONE, input="２４６８１０\n")
    assert r.returncode == 0, r.stderr


def test_staff_login_with_password_from_stdin(carhelp):
    r = carhelp("login", "--staff", STAFF_ID, input=STAFF_PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert "staff field01" in r.stdout
    assert STAFF_PASSWORD not in r.stdout + r.stderr
    s = carhelp("auth", "status", "--json")
    assert s.returncode == 0, s.stderr
    doc = json.loads(s.stdout)
    assert doc["role"] == "staff" and doc["subject"] == "field01"


def test_staff_login_with_wrong_password_exits_4(carhelp):
    r = carhelp("login", "--staff", STAFF_ID, input="not-the-password\n")
    assert r.returncode == 4, r.stderr
    assert "not-the-password" not in r.stdout + r.stderr
    assert not creds_file(carhelp.env).exists()


def test_staff_id_is_validated_before_any_request(carhelp):
    r = carhelp("login", "--staff", "field 01!", input=STAFF_PASSWORD + "\n",
                CARHELP_API_URL=closed_port_url())
    assert r.returncode == 2, r.stderr
    assert "--staff" in r.stderr


def test_with_token_round_trip(carhelp, tmp_path, server):
    r = carhelp("login", "--phone", DEMO_PHONE, input=DEMO_CODE + "\n")
    assert r.returncode == 0, r.stderr
    token = stored_token(carhelp.env)

    other = chtest.isolated_env(tmp_path / "other", server.url)
    w = chtest.run(other, "login", "--with-token", "--json", input=token + "\n")
    assert w.returncode == 0, w.stderr
    doc = json.loads(w.stdout)
    assert set(doc) == {"subject", "role", "expires_at", "api_url"}
    assert doc["subject"] == "acc_1001" and doc["role"] == "customer"
    assert doc["api_url"] == server.url
    assert token not in w.stdout + w.stderr
    assert stored_token(other) == token

    s = chtest.run(other, "auth", "status")
    assert s.returncode == 0, s.stderr
    assert "王小明" in s.stdout


def test_with_token_rejects_a_token_the_service_does_not_know(carhelp):
    r = carhelp("login", "--with-token", input="f" * 64 + "\n")
    assert r.returncode == 4, r.stderr
    assert "f" * 64 not in r.stderr
    assert not creds_file(carhelp.env).exists()


def test_with_token_rejects_an_empty_or_spaced_line_without_a_request(carhelp):
    for bad in ("\n", "two words\n"):
        r = carhelp("login", "--with-token", input=bad, CARHELP_API_URL=closed_port_url())
        assert r.returncode == 2, (bad, r.stderr)


def test_phone_and_staff_together_exit_2(carhelp):
    r = carhelp("login", "--phone", DEMO_PHONE, "--staff", STAFF_ID, input="x\n",
                CARHELP_API_URL=closed_port_url())
    assert r.returncode == 2, r.stderr
    assert "--phone" in r.stderr and "--staff" in r.stderr


def test_login_without_a_method_off_a_terminal_exits_2(carhelp):
    r = carhelp("login", input="")
    assert r.returncode == 2, r.stderr
    assert "pass --phone, --staff or --with-token" in r.stderr


def test_credentials_are_0600_and_the_token_is_never_printed(carhelp):
    for verbosity in ([], ["-v"], ["-vv"]):
        outputs = []
        r = carhelp(*verbosity, "login", "--phone", DEMO_PHONE, input=DEMO_CODE + "\n")
        assert r.returncode == 0, r.stderr
        outputs.append(r.stdout + r.stderr)
        token = stored_token(carhelp.env)
        mode = stat.S_IMODE(os.stat(creds_file(carhelp.env)).st_mode)
        assert mode == 0o600, oct(mode)
        for args in (["auth", "status"], ["auth", "status", "--json"], ["doctor"], ["logout"]):
            s = carhelp(*verbosity, *args)
            outputs.append(s.stdout + s.stderr)
        text = "".join(outputs)
        assert token not in text, f"token leaked with {verbosity}"
        assert DEMO_CODE not in text, f"one-time code leaked with {verbosity}"
        if verbosity:   # the trace is really there, only without the secrets
            assert "/v1/auth/token" in text and "/v1/auth/whoami" in text


def test_logout_revokes_the_token_at_the_service(logged_in):
    token = stored_token(logged_in.env)
    r = logged_in("logout")
    assert r.returncode == 0, r.stderr
    assert "revoked" in r.stdout
    s = logged_in("auth", "status")
    assert s.returncode == 4, s.stderr
    assert "carhelp login" in s.stderr
    # The old token itself is dead at the service, not just deleted here.
    old = logged_in("auth", "status", CARHELP_TOKEN=token)
    assert old.returncode == 4, old.stderr
    assert token not in old.stdout + old.stderr


def test_logout_with_an_already_invalid_token_still_removes_it(logged_in, tmp_path, server):
    token = stored_token(logged_in.env)
    other = chtest.isolated_env(tmp_path / "other", server.url, CARHELP_TOKEN=token)
    assert chtest.run(other, "logout").returncode == 0       # revoked via the env token
    r = logged_in("logout")
    assert r.returncode == 0, r.stderr
    assert "already invalid" in r.stderr
    assert logged_in("auth", "status").returncode == 4


def bind_stored_token_to(env, url):
    """The credential as if it had been issued by `url` (a service since gone): a stored
    token is only ever sent to the origin it was issued for."""
    path = Path(env["CARHELP_CONFIG_DIR"]) / "credentials"
    path.write_text("".join(f"api_url = {url}\n" if l.startswith("api_url") else l
                            for l in path.read_text().splitlines(True)))


def test_logout_against_a_dead_server_removes_locally_and_exits_6(logged_in):
    dead = closed_port_url()
    bind_stored_token_to(logged_in.env, dead)
    r = logged_in("logout", CARHELP_API_URL=dead)
    assert r.returncode == 6, (r.stdout, r.stderr)
    assert "may stay valid until" in r.stderr
    s = logged_in("auth", "status")
    assert s.returncode == 4


def test_logout_with_carhelp_token_revokes_and_says_there_is_no_file(logged_in, tmp_path, server):
    token = stored_token(logged_in.env)
    other = chtest.isolated_env(tmp_path / "other", server.url, CARHELP_TOKEN=token)
    r = chtest.run(other, "logout")
    assert r.returncode == 0, r.stderr
    assert "CARHELP_TOKEN" in r.stderr and "no local file" in r.stderr
    assert token not in r.stdout + r.stderr
    assert logged_in("auth", "status").returncode == 4      # revoked for everyone


def test_logout_when_not_logged_in_exits_4(carhelp):
    r = carhelp("logout")
    assert r.returncode == 4, r.stderr


def test_auth_status_when_not_logged_in_exits_4_with_login_hint(carhelp):
    r = carhelp("auth", "status")
    assert r.returncode == 4, r.stderr
    assert "carhelp login" in r.stderr
    assert r.stdout == ""


def test_auth_status_refuses_a_world_readable_credentials_file(logged_in):
    path = creds_file(logged_in.env)
    os.chmod(path, 0o644)
    r = logged_in("auth", "status")
    assert r.returncode == 4, r.stderr
    assert f"chmod 600 {path}" in r.stderr


def test_auth_status_json_is_whoami_plus_api_url_and_source(logged_in):
    r = logged_in("auth", "status", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["subject"] == "acc_1001"
    assert doc["name"] == "王小明"
    assert doc["role"] == "customer"
    assert doc["api_url"] == logged_in.env["CARHELP_API_URL"]
    assert doc["token_source"] == "credentials_file"
    assert "token" not in doc
    e = logged_in("auth", "status", "--json", CARHELP_TOKEN=stored_token(logged_in.env))
    assert json.loads(e.stdout)["token_source"] == "CARHELP_TOKEN"


def test_auth_status_with_a_garbage_env_token_exits_4(carhelp):
    r = carhelp("auth", "status", CARHELP_TOKEN="deadbeef" * 8)
    assert r.returncode == 4, r.stderr
    assert "deadbeef" not in r.stderr


def spawn(env, *args):
    import io
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


def test_login_on_a_terminal_asks_for_phone_and_code_without_echoing_the_code(env):
    child, log = spawn(env, "login")
    child.expect("Phone: ")
    child.sendline(DEMO_PHONE)
    child.expect(r"Code sent to 138\*\*\*\*8000: ")
    child.sendline(DEMO_CODE)
    child.expect("Logged in as 王小明")
    assert finish(child) == 0
    assert DEMO_CODE not in log.getvalue()


def test_staff_password_on_a_terminal_is_not_echoed(env):
    child, log = spawn(env, "login", "--staff", STAFF_ID)
    child.expect("Password for field01: ")
    child.sendline(STAFF_PASSWORD)
    child.expect("Logged in as field01")
    assert finish(child) == 0
    assert STAFF_PASSWORD not in log.getvalue()


def test_no_input_on_a_terminal_refuses_to_prompt(env):
    child, log = spawn(env, "--no-input", "login")
    assert finish(child) == 2
    assert "pass --phone, --staff or --with-token" in log.getvalue()
