"""Input first (cli.md "Input validation"): every command checks its arguments before the
config's credential and before any request, so bad input is exit 2 with a message naming the
field whether or not anyone is logged in, and the service receives nothing.

The service here is a counting test server on 127.0.0.1 that records every request; a real
login against the reference service is the other half of "logged in"."""
import http.server
import json
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402
from conftest import DEMO_CODE, DEMO_PHONE  # noqa: E402

# (argv, the field the message must name)
BAD_INPUT = [
    (["order", "list", "--limit", "abc"], "--limit"),
    (["order", "list", "--limit", "0"], "--limit"),
    (["order", "list", "--since", "yesterday"], "--since"),
    (["order", "list", "--account", "a/b"], "--account"),
    (["order", "show", "ord/1"], "ORDER"),
    (["order", "fees", "ord 1"], "ORDER"),
    (["order", "audit", "ord_1", "bad/id"], "ORDER"),
    (["order", "audit", "--since", "someday"], "--since"),
    (["order", "audit", "--parallel", "4", "ord_1"], "--parallel"),
    (["order", "dispute", "ord_1", "--reason", "   "], "--reason"),
    (["report", "vehical", "-m", "x"], "CATEGORY"),
    (["report", "vehicle", "-m", "x", "--location", "999,999"], "--location"),
    (["report", "vehicle", "-m", "x", "--order", "o/1"], "--order"),
    (["report", "vehicle", "-m", "x", "--vehicle", "京A1"], "--vehicle"),
    (["vehicle", "show", "京A1"], "PLATE|ID"),
    (["vehicle", "show", "bad/id"], "PLATE|ID"),
    (["vehicle", "show", "--parallel", "3", "京AD12345"], "--parallel"),
    (["unlock", "京A12"], "PLATE|ID"),
    (["unlock", "京AD12345", "--wait", "-5"], "--wait"),
    (["unlock", "京AD12345", "--confirm", "京A1"], "--confirm"),
    (["lock", "京AD12345", "--order", "o/1"], "--order"),
    (["vehicle", "honk", "bad id"], "PLATE|ID"),
    (["vehicle", "flash", "京AD12345", "--reason", " "], "--reason"),
    (["ticket", "show", "t/1"], "ID"),
    (["ticket", "list", "--limit", "x"], "--limit"),
    (["ticket", "comment", "tkt_1"], "--message"),
    (["ticket", "attach", "t/1", "a.png"], "ID"),
    (["ticket", "rate", "tkt_1", "--score", "9"], "--score"),
    (["ticket", "rate", "tkt_1"], "--score"),
    (["ticket", "qr", "tkt_1", "--size", "4"], "--size"),
    (["ticket", "verify", "not a pass!"], "PASS"),
    (["account", "show", "acc/1"], "ACCOUNT"),
    (["account", "freeze", "acc/1", "--yes"], "ACCOUNT"),
    (["account", "freeze", "acc_1001", "--reason", " ", "--yes"], "--reason"),
    (["account", "verify", "--phone", "12345", "--id-last4", "1234"], "--phone"),
    (["account", "verify", "--phone", "13800138000", "--id-last4", "12"], "--id-last4"),
    (["account", "verify", "--phone", "13800138000"], "account verify"),
    (["account", "verify", "--id-last4", "1234"], "--phone"),
    (["emergency", "--location", "999,999"], "--location"),
    (["emergency", "--order", "o/1"], "--order"),
    (["checklist", "--order", "o/1"], "--order"),
    (["contact", "--at", "teatime"], "--at"),
    (["login", "--phone", "12345"], "--phone"),
]
IDS = ["-".join(a[:2]) + f"-{i}" for i, (a, _) in enumerate(BAD_INPUT)]


class Counting(http.server.BaseHTTPRequestHandler):
    """Records every request and answers it 500: a command that sent anything would show it."""

    def _any(self):
        self.server.requests.append(f"{self.command} {self.path}")
        body = json.dumps({"error": {"code": "internal", "message": "counting server",
                                     "request_id": "req_count"}}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _any

    def log_message(self, *args):
        pass


@pytest.fixture
def counting(tmp_path):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    srv.requests = []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def test_the_counting_server_counts(counting, tmp_path):
    """Control: a valid command line does reach the counting server."""
    env = chtest.isolated_env(tmp_path, counting.url, CARHELP_TOKEN="tok_anything")
    r = chtest.run(env, "--retries", "0", "order", "show", "ord_1")
    assert r.returncode == 7, r.stderr
    assert counting.requests, "the counting server saw nothing"


@pytest.mark.parametrize("login", ["logged_out", "token_in_env"])
@pytest.mark.parametrize("argv,field", BAD_INPUT, ids=IDS)
def test_bad_input_is_exit_2_naming_the_field_and_sends_nothing(counting, tmp_path, argv,
                                                                 field, login):
    extra = {"CARHELP_TOKEN": "tok_anything"} if login == "token_in_env" else {}
    env = chtest.isolated_env(tmp_path, counting.url, **extra)
    r = chtest.run(env, "--no-input", *argv, input="")
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert field in r.stderr, r.stderr
    assert counting.requests == [], counting.requests


@pytest.mark.parametrize("argv,field", [
    (["order", "list", "--limit", "abc"], "--limit"),
    (["order", "list", "--since", "yesterday"], "--since"),
    (["report", "vehical", "-m", "x"], "CATEGORY"),
    (["vehicle", "show", "京A1"], "PLATE|ID"),
    (["ticket", "rate", "tkt_1", "--score", "9"], "--score"),
], ids=["limit", "since", "category", "plate", "score"])
def test_bad_input_with_a_real_login_sends_nothing(argv, field, tmp_path, server):
    env = chtest.isolated_env(tmp_path, server.url)
    r = chtest.run(env, "login", "--phone", DEMO_PHONE, input=DEMO_CODE + "\n")
    assert r.returncode == 0, r.stderr
    before = server.settled_log_lines()
    r = chtest.run(env, *argv)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert field in r.stderr
    assert server.settled_log_lines() == before


def test_bad_input_beats_a_broken_config(counting, tmp_path):
    """The input is checked even before the config file is read."""
    env = chtest.isolated_env(tmp_path, counting.url)
    Path(env["CARHELP_CONFIG_DIR"], "config").write_text("[default]\ncolour = always\n")
    r = chtest.run(env, "order", "list", "--limit", "abc")
    assert r.returncode == 2
    assert "--limit" in r.stderr and "colour" not in r.stderr
    assert counting.requests == []
