"""Text from a hostile service never drives the terminal: every service string a command shows
(tickets, orders, fees, accounts, vehicles, the support status, error messages, a header in the
-v trace) reaches stdout/stderr with its controls, C1 controls and bidi overrides escaped and
bad UTF-8 replaced, while --json keeps the exact string. The service here is an evil Python
http.server on loopback answering the API's JSON shapes; it counts what it served."""
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import chtest

# Clear the screen, set the window title, overwrite the line with CR, reverse the text with
# U+202E, CSI as the one-byte C1 control, and three bytes that are not UTF-8 (BAD).
EVIL = "A\x1b[2J\x1b]0;pwned\x07B\rC\u202eD\u009bE@@BAD@@F"
BAD = b"\xff\xc0\xaf"
# Bytes of EVIL as the service sends them, and what the CLI must show instead.
RAW_FORBIDDEN = [b"\x1b", b"\r", b"\x07", "\u202e".encode(), "\u009b".encode(), BAD]
ESCAPED = ["\\x1b[2J", "\\x1b]0;pwned\\x07", "\\x0d", "\\u202e", "\\u009b", "\ufffd"]
# A request ID header with an escape, a C1 control and a bidi override (raw bytes on the wire).
EVIL_HEADER = b"req_\x1b[2J\xc2\x9b\xe2\x80\xaeevil".decode("latin-1")


def evil_bytes(doc):
    """The JSON text of doc with EVIL's placeholder replaced by bytes that are not UTF-8."""
    return json.dumps(doc).encode().replace(b"@@BAD@@", BAD)


def ticket(tid="tkt_evil"):
    return {
        "id": tid, "category": EVIL, "priority": "normal", "status": EVIL,
        "sla_due_at": "2026-11-25T18:00:00+08:00", "created_at": EVIL,
        "short_code": EVIL, "order_id": EVIL, "vehicle_id": EVIL,
        "message": "first line\n" + EVIL,
        "attachments": [{"filename": EVIL, "content_type": EVIL, "size_bytes": 3}],
        "rating": {"score": 4, "comment": EVIL},
        "events": [{"at": "2026-11-25T14:00:00+08:00", "kind": EVIL, "actor": EVIL,
                    "actor_role": EVIL, "body": EVIL}],
    }


ORDER = {
    "id": "ord_evil", "status": EVIL,
    "vehicle": {"plate": EVIL, "model": EVIL, "id": EVIL},
    "started_at": EVIL, "ended_at": "2026-11-01T10:42:00+08:00",
    "duration_s": 2520, "distance_m": 12300,
    "start_location": {"lat": 39.9, "lng": 116.4, "address": EVIL},
    "end_location": {"lat": 39.9, "lng": 116.4, "address": EVIL},
    "tariff_id": EVIL, "total_fen": 3582,
}
FEES = {
    "order_id": EVIL, "tariff_id": EVIL, "total_fen": 3582, "paid_fen": 3582, "refunded_fen": 0,
    "lines": [{"id": "fl_1", "kind": EVIL, "description": EVIL, "quantity": 42, "unit": EVIL,
               "unit_price_fen": 50, "amount_fen": 2100,
               "charged_at": "2026-11-01T10:42:00+08:00"},
              {"id": "fl_2", "kind": "distance", "description": "里程费 12.3 km", "quantity": 12.3,
               "unit": "km", "unit_price_fen": 120, "amount_fen": 1482,
               "charged_at": "2026-11-01T10:42:00+08:00"}],
    "payments": [{"id": EVIL, "at": EVIL, "method": EVIL, "amount_fen": 3582, "reason": EVIL}],
    "refunds": [],
}
ACCOUNT = {
    "id": "acc_evil", "name": EVIL, "status": EVIL, "balance_fen": 100, "deposit_fen": 0,
    "licence_status": EVIL, "member_level": EVIL, "member_id": EVIL,
    "phone_masked": EVIL, "id_number_masked": EVIL,
}
VEHICLE = {
    "id": "veh_evil", "plate": EVIL, "model": EVIL, "lock_state": EVIL, "doors": EVIL,
    "battery_pct": 80, "online": True, "last_seen_at": EVIL,
    "location": {"lat": 39.9, "lng": 116.4, "address": EVIL},
    "active_order_id": EVIL,
    "last_command": {"type": EVIL, "status": EVIL, "id": EVIL, "failure_code": EVIL,
                     "updated_at": EVIL},
}
SUPPORT = {
    "open_now": True, "peak_now": False, "server_time": "2026-11-25T10:00:00+08:00",
    "phones": [{"purpose": "customer_service", "number": EVIL, "for_support": True,
                "label": EVIL, "hours": EVIL},
               {"purpose": "sales", "number": EVIL, "for_support": False}],
    "channels": [{"channel": "phone", "hours": EVIL, "open_now": True,
                  "queue_length": 3, "estimated_wait_s": 120}],
}
ERROR = {"error": {"code": "not_found", "message": EVIL, "request_id": EVIL}}


class EvilService:
    """ThreadingHTTPServer on 127.0.0.1:0; answers by path and counts requests per path."""

    def __init__(self):
        self.hits = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _answer(self):
                path = self.path.split("?", 1)[0]
                outer.hits[path] = outer.hits.get(path, 0) + 1
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                status, doc = outer.route(self.command, path)
                body = evil_bytes(doc)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Request-Id", EVIL_HEADER)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @staticmethod
    def route(method, path):
        if method == "POST" and path == "/v1/tickets":
            return 201, ticket("tkt_new")
        table = {
            "/v1/tickets": {"items": [ticket()], "next_cursor": None},
            "/v1/tickets/tkt_evil": ticket(),
            "/v1/orders/ord_evil": ORDER,
            "/v1/orders/ord_evil/fees": FEES,
            "/v1/accounts/acc_evil": ACCOUNT,
            "/v1/vehicles/veh_evil": VEHICLE,
            "/v1/support/status": SUPPORT,
        }
        if path in table:
            return 200, table[path]
        return 404, ERROR

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def evil():
    srv = EvilService()
    yield srv
    srv.close()


@pytest.fixture
def run_evil(tmp_path, evil):
    """Runs carhelp against the evil service with a token from CARHELP_TOKEN; bytes out."""
    env = chtest.isolated_env(tmp_path, CARHELP_TOKEN="tok_evil_test_0001",
                              CARHELP_NOW="2026-11-25T10:00:00+08:00", TZ="Asia/Shanghai")

    def run(*args):
        return subprocess.run([chtest.CARHELP, "--api-url", evil.url, *args], env=env,
                              capture_output=True, timeout=60)
    return run


def assert_tamed(r, escaped=ESCAPED):
    """Nothing hostile reached the terminal, and the escaped form did."""
    for name, data in (("stdout", r.stdout), ("stderr", r.stderr)):
        for raw in RAW_FORBIDDEN:
            assert raw not in data, f"raw {raw!r} in {name}: {data!r}"
        data.decode("utf-8")   # strict: every byte shown is valid UTF-8
    shown = (r.stdout + r.stderr).decode()
    for esc in escaped:
        assert esc in shown, f"{esc!r} not shown in {shown!r}"
    return shown


@pytest.mark.parametrize("args, path", [
    (("ticket", "show", "tkt_evil"), "/v1/tickets/tkt_evil"),
    (("ticket", "list"), "/v1/tickets"),
    (("order", "show", "ord_evil"), "/v1/orders/ord_evil"),
    (("order", "fees", "ord_evil"), "/v1/orders/ord_evil/fees"),
    (("account", "show", "acc_evil"), "/v1/accounts/acc_evil"),
    (("vehicle", "show", "veh_evil"), "/v1/vehicles/veh_evil"),
])
def test_service_strings_are_shown_escaped(run_evil, evil, args, path):
    r = run_evil(*args)
    assert r.returncode == 0, r.stderr
    assert evil.hits.get(path) == 1, evil.hits
    assert_tamed(r)


def test_support_numbers_from_the_status_are_shown_escaped(run_evil, evil):
    r = run_evil("contact")
    assert r.returncode == 0, r.stderr
    assert evil.hits.get("/v1/support/status") == 1, evil.hits
    # A phone number has a short field: the start of EVIL, escaped, is what fits.
    shown = assert_tamed(r, escaped=["\\x1b[2J", "\\x1b]0;pwned\\x07", "\\x0d"])
    assert "is the sales line" in shown


def test_a_created_ticket_is_printed_through_the_sanitiser(run_evil, evil):
    r = run_evil("report", "other", "--message", "x")
    assert r.returncode == 0, r.stderr
    assert evil.hits.get("/v1/tickets") == 1, evil.hits
    shown = assert_tamed(r)
    assert "tkt_new" in shown


def test_a_ticket_message_keeps_its_lines_indented(run_evil, evil):
    r = run_evil("ticket", "show", "tkt_evil")
    assert r.returncode == 0
    out = r.stdout.decode()
    assert "  first line\n  A\\x1b[2J" in out


def test_fee_table_stays_aligned_with_escapes_and_chinese(run_evil, evil):
    r = run_evil("order", "fees", "ord_evil")
    assert r.returncode == 0
    lines = r.stdout.decode().splitlines()
    header = next(line for line in lines if "DESCRIPTION" in line)
    rows = [line for line in lines if "¥21.00" in line or "¥14.82" in line]
    assert len(rows) == 2, lines
    col = header.index("QTY")
    from unicodedata import east_asian_width

    def width(s):
        return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in s)
    # The QTY column starts at the same display column in the header and both rows.
    starts = [width(row[:row.index(q) + 2]) for row, q in zip(rows, ("  42  ", "  12.3  "))]
    assert starts == [width(header[:col])] * 2, (header, rows)


def test_an_error_message_from_the_service_is_escaped(run_evil, evil):
    r = run_evil("ticket", "show", "tkt_missing")
    assert r.returncode == 3
    assert evil.hits.get("/v1/tickets/tkt_missing") == 1
    shown = assert_tamed(r)
    assert shown.startswith("carhelp: ")
    assert len(r.stderr.decode().splitlines()) <= 2   # one line, and a hint at most


def test_a_hostile_request_id_header_is_escaped_in_the_verbose_trace(run_evil, evil):
    r = run_evil("-v", "ticket", "show", "tkt_evil")
    assert r.returncode == 0
    assert evil.hits.get("/v1/tickets/tkt_evil") == 1
    err = r.stderr
    assert b"< 200" in err
    for raw in (b"\x1b", "\u202e".encode(), "\u009b".encode()):
        assert raw not in err, err
    assert "req_" in err.decode() and "\\u202eevil" in err.decode()


def test_json_output_keeps_the_exact_string(run_evil, evil):
    r = run_evil("--json", "ticket", "show", "tkt_evil")
    assert r.returncode == 0
    assert evil.hits.get("/v1/tickets/tkt_evil") == 1
    assert b"\x1b" not in r.stdout   # JSON escapes C0 itself (\u001b)
    doc = json.loads(r.stdout.decode("utf-8", "surrogateescape"))
    want = EVIL.replace("@@BAD@@", BAD.decode("utf-8", "surrogateescape"))
    assert doc["status"] == want
    assert doc["message"] == "first line\n" + want
    assert doc["events"][0]["body"] == want
