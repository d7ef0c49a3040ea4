"""order list / show / fees / audit / dispute against the real reference service and the demo
data of api.md: 0001 billed correctly, 0002 billed 95 minutes for 35 (2100 fen too much),
0003 with the service fee twice (300 fen), 0004 active.

Read-only commands use the session's shared service. Tests that change the service (tickets,
verifications) or need a broken backend (a database edited with sqlite3) start their own."""
import json
import socket
import sqlite3
import sys
import unicodedata
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

WANG_PHONE, WANG_CODE = "13800138000", "246810"
LI_PHONE, LI_CODE = "13912345678", "135790"
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"
# The CLI's clock for --since (the demo orders are of November 2026).
NOW = "2026-11-03T12:00:00+08:00"


def login(carhelp, phone, code):
    r = carhelp("login", "--phone", phone, input=code + "\n")
    assert r.returncode == 0, r.stderr
    return carhelp


@pytest.fixture
def li(carhelp):
    """李娜 (acc_1002): orders 0002 and 0003."""
    return login(carhelp, LI_PHONE, LI_CODE)


@pytest.fixture
def wang(carhelp):
    """王小明 (acc_1001): orders 0001 and 0004 (active)."""
    return login(carhelp, WANG_PHONE, WANG_CODE)


@pytest.fixture
def private(tmp_path):
    """A service of the test's own, its database in a file the test may edit."""
    db = tmp_path / "service.db"
    srv = chtest.Server(db=db)
    srv.db = db
    yield srv
    srv.stop()


def on(carhelp, url):
    """The same carhelp, talking to another service."""
    def run(*args, **kw):
        return carhelp(*args, CARHELP_API_URL=url, **kw)
    return run


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def width(text):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def as_json(r):
    assert r.stdout.strip(), f"no JSON on stdout: {r.returncode} {r.stderr!r}"
    return json.loads(r.stdout)


def edit_db(srv, *statements):
    """Stops the private service, runs SQL on its database, and starts a new service on the
    same database (the demo seed is not loaded twice); the caller stops it."""
    srv.stop()
    con = sqlite3.connect(srv.db)
    try:
        for sql in statements:
            con.executescript(sql)
        con.commit()
    finally:
        con.close()
    again = chtest.Server(db=srv.db, seed="demo")
    return again


# -- order list -----------------------------------------------------------------------------

def test_list_shows_the_callers_orders_newest_first(li):
    r = li("order", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ORDER", "STARTED", "VEHICLE", "STATUS", "TIME", "TOTAL"]
    assert [l.split()[0] for l in lines[1:]] == ["ord_20261103_0003", "ord_20261102_0002"]
    assert "¥48.13" in lines[2] and "35 min" in lines[2] and "沪AD54321" in lines[2]


def test_list_table_aligns_chinese_plates_and_fits_80_columns(li):
    r = li("orders", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    header = lines[0]
    # Each column starts at the same display column in every row, though plates are CJK.
    names = ["VEHICLE", "STATUS", "TIME", "TOTAL"]
    starts = [width(header[:header.index(n)]) for n in names]
    for row in lines[1:]:
        cells = row.split()
        at, found = 0, []
        for value in (cells[3], cells[4], cells[5], cells[-1]):
            at = row.index(value, at)
            found.append(width(row[:at]))
            at += len(value)
        assert found == starts, row
    assert all(width(line) <= 80 for line in lines)


def test_list_json_is_items_and_next_cursor(li):
    doc = as_json(li("--json", "order", "list"))
    assert set(doc) == {"items", "next_cursor"}
    assert doc["next_cursor"] is None
    assert [o["id"] for o in doc["items"]] == ["ord_20261103_0003", "ord_20261102_0002"]
    o = doc["items"][1]
    assert o["total_fen"] == 4813 and o["distance_m"] == 12000 and o["vehicle"]["plate"] == "沪AD54321"


def test_list_limit_1_gives_one_page_and_a_cursor(li):
    r = li("--json", "order", "list", "--limit", "1")
    doc = as_json(r)
    assert [o["id"] for o in doc["items"]] == ["ord_20261103_0003"]
    assert isinstance(doc["next_cursor"], str) and doc["next_cursor"]
    human = li("order", "list", "--limit", "1")
    assert human.returncode == 0
    assert len(human.stdout.splitlines()) == 2
    assert "--all" in human.stderr


def test_list_all_follows_the_cursors_to_the_last_page(li):
    r = li("-v", "--json", "order", "list", "--limit", "1", "--all")
    doc = as_json(r)
    assert [o["id"] for o in doc["items"]] == ["ord_20261103_0003", "ord_20261102_0002"]
    assert doc["next_cursor"] is None
    # Two full pages and the empty-tail check: one request per page, each with the cursor.
    pages = [l for l in r.stderr.splitlines() if "/orders" in l]
    assert len(pages) >= 2 and "cursor=" in pages[1]


def test_list_status_filter(wang):
    active = as_json(wang("--json", "order", "list", "--status", "active"))
    assert [o["id"] for o in active["items"]] == ["ord_20261125_0004"]
    assert active["items"][0]["ended_at"] is None and active["items"][0]["total_fen"] is None
    done = as_json(wang("--json", "order", "list", "--status", "completed"))
    assert [o["id"] for o in done["items"]] == ["ord_20261101_0001"]


def test_list_since_filter(li):
    day = as_json(li("--json", "order", "list", "--since", "12h", CARHELP_NOW=NOW))
    assert [o["id"] for o in day["items"]] == ["ord_20261103_0003"]
    two = as_json(li("--json", "order", "list", "--since", "24h", CARHELP_NOW=NOW))
    assert len(two["items"]) == 2


def test_list_of_another_customers_account_is_denied(wang):
    r = wang("order", "list", "--account", "acc_1002")
    assert r.returncode == 5
    assert "own orders" in r.stderr


@pytest.mark.parametrize("args, field", [
    (["--limit", "0"], "--limit"),
    (["--limit", "101"], "--limit"),
    (["--limit", "ten"], "--limit"),
    (["--since", "last tuesday"], "--since"),
    (["--status", "lost"], "--status"),
    (["--account", "acc 1002"], "--account"),
])
def test_list_bad_input_is_refused_before_any_request(carhelp, args, field):
    r = carhelp("-v", "order", "list", *args, CARHELP_API_URL=closed_port_url(),
                CARHELP_TOKEN="0" * 64)
    assert r.returncode == 2, r.stderr
    assert field in r.stderr
    assert "GET " not in r.stderr


# -- order show / fees ----------------------------------------------------------------------

def test_show_an_order(li):
    r = li("order", "show", "ord_20261102_0002")
    assert r.returncode == 0, r.stderr
    for text in ("ord_20261102_0002", "completed", "沪AD54321", "GAC Aion S", "35 min",
                 "12.0 km", "tar_std", "¥48.13", "31.2397, 121.4998"):
        assert text in r.stdout
    doc = as_json(li("--json", "order", "show", "ord_20261102_0002"))
    assert doc["id"] == "ord_20261102_0002" and doc["duration_s"] == 2100
    assert doc["started_at"] == "2026-11-02T18:05:00+08:00"


def test_fees_are_itemised_in_yuan_for_people(li):
    r = li("order", "fees", "ord_20261103_0003")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.count("Service fee") == 2
    for text in ("¥7.00", "¥5.20", "¥3.00", "Total ¥18.20", "pay_0003", "alipay",
                 "Paid ¥18.20, refunded ¥0.00"):
        assert text in out
    assert all(width(line) <= 80 for line in out.splitlines())


def test_fees_json_keeps_fen(li):
    doc = as_json(li("--json", "order", "fees", "ord_20261102_0002"))
    assert doc["total_fen"] == 4813 and doc["paid_fen"] == 4813 and doc["refunded_fen"] == 0
    assert [l["amount_fen"] for l in doc["lines"]] == [3325, 1188, 300]
    assert doc["payments"][0]["amount_fen"] == 4813 and doc["refunds"] == []


@pytest.mark.parametrize("sub", ["show", "fees", "audit", "dispute"])
@pytest.mark.parametrize("bad", ["ord/0002", "ord 0002", "x" * 65, "订单1", ""])
def test_malformed_order_ids_are_refused_before_any_request(carhelp, sub, bad):
    extra = ["--reason", "wrong"] if sub == "dispute" else []
    r = carhelp("-v", "order", sub, bad, *extra, CARHELP_API_URL=closed_port_url(),
                CARHELP_TOKEN="0" * 64)
    assert r.returncode == 2, (sub, bad, r.stderr)
    assert "ORDER" in r.stderr
    assert "GET " not in r.stderr and "POST " not in r.stderr


@pytest.mark.parametrize("sub", ["show", "fees", "audit"])
def test_another_customers_order_is_denied(wang, sub):
    r = wang("order", sub, "ord_20261102_0002")
    assert r.returncode == 5, r.stderr
    assert "own orders" in r.stderr


def test_a_customer_gets_the_same_answer_for_an_unknown_order(wang):
    mine_not = wang("order", "show", "ord_20261102_0002")
    unknown = wang("order", "show", "ord_19990101_9999")
    assert mine_not.returncode == unknown.returncode == 5


def test_unknown_order_is_not_found_for_staff(carhelp):
    r = carhelp("login", "--staff", STAFF, input=STAFF_PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    for sub in ("show", "fees", "audit"):
        r = carhelp("order", sub, "ord_19990101_9999")
        assert r.returncode == 3, (sub, r.stderr)


# -- order audit ----------------------------------------------------------------------------

def test_audit_finds_the_2100_fen_overcharge_of_0002(li):
    r = li("order", "audit", "ord_20261102_0002")
    assert r.returncode == 1, r.stderr
    assert "time_beyond_trip" in r.stdout and "difference ¥21.00" in r.stdout
    assert all(width(line) <= 80 for line in r.stdout.splitlines())
    doc = as_json(li("--json", "order", "audit", "ord_20261102_0002"))
    assert set(doc) == {"order_id", "ok", "findings"}
    assert doc["order_id"] == "ord_20261102_0002" and doc["ok"] is False
    assert [(f["code"], f["expected_fen"], f["billed_fen"], f["difference_fen"])
            for f in doc["findings"]] == [("time_beyond_trip", 1225, 3325, 2100)]
    assert set(doc["findings"][0]) == {"code", "message", "expected_fen", "billed_fen",
                                       "difference_fen"}


def test_audit_finds_the_duplicate_service_fee_of_0003(li):
    r = li("--json", "order", "audit", "ord_20261103_0003")
    assert r.returncode == 1
    doc = as_json(r)
    assert [(f["code"], f["difference_fen"]) for f in doc["findings"]] == [("duplicate_line", 300)]


def test_audit_finds_nothing_wrong_with_0001(wang):
    r = wang("order", "audit", "ord_20261101_0001")
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout
    doc = as_json(wang("--json", "order", "audit", "ord_20261101_0001"))
    assert doc == {"order_id": "ord_20261101_0001", "ok": True, "findings": []}


def test_audit_of_several_orders_prints_items(li):
    r = li("--json", "order", "audit", "ord_20261102_0002", "ord_20261103_0003")
    assert r.returncode == 1
    doc = as_json(r)
    assert [i["order_id"] for i in doc["items"]] == ["ord_20261102_0002", "ord_20261103_0003"]
    assert sum(f["difference_fen"] for i in doc["items"] for f in i["findings"]) == 2400


def test_audit_since_covers_every_completed_order_of_the_account(li):
    r = li("--json", "order", "audit", "--since", "30d", CARHELP_NOW=NOW)
    assert r.returncode == 1
    doc = as_json(r)
    assert sorted(i["order_id"] for i in doc["items"]) == ["ord_20261102_0002",
                                                          "ord_20261103_0003"]
    human = li("order", "audit", "--since", "30d", CARHELP_NOW=NOW)
    assert "2 order(s) audited: 2 with findings (¥24.00 paid above the tariff)" in \
        " ".join(human.stdout.split())


def test_audit_since_skips_the_active_order(wang):
    r = wang("--json", "order", "audit", "--since", "2026-10-01")
    assert r.returncode == 0, r.stderr
    assert [i["order_id"] for i in as_json(r)["items"]] == ["ord_20261101_0001"]


def test_audit_of_an_active_order_cannot_decide(wang):
    r = wang("order", "audit", "ord_20261125_0004")
    assert r.returncode == 11
    assert "cannot audit" in r.stderr and "active" in r.stderr


@pytest.mark.parametrize("args", [[], ["ord_20261102_0002", "--since", "7d"]])
def test_audit_needs_orders_or_since_but_not_both(carhelp, args):
    r = carhelp("order", "audit", *args, CARHELP_API_URL=closed_port_url(),
                CARHELP_TOKEN="0" * 64)
    assert r.returncode == 2
    assert "--since" in r.stderr


def test_audit_since_as_staff_is_a_usage_error(carhelp):
    assert carhelp("login", "--staff", STAFF, input=STAFF_PASSWORD + "\n").returncode == 0
    r = carhelp("order", "audit", "--since", "7d")
    assert r.returncode == 2


# -- a broken backend: unknown tariff rules, malformed amounts ------------------------------

def test_a_tariff_rule_the_client_does_not_know_means_cannot_audit(private, carhelp):
    srv = edit_db(private, "INSERT INTO tariff_rules(tariff_id, position, kind, unit, price_fen)"
                           " VALUES ('tar_std', 4, 'parking', 'hour', 500)")
    try:
        run = login(on(carhelp, srv.url), WANG_PHONE, WANG_CODE)
        r = run("order", "audit", "ord_20261101_0001")
        assert r.returncode == 11, r.stderr
        assert 'cannot audit: unknown rule "parking"' in r.stderr
        r = run("--json", "order", "audit", "ord_20261101_0001")
        assert r.returncode == 11 and r.stdout == ""
        assert json.loads(r.stderr)["error"]["code"] == "cannot_audit"
    finally:
        srv.stop()


def test_a_rounding_the_client_does_not_know_means_cannot_audit(private, carhelp):
    srv = edit_db(private, "UPDATE tariff_rules SET rounding = 'bankers' WHERE kind = 'distance'")
    try:
        run = login(on(carhelp, srv.url), WANG_PHONE, WANG_CODE)
        r = run("order", "audit", "ord_20261101_0001")
        assert r.returncode == 11, r.stderr
        assert "cannot audit: unknown rule" in r.stderr and "bankers" in r.stderr
    finally:
        srv.stop()


@pytest.mark.parametrize("sql", [
    "UPDATE fee_lines SET amount_fen = 1470.5 WHERE id = 'fee_0001'",
    "UPDATE fee_lines SET amount_fen = 'lots' WHERE id = 'fee_0001'",
    "UPDATE payments SET amount_fen = 35.82 WHERE id = 'pay_0001'",
    # A missing amount: the column loses NOT NULL, the line its amount.
    "CREATE TABLE f2 AS SELECT * FROM fee_lines; DROP TABLE fee_lines;"
    " ALTER TABLE f2 RENAME TO fee_lines;"
    " UPDATE fee_lines SET amount_fen = NULL WHERE id = 'fee_0002'",
], ids=["fraction", "string", "payment-fraction", "missing"])
def test_fees_with_missing_or_non_integer_amounts_are_service_errors(private, carhelp, sql):
    srv = edit_db(private, sql)
    try:
        run = login(on(carhelp, srv.url), WANG_PHONE, WANG_CODE)
        for sub in ("fees", "audit"):
            r = run("order", sub, "ord_20261101_0001")
            assert r.returncode == 7, (sub, r.returncode, r.stderr)
            assert "amount_fen" in r.stderr
            assert "Traceback" not in r.stderr and "Sanitizer" not in r.stderr
    finally:
        srv.stop()


# -- staff ----------------------------------------------------------------------------------

def test_staff_list_an_accounts_orders_after_verifying_it(private, carhelp):
    run = on(carhelp, private.url)
    assert run("login", "--staff", STAFF, input=STAFF_PASSWORD + "\n").returncode == 0
    r = run("order", "list")
    assert r.returncode == 2 and "--account" in r.stderr
    r = run("order", "list", "--account", "acc_1002")
    assert r.returncode == 5 and "verify" in r.stderr
    r = run("order", "fees", "ord_20261102_0002")
    assert r.returncode == 5
    assert run("account", "verify", "--phone", LI_PHONE, "--id-last4", "3454").returncode == 0
    doc = as_json(run("--json", "order", "list", "--account", "acc_1002"))
    assert len(doc["items"]) == 2
    r = run("--json", "order", "audit", "ord_20261102_0002")
    assert r.returncode == 1 and as_json(r)["findings"][0]["difference_fen"] == 2100


# -- order dispute --------------------------------------------------------------------------

def test_dispute_opens_a_billing_ticket_with_the_findings_as_evidence(private, carhelp):
    run = login(on(carhelp, private.url), LI_PHONE, LI_CODE)
    r = run("-vv", "order", "dispute", "ord_20261102_0002", "--reason", "35 分钟的行程收了 95 分钟")
    assert r.returncode == 0, r.stderr
    assert "Opened billing ticket" in r.stdout and "¥21.00" in r.stdout
    assert "POST" in r.stderr and "Idempotency-Key: " in r.stderr
    ticket_id = r.stdout.split("Opened billing ticket", 1)[1].split()[0]
    con = sqlite3.connect(private.db)
    try:
        row = con.execute("SELECT category, order_id, message, evidence FROM tickets WHERE id = ?",
                          (ticket_id,)).fetchone()
    finally:
        con.close()
    assert row is not None, ticket_id
    category, order_id, message, evidence = row
    assert category == "billing" and order_id == "ord_20261102_0002"
    assert message.startswith("35 分钟的行程收了 95 分钟")
    ev = json.loads(evidence)
    assert ev["type"] == "fee_audit" and ev["claimed_refund_fen"] == 2100
    assert [(f["code"], f["difference_fen"]) for f in ev["audit"]["findings"]] == [
        ("time_beyond_trip", 2100)]


def test_dispute_json_is_the_ticket(private, carhelp):
    run = login(on(carhelp, private.url), LI_PHONE, LI_CODE)
    r = run("--json", "order", "dispute", "ord_20261103_0003", "--reason", "service fee twice")
    assert r.returncode == 0, r.stderr
    t = as_json(r)
    assert t["category"] == "billing" and t["order_id"] == "ord_20261103_0003"
    assert t["status"] == "open" and t["sla_due_at"]


def test_dispute_of_another_customers_order_opens_nothing(private, carhelp):
    run = login(on(carhelp, private.url), WANG_PHONE, WANG_CODE)
    r = run("order", "dispute", "ord_20261102_0002", "--reason", "not mine")
    assert r.returncode == 5
    con = sqlite3.connect(private.db)
    try:
        assert con.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    finally:
        con.close()


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 1001, "line\x07bell"])
def test_dispute_needs_a_reason(carhelp, reason):
    extra = [] if reason is None else ["--reason", reason]
    r = carhelp("-v", "order", "dispute", "ord_20261102_0002", *extra,
                CARHELP_API_URL=closed_port_url(), CARHELP_TOKEN="0" * 64)
    assert r.returncode == 2
    assert "--reason" in r.stderr and "POST " not in r.stderr


# -- the service's own refusals (direct HTTP) -----------------------------------------------

def service_get(server, path, token):
    import urllib.error
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def service_token(server, phone, code):
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for path, body in (("/v1/auth/otp", {"phone": phone}),
                       ("/v1/auth/token", {"phone": phone, "otp": code})):
        req = urllib.request.Request(server.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with opener.open(req, timeout=10) as r:
            doc = json.loads(r.read())
    return doc["token"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "status=lost",
                                   "since=yesterday", "cursor=zz", "cursor=2f"])
def test_service_refuses_a_bad_list_query(server, query):
    token = service_token(server, LI_PHONE, LI_CODE)
    status, doc = service_get(server, f"/v1/accounts/acc_1002/orders?{query}", token)
    assert status == 400 and doc["error"]["code"] == "invalid_request", (query, doc)
