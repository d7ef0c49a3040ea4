"""The identity answer (GET /v1/auth/whoami) is checked against the Whoami schema before any
command acts on it: a role that is not "customer" or "staff", a field of the wrong type, a
customer without an account ID, a body that is not a JSON object — each is a malformed
response (exit 7) naming the field and the request ID, never a guess at the caller's role.

The service here is a hostile test server on 127.0.0.1 that answers every whoami with the
payload under test; each test asserts the server did receive the whoami request."""
import http.server
import json
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

GOOD = {"subject": "acc_1001", "role": "customer", "name": "王小明", "account_id": "acc_1001",
        "expires_at": "2026-12-02T19:41:00+08:00"}
REQUEST_ID = "req_hostile_0001"


def mutated(**changes):
    doc = dict(GOOD)
    for k, v in changes.items():
        if v is KeyError:
            doc.pop(k)
        else:
            doc[k] = v
    return json.dumps(doc).encode()


# (name, body, content type, what stderr must name)
PAYLOADS = [
    ("items_null_no_identity", b'{"items":null,"id":12,"next_cursor":null}', "application/json",
     "'subject'"),
    ("role_missing", mutated(role=KeyError), "application/json", "'role'"),
    ("role_a_number", mutated(role=12), "application/json", "'role'"),
    ("role_admin", mutated(role="admin"), "application/json", "'role'"),
    ("account_id_a_number", mutated(account_id=5), "application/json", "'account_id'"),
    ("customer_without_account", mutated(account_id=None), "application/json", "'account_id'"),
    ("subject_a_number", mutated(subject=1001), "application/json", "'subject'"),
    ("expires_at_not_a_time", mutated(expires_at="soon"), "application/json", "'expires_at'"),
    ("not_json", b"<html>hello</html>", "text/html", "JSON"),
    ("an_array", json.dumps([GOOD]).encode(), "application/json", "JSON object"),
]

COMMANDS = [
    ("order", "list"),
    ("account", "show"),
    ("auth", "status"),
    ("unlock", "京AD12345", "--yes"),
]


class HostileWhoami(http.server.BaseHTTPRequestHandler):
    """Answers GET /v1/auth/whoami with the server's payload; anything else is a 404 in the
    API's error model (so a command that went further would fail differently)."""

    def do_GET(self):
        self.server.paths.append(self.path)
        if self.path == "/v1/auth/whoami":
            body, ctype = self.server.payload
            self.send_response(200)
        else:
            body = json.dumps({"error": {"code": "not_found", "message": "no such thing",
                                         "request_id": "req_other"}}).encode()
            ctype = "application/json"
            self.send_response(404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-Id", REQUEST_ID)
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def hostile(tmp_path):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HostileWhoami)
    srv.paths = []
    srv.payload = (mutated(), "application/json")
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    srv.env = chtest.isolated_env(tmp_path, srv.url, CARHELP_TOKEN="tok_anything")
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a[:2]))
@pytest.mark.parametrize("name,body,ctype,field", PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_a_malformed_identity_answer_is_a_service_error_naming_the_field(hostile, args, name,
                                                                        body, ctype, field):
    hostile.payload = (body, ctype)
    r = chtest.run(hostile.env, "--api-url", hostile.url, "--retries", "0", *args)
    assert "/v1/auth/whoami" in hostile.paths, "the hostile server never saw the whoami request"
    assert r.returncode == 7, (r.returncode, r.stdout, r.stderr)
    assert field in r.stderr, r.stderr
    assert REQUEST_ID in r.stderr, r.stderr
    assert "staff have no" not in r.stderr and "staff must" not in r.stderr, \
        "a malformed answer was taken for staff"
    assert r.stdout == ""


@pytest.mark.parametrize("name,body,ctype,field", PAYLOADS[:5], ids=[p[0] for p in PAYLOADS[:5]])
def test_a_token_from_stdin_with_a_malformed_identity_is_not_stored(hostile, tmp_path, name,
                                                                    body, ctype, field):
    hostile.payload = (body, ctype)
    env = dict(hostile.env)
    env.pop("CARHELP_TOKEN")
    r = chtest.run(env, "--api-url", hostile.url, "login", "--with-token",
                   input="tok_from_stdin\n")
    assert "/v1/auth/whoami" in hostile.paths
    assert r.returncode == 7, (r.returncode, r.stderr)
    assert field in r.stderr
    assert not (Path(env["CARHELP_CONFIG_DIR"]) / "credentials").exists()


def test_malformed_identity_in_json_mode_is_one_error_document(hostile):
    hostile.payload = (mutated(role="admin"), "application/json")
    r = chtest.run(hostile.env, "--api-url", hostile.url, "--json", "account", "show")
    assert "/v1/auth/whoami" in hostile.paths
    assert r.returncode == 7
    err = json.loads(r.stderr.strip().splitlines()[-1])["error"]
    assert err["code"] == "malformed_response"
    assert "'role'" in err["message"]
    assert err["request_id"] == REQUEST_ID


@pytest.mark.parametrize("role,account", [("customer", "acc_1001"), ("staff", None)])
def test_a_well_formed_identity_is_used(hostile, role, account):
    """Control: the same server with a schema-valid answer gets past the identity check (to the
    next request, which the hostile server refuses with 404, exit 3) or stops at the staff rule."""
    hostile.payload = (mutated(role=role, account_id=account, subject="st_1" if account is None
                               else "acc_1001"), "application/json")
    r = chtest.run(hostile.env, "--api-url", hostile.url, "order", "list")
    assert "/v1/auth/whoami" in hostile.paths
    if role == "customer":
        assert r.returncode == 3, r.stderr
        assert any(p.startswith("/v1/accounts/acc_1001") or "acc_1001" in p
                   for p in hostile.paths), hostile.paths
    else:
        assert r.returncode == 2, r.stderr
        assert "staff have no" in r.stderr
