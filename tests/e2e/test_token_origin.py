"""A stored token is bound to the origin (scheme, host, port) it was issued for: pointed at any
other service — by --api-url, CARHELP_API_URL or the config's api_url — carhelp sends nothing
there and exits 4 naming both origins. A token given for the call (CARHELP_TOKEN) goes where
it is sent. A 3xx answer is never followed and never a success: exit 7 naming where it points.

A trap server (Python http.server on 127.0.0.1, in this file) records every request it gets
with its headers; each refusal is proven by the trap having received no request at all, and a
control test proves the trap does see a token when one is sent to it."""
import http.server
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

DEMO_PHONE, DEMO_CODE = "13800138000", "246810"
WHOAMI = {"subject": "acc_1001", "role": "customer", "name": "王小明", "account_id": "acc_1001",
          "expires_at": "2099-12-02T19:41:00+08:00"}
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Recorder(http.server.BaseHTTPRequestHandler):
    """Records (method, path, headers) of every request, then lets the server's `answer`
    decide the reply: (status, headers dict, body bytes)."""

    def _any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        self.server.requests.append((self.command, self.path, dict(self.headers.items())))
        status, headers, out = self.server.answer(self, body)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _any

    def log_message(self, *args):
        pass


class Trap:
    """A server on 127.0.0.1 port 0 recording every request; answers whoami like a service
    (so `login --with-token` can bind a profile to it) and everything else 503."""

    def __init__(self, answer=None):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        self.httpd.requests = []
        self.httpd.answer = answer or self.default_answer
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def default_answer(handler, body):
        js = {"Content-Type": "application/json", "X-Request-Id": "req_trap"}
        if handler.path == "/v1/auth/whoami":
            return 200, js, json.dumps(WHOAMI).encode()
        err = {"error": {"code": "unavailable", "message": "trap", "request_id": "req_trap"}}
        return 503, js, json.dumps(err).encode()

    @property
    def requests(self):
        return self.httpd.requests

    def authorizations(self):
        return [h.get("Authorization") for _, _, h in self.requests if h.get("Authorization")]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def trap():
    t = Trap()
    yield t
    t.close()


def stored(env):
    """The credentials file's sections as {profile: {key: value}}."""
    out, cur = {}, None
    for line in (Path(env["CARHELP_CONFIG_DIR"]) / "credentials").read_text().splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            cur = out.setdefault(line[1:-1], {})
        elif "=" in line and cur is not None and not line.startswith("#"):
            k, v = line.split("=", 1)
            cur[k.strip()] = v.strip()
    return out


def origin(url):
    return url.rstrip("/")


def assert_refused(r, trap, issued_for, profile="default"):
    assert r.returncode == 4, (r.returncode, r.stderr)
    assert trap.requests == [], trap.requests
    line = (f"the token of profile '{profile}' was issued for {origin(issued_for)}, "
            f"not {origin(trap.url)}")
    assert line in r.stderr, r.stderr
    assert "using it anyway" not in r.stderr


# ---- each way of pointing carhelp elsewhere ---------------------------------------------------

def test_api_url_option_to_another_origin_sends_nothing_and_exits_4(logged_in, server, trap):
    r = logged_in("--api-url", trap.url, "order", "list")
    assert_refused(r, trap, server.url)
    assert f"hint: run 'carhelp --api-url {trap.url} login' to log in there" in r.stderr
    assert r.stderr.startswith("carhelp: ")


def test_environment_api_url_to_another_origin_sends_nothing(logged_in, server, trap):
    r = logged_in("ticket", "list", CARHELP_API_URL=trap.url)
    assert_refused(r, trap, server.url)


def test_config_api_url_of_the_profile_to_another_origin_sends_nothing(carhelp, server, trap):
    r = carhelp("--profile", "field", "login", "--phone", DEMO_PHONE, input=DEMO_CODE + "\n")
    assert r.returncode == 0, r.stderr
    cfg = Path(carhelp.env["CARHELP_CONFIG_DIR"]) / "config"
    cfg.write_text(f"[profile field]\napi_url = {trap.url}\n")
    env = dict(carhelp.env)
    del env["CARHELP_API_URL"]
    r = carhelp("--profile", "field", "account", "show", env=env)
    assert_refused(r, trap, server.url, profile="field")
    assert f"run 'carhelp --profile field --api-url {trap.url} login'" in r.stderr


def test_json_error_has_the_token_origin_code(logged_in, server, trap):
    r = logged_in("--json", "--api-url", trap.url, "vehicle", "show", "京AD12345")
    assert r.returncode == 4 and trap.requests == []
    err = json.loads(r.stderr)["error"]
    assert err["code"] == "token_origin" and err["exit_code"] == 4
    assert origin(server.url) in err["message"] and origin(trap.url) in err["message"]
    assert "login" in err["hint"]


@pytest.mark.parametrize("args", [("auth", "status"), ("auth", "status", "--json"), ("logout",),
                                  ("report", "feedback", "--message", "hello")],
                         ids=["auth-status", "auth-status-json", "logout", "report"])
def test_every_command_that_loads_the_token_refuses_another_origin(logged_in, server, trap, args):
    r = logged_in("--api-url", trap.url, *args)
    assert_refused(r, trap, server.url)
    # Nothing was revoked or deleted: the token still works where it belongs.
    assert stored(logged_in.env)["default"]["api_url"] == server.url
    assert logged_in("auth", "status").returncode == 0


def test_shell_commands_refuse_another_origin(logged_in, server, trap):
    r = logged_in("--api-url", trap.url, "shell", input="order list\nticket list\n")
    assert trap.requests == [], trap.requests
    assert r.stderr.count(f"was issued for {server.url}, not {trap.url}") == 2, r.stderr


def test_a_shell_line_pointing_elsewhere_is_refused_and_the_next_line_works(logged_in, server,
                                                                              trap):
    r = logged_in("shell", input=f"order list --api-url {trap.url}\nticket list\n")
    assert trap.requests == [], trap.requests
    assert r.stderr.count(f"was issued for {server.url}, not {trap.url}") == 1, r.stderr
    assert "No tickets." in r.stdout or "tkt_" in r.stdout, r.stdout


def test_the_hint_names_the_profiles_bound_to_that_origin(logged_in, server, trap):
    r = logged_in("--profile", "trapped", "--api-url", trap.url, "login", "--with-token",
                  input="a" * 64 + "\n")
    assert r.returncode == 0, r.stderr
    trap.requests.clear()
    r = logged_in("--api-url", trap.url, "order", "list")
    assert_refused(r, trap, server.url)
    assert "or use --profile trapped" in r.stderr


# ---- what still goes where it is sent ---------------------------------------------------------

def test_control_an_explicit_token_goes_to_the_url_given_with_it(logged_in, trap):
    """The trap does see a token sent to it: CARHELP_TOKEN is meant for this call's URL."""
    r = logged_in("--api-url", trap.url, "auth", "status", CARHELP_TOKEN="t" * 40)
    assert r.returncode == 0, r.stderr
    assert trap.authorizations() == ["Bearer " + "t" * 40]


def test_login_with_token_binds_the_profile_to_the_trap_and_uses_it_there(carhelp, trap):
    token = "b" * 48
    r = carhelp("--api-url", trap.url, "login", "--with-token", input=token + "\n")
    assert r.returncode == 0, r.stderr
    assert stored(carhelp.env)["default"]["api_url"] == trap.url
    assert trap.authorizations() == ["Bearer " + token]
    r = carhelp("--api-url", trap.url + "/", "--json", "auth", "status")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["origin"] == trap.url
    assert trap.authorizations() == ["Bearer " + token] * 2


def test_a_stored_token_without_its_api_is_refused(logged_in, trap):
    cred = Path(logged_in.env["CARHELP_CONFIG_DIR"]) / "credentials"
    cred.write_text("".join(l for l in cred.read_text().splitlines(True)
                            if not l.startswith("api_url")))
    r = logged_in("order", "list", CARHELP_API_URL=trap.url)
    assert r.returncode == 4, r.stderr
    assert trap.requests == []
    assert "does not say which service issued it" in r.stderr
    assert "to log in again" in r.stderr


# ---- auth status shows the origin -------------------------------------------------------------

def test_auth_status_shows_the_bound_origin(logged_in, server):
    r = logged_in("auth", "status")
    assert r.returncode == 0, r.stderr
    assert any(l.split() == ["bound", "to", server.url] for l in r.stdout.splitlines()), r.stdout
    doc = json.loads(logged_in("--json", "auth", "status").stdout)
    assert doc["origin"] == server.url and doc["token_source"] == "credentials_file"
    env_doc = json.loads(logged_in("--json", "auth", "status",
                                   CARHELP_TOKEN=stored(logged_in.env)["default"]["token"]).stdout)
    assert env_doc["origin"] is None and env_doc["token_source"] == "CARHELP_TOKEN"


# ---- the same origin, written differently -----------------------------------------------------

@pytest.mark.parametrize("spell", ["{url}/", "{URL}", "{URL}/v1/"],
                         ids=["trailing-slash", "upper-case", "with-a-path"])
def test_the_same_origin_spelled_differently_is_the_same(logged_in, server, spell):
    url = spell.format(url=server.url, URL=server.url.replace("http://", "HTTP://"))
    r = logged_in("--api-url", url, "auth", "status")
    if spell.endswith("/v1/"):
        # Same origin: the token was not refused (the path is this URL's own business).
        assert r.returncode != 4 and "issued" not in r.stderr, r.stderr
        return
    assert r.returncode == 0, r.stderr
    assert "issued" not in r.stderr


def test_port_80_is_the_default_port_of_http(carhelp, tmp_path):
    cred = Path(carhelp.env["CARHELP_CONFIG_DIR"]) / "credentials"
    cred.write_text("[default]\ntoken = " + "c" * 40 + "\nexpires_at = 2099-01-01T00:00:00Z\n"
                    "role = customer\nsubject = acc_1001\napi_url = http://127.0.0.1:80/\n")
    cred.chmod(0o600)
    r = carhelp("--api-url", "http://127.0.0.1", "--retries", "0", "--timeout", "5",
                "order", "list")
    assert r.returncode != 4 and "issued" not in r.stderr, r.stderr
    r = carhelp("--api-url", "http://127.0.0.1:81", "order", "list")
    assert r.returncode == 4 and "was issued for http://127.0.0.1:80, not http://127.0.0.1:81" \
        in r.stderr, r.stderr


# ---- redirects --------------------------------------------------------------------------------

class Redirector:
    """Forwards the login requests to the real service (so a profile is bound to this origin
    for real) and answers every other request 307 to the trap, same path."""

    def __init__(self, service_url, target_url):
        self.service, self.target = service_url, target_url
        self.srv = Trap(answer=self.answer)
        self.url = self.srv.url

    def answer(self, handler, body):
        if handler.path.startswith("/v1/auth/otp") or handler.path.startswith("/v1/auth/token"):
            req = urllib.request.Request(self.service + handler.path, data=body,
                                         method=handler.command,
                                         headers={"Content-Type": "application/json"})
            try:
                with _direct.open(req, timeout=10) as resp:
                    return resp.status, {"Content-Type": "application/json"}, resp.read()
            except urllib.error.HTTPError as e:
                return e.code, {"Content-Type": "application/json"}, e.read()
        return 307, {"Location": self.target + handler.path, "Content-Type": "application/json",
                     "X-Request-Id": "req_redirect"}, b'{"error":{"code":"token_expired"}}'

    def close(self):
        self.srv.close()


def test_a_redirect_is_not_followed_and_is_exit_7_naming_its_target(carhelp, server, trap):
    red = Redirector(server.url, trap.url)
    try:
        r = carhelp("--api-url", red.url, "login", "--phone", DEMO_PHONE, input=DEMO_CODE + "\n")
        assert r.returncode == 0, r.stderr
        r = carhelp("--api-url", red.url, "order", "list")
        assert r.returncode == 7, (r.returncode, r.stderr)
        assert trap.requests == [], trap.requests
        assert (f"the service answered 307 redirecting to {trap.url}; carhelp does not follow "
                "redirects") in r.stderr, r.stderr
        # The redirecting service is the one the token is bound to: it did get the request.
        assert any(h.get("Authorization") for _, _, h in red.srv.requests), red.srv.requests
        j = carhelp("--json", "--api-url", red.url, "auth", "status")
        assert j.returncode == 7 and json.loads(j.stderr)["error"]["code"] == "redirect"
        assert trap.requests == []
    finally:
        red.close()


def test_a_redirect_target_is_shown_through_the_sanitiser(carhelp, trap):
    hostile = Trap(answer=lambda h, b: (302, {"Location": "http://evil\x1b[31m.test/x"}, b""))
    try:
        r = carhelp("--api-url", hostile.url, "auth", "status", CARHELP_TOKEN="t" * 40)
        assert r.returncode == 7, r.stderr
        assert "\x1b" not in r.stderr
        assert "carhelp does not follow redirects" in r.stderr
        assert hostile.requests
    finally:
        hostile.close()


# ---- the outbox -------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(port, db):
    for _ in range(50):
        try:
            return chtest.Server("--listen", f"127.0.0.1:{port}", db=db)
        except RuntimeError:
            time.sleep(0.1)
    raise RuntimeError("service did not start")


def test_outbox_flush_delivers_to_its_own_service_not_the_one_pointed_at(tmp_path, trap):
    port, db = free_port(), tmp_path / "svc.db"
    svc = start_service(port, db)
    env = chtest.isolated_env(tmp_path, svc.url)
    try:
        assert chtest.run(env, "login", "--phone", DEMO_PHONE,
                          input=DEMO_CODE + "\n").returncode == 0
        svc.stop()
        r = chtest.run(dict(env, CARHELP_RETRIES="0"), "report", "feedback", "--message", "late")
        assert r.returncode == 10, r.stderr
        svc = start_service(port, db)
        r = chtest.run(env, "--api-url", trap.url, "outbox", "flush")
        assert r.returncode == 0, r.stderr
        assert trap.requests == []
        r = chtest.run(env, "--json", "ticket", "list")
        assert any(t["message"] == "late" for t in json.loads(r.stdout)["items"]), r.stdout
    finally:
        svc.stop()


def test_outbox_item_for_another_origin_never_gets_the_stored_token(logged_in, trap):
    # Written with a token given for that call, to a service answering 503: saved for it.
    r = logged_in("--api-url", trap.url, "--retries", "0", "report", "feedback",
                  "--message", "queued", CARHELP_TOKEN="e" * 40)
    assert r.returncode == 10, r.stderr
    assert trap.authorizations() == ["Bearer " + "e" * 40]
    trap.requests.clear()
    # Flushed without it: the profile's stored token belongs to the demo service, not the trap.
    r = logged_in("outbox", "flush")
    assert r.returncode == 4, r.stderr
    assert trap.requests == []
    assert f"not {trap.url}" in r.stderr
    outbox = Path(logged_in.env["CARHELP_STATE_DIR"]) / "outbox"
    assert len(list(outbox.glob("*.json"))) == 1
