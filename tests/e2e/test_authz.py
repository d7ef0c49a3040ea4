"""The authorisation matrix: every operation of api/openapi.yaml, called over HTTP
on the real reference service as anonymous, customer A (王小明, acc_1001), customer B (李娜,
acc_1002) and staff (field01 with a token that verified nobody, and "staff_v", one that
verified A), on resources of A and of B; where a frozen account makes a difference, also as
customer C (张伟, acc_1003, frozen by the operator in the demo data). The expected status of every cell is written out
below from api.md, openapi.yaml and docs/DECISIONS.md, never copied from the service's answers.

Every refusal must be an Error body that names nothing of the owner's data, and a refused
mutation must leave the database exactly as it was (compared table by table), but for the one
audit row of a refusal the audit log must have (a frozen account's). A path and
method in openapi.yaml that the matrix does not list fails the suite, so a new endpoint cannot
escape it. Then the same refusals through carhelp, with cli.md's exit codes."""
import json
import os
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "api" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

A_PHONE, A_CODE, A_MEMBER = "13800138000", "246810", "M100001"
B_PHONE, B_CODE, B_MEMBER = "13912345678", "135790", "M100002"
C_PHONE, C_CODE, C_MEMBER = "13700001111", "112233", "M100003"   # 张伟, frozen by the operator
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"
OA, OA_ACTIVE, OB = "ord_20261101_0001", "ord_20261125_0004", "ord_20261102_0002"
NO_ORDER, NO_ACCOUNT = "ord_20991231_9999", "acc_9999"
NO_TICKET = "tkt_" + "0" * 24
PLATE_A = "京AD12345"          # veh_001, rented by A (order 0004 is active)
# What a refusal must never show: the customers' names, member IDs, masked phones and IDs.
OWNER_DATA = ("王小明", "李娜", A_MEMBER, B_MEMBER, "138****8000", "139****5678",
              "1101**********002X", "3101**********3454", A_PHONE, B_PHONE)

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Resp:
    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None


def call(url, method, path, body=None, token=None, multipart=None):
    """One request straight to the service (no proxy, no CLI)."""
    headers = {}
    data = None
    if multipart is not None:
        name, ctype, blob = multipart
        boundary = "authzMatrixBoundary7"
        data = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{name}\"\r\nContent-Type: {ctype}\r\n\r\n").encode() + blob + \
            f"\r\n--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    quoted = urllib.parse.quote(path, safe="/?=&")
    req = urllib.request.Request(url + quoted, data=data, method=method, headers=headers)
    try:
        with _opener.open(req, timeout=30) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, e.headers, e.read())


# A PNG is judged by its first bytes (DECISIONS, attachments): the signature and a little more.
PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + bytes(64)


# ---- the world: a private service with a database file, four logins, tickets and commands ----

def customer_token(url, phone, code):
    assert call(url, "POST", "/v1/auth/otp", {"phone": phone}).status == 202
    r = call(url, "POST", "/v1/auth/token", {"phone": phone, "otp": code})
    assert r.status == 200, r.raw
    return r.json["token"]


def staff_token(url):
    r = call(url, "POST", "/v1/auth/token", {"staff_id": STAFF, "password": STAFF_PASSWORD})
    assert r.status == 200, r.raw
    return r.json["token"]


def wait_settled(url, token, vehicle, command, limit=30.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        r = call(url, "GET", f"/v1/vehicles/{vehicle}/commands/{command}", token=token)
        assert r.status == 200, r.raw
        if r.json["status"] in ("succeeded", "failed", "expired"):
            return r.json
        time.sleep(0.1)
    raise AssertionError(f"command {command} did not settle")


class World:
    """IDs and tokens the matrix refers to by name ({tA}, {cA}, ...)."""

    def __init__(self, srv, db):
        self.srv, self.db, self.url = srv, db, srv.url
        u = self.url
        self.tokens = {
            "anon": None,
            "A": customer_token(u, A_PHONE, A_CODE),
            "B": customer_token(u, B_PHONE, B_CODE),
            "staff": staff_token(u),
            "staff_v": staff_token(u),
            "C": customer_token(u, C_PHONE, C_CODE),
        }
        r = self.as_("staff_v", "POST", "/v1/accounts/verify",
                     {"phone": A_PHONE, "member_id": A_MEMBER})
        assert r.status == 200 and r.json["verified"] is True, r.raw
        self.ids = {"A": "acc_1001", "B": "acc_1002", "C": "acc_1003", "OA": OA, "OA_ACTIVE": OA_ACTIVE,
                    "OB": OB, "NO_ORDER": NO_ORDER, "NO_ACCOUNT": NO_ACCOUNT,
                    "NO_TICKET": NO_TICKET, "PLATE_A": PLATE_A}
        self.ids["tA"] = self.ticket("A", "app")
        self.ids["tB"] = self.ticket("B", "feedback")
        r = self.as_("A", "GET", f"/v1/tickets/{self.ids['tA']}/pass")
        assert r.status == 200, r.raw
        self.ids["passA"], self.ids["codeA"] = r.json["pass"], r.json["short_code"]
        self.ids["cA"] = self.command("A", "veh_001", {"type": "honk"})
        self.ids["cS"] = self.command("staff", "veh_001", {"type": "honk", "reason": "matrix"})
        self.ids["cS3"] = self.command("staff", "veh_003", {"type": "flash", "reason": "matrix"})
        for who, veh, cmd in (("A", "veh_001", "cA"), ("staff", "veh_001", "cS"),
                              ("staff", "veh_003", "cS3")):
            wait_settled(u, self.tokens[who], veh, self.ids[cmd])

    def as_(self, actor, method, path, body=None, multipart=None):
        return call(self.url, method, path, body, self.tokens[actor], multipart)

    def ticket(self, actor, category):
        r = self.as_(actor, "POST", "/v1/tickets",
                     {"category": category, "message": f"authz matrix ticket of {actor}"})
        assert r.status == 201, r.raw
        return r.json["id"]

    def command(self, actor, vehicle, body):
        r = self.as_(actor, "POST", f"/v1/vehicles/{vehicle}/commands", body)
        assert r.status == 202, r.raw
        return r.json["id"]

    def snapshot(self):
        return snapshot(self.db)


def snapshot(db):
    """Everything a refused request could have changed. Left out: otps (a wrong code is
    counted, on purpose), the lazily written status of commands and the audit rows of
    their results (they follow the clock), and the tokens' hashes of new logins."""
    queries = {
        "accounts": "SELECT * FROM accounts ORDER BY id",
        "tickets": "SELECT * FROM tickets ORDER BY id",
        "ticket_events": "SELECT * FROM ticket_events ORDER BY id",
        "attachments": "SELECT id, ticket_id, sha256 FROM attachments ORDER BY id",
        "ratings": "SELECT * FROM ratings ORDER BY ticket_id",
        "vehicle_commands": "SELECT id, vehicle_id, type, reason, order_id, requested_by,"
                            " requested_by_role FROM vehicle_commands ORDER BY id",
        "vehicles": "SELECT id, locked, doors_closed FROM vehicles ORDER BY id",
        "audit_log": "SELECT * FROM audit_log WHERE action != 'vehicle_command.result'"
                     " ORDER BY id",
        "verifications": "SELECT * FROM verifications ORDER BY token_hash, account_id",
        "verify_attempts": "SELECT * FROM verify_attempts ORDER BY id",
        "idempotency_keys": "SELECT subject, key FROM idempotency_keys ORDER BY 1, 2",
        "revoked_tokens": "SELECT token_hash, revoked_at FROM tokens ORDER BY 1",
        "orders": "SELECT * FROM orders ORDER BY id",
    }
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return {k: con.execute(q).fetchall() for k, q in queries.items()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    db = tmp_path_factory.mktemp("authz") / "carhelp.db"
    srv = chtest.Server("--db", str(db), "--vehicle-delay-ms", "200")
    try:
        yield World(srv, db)
    finally:
        srv.stop()


# ---- the matrix ---------------------------------------------------------------------------

class Case:
    def __init__(self, op, actor, status, path=None, body=None, code=None, check=None,
                 multipart=None, fresh_token=False, label="", audit=None):
        self.op, self.actor, self.status = op, actor, status
        self.audit = audit    # the action of the one audit row the refusal writes
        self.path = path if path is not None else op[1]
        self.body, self.code, self.check = body, code, check
        self.multipart, self.fresh_token, self.label = multipart, fresh_token, label

    @property
    def id(self):
        return f"{self.op[0]} {self.op[1]} as {self.actor}{' ' + self.label if self.label else ''}"


M = []


def cell(op, actor, status, **kw):
    M.append(Case(op, actor, status, **kw))


def subject_is(expected):
    return lambda d, w: d["subject"] == expected


def items_have(present=(), absent=(), key="id"):
    def check(d, w):
        ids = {i[key] for i in d["items"]}
        return all(w.ids.get(p, p) in ids for p in present) and \
            not any(w.ids.get(a, a) in ids for a in absent)
    return check


def all_items(field, value):
    return lambda d, w: d["items"] and all(i[field] == value for i in d["items"])


def field(name, value):
    return lambda d, w: d.get(name) == w.ids.get(value, value) if isinstance(value, str) \
        else d.get(name) == value


# api.md: meta and support status need no login; everyone gets them.
op = ("GET", "/v1/meta")
for who in ("anon", "A", "B", "staff"):
    cell(op, who, 200)
op = ("GET", "/v1/support/status")
for who in ("anon", "A", "B", "staff"):
    cell(op, who, 200)

# Logging in is public; a token in the header changes nothing. Another customer's phone with
# a wrong code is 401 invalid_credentials (a token does not help to become someone else).
op = ("POST", "/v1/auth/otp")
for who in ("anon", "A", "B", "staff"):
    cell(op, who, 202, body={"phone": C_PHONE})
op = ("POST", "/v1/auth/token")
cell(op, "anon", 200, body="login_A", check=subject_is("acc_1001"), label="with A's code")
cell(op, "anon", 200, body={"staff_id": STAFF, "password": STAFF_PASSWORD},
     check=subject_is(STAFF), label="with the staff password")
cell(op, "A", 401, body={"phone": B_PHONE, "otp": "000000"}, code="invalid_credentials",
     label="for B's phone")
cell(op, "B", 401, body={"phone": A_PHONE, "otp": "000000"}, code="invalid_credentials",
     label="for A's phone")
cell(op, "staff", 401, body={"staff_id": STAFF, "password": "wrong-pass"},
     code="invalid_credentials", label="with a wrong password")
# An account the operator froze may still log in (a stolen-account freeze may not: below).
cell(op, "anon", 200, body="login_C", check=subject_is("acc_1003"), label="with C's code")
# Revoking: the caller's own token only (each cell logs in afresh and revokes that login).
op = ("DELETE", "/v1/auth/token")
cell(op, "anon", 401, code="unauthenticated")
for who in ("A", "B", "staff"):
    cell(op, who, 204, fresh_token=True)
op = ("GET", "/v1/auth/whoami")
cell(op, "anon", 401, code="unauthenticated")
cell(op, "A", 200, check=subject_is("acc_1001"))
cell(op, "B", 200, check=subject_is("acc_1002"))
cell(op, "staff", 200, check=lambda d, w: d["role"] == "staff" and d["subject"] == STAFF)

# Verification: staff, or a customer for their own phone; any other phone is 403, before the
# lockout, so a customer cannot lock someone else's phone (no attempt row is written).
op = ("POST", "/v1/accounts/verify")
cell(op, "anon", 401, body={"phone": A_PHONE, "member_id": A_MEMBER}, code="unauthenticated")
cell(op, "A", 200, body={"phone": A_PHONE, "member_id": A_MEMBER},
     check=field("verified", True), label="own phone")
cell(op, "A", 403, body={"phone": B_PHONE, "member_id": B_MEMBER}, code="forbidden",
     label="B's phone")
cell(op, "B", 403, body={"phone": A_PHONE, "member_id": "M999999"}, code="forbidden",
     label="A's phone, wrong member")
cell(op, "B", 403, body={"phone": A_PHONE, "member_id": A_MEMBER}, code="forbidden",
     label="A's phone")
cell(op, "staff", 200, body={"phone": C_PHONE, "member_id": C_MEMBER},
     check=field("verified", True), label="C's phone")

# Accounts: a customer only their own (403 forbidden for any other, existing or not); staff
# after verifying the account with this token (403 verification_required), 404 when unknown.
for suffix in ("", "/orders"):
    op = ("GET", "/v1/accounts/{account_id}" + suffix)
    own = (lambda d, w: d["id"] == "acc_1001") if not suffix else all_items("account_id", "acc_1001")
    cell(op, "anon", 401, path="/v1/accounts/{A}" + suffix, code="unauthenticated")
    cell(op, "A", 200, path="/v1/accounts/{A}" + suffix, check=own)
    cell(op, "B", 403, path="/v1/accounts/{A}" + suffix, code="forbidden", label="on A's")
    cell(op, "B", 403, path="/v1/accounts/{NO_ACCOUNT}" + suffix, code="forbidden",
         label="on an unknown account")
    cell(op, "A", 403, path="/v1/accounts/{B}" + suffix, code="forbidden", label="on B's")
    cell(op, "B", 200, path="/v1/accounts/{B}" + suffix, label="own")
    cell(op, "staff", 403, path="/v1/accounts/{A}" + suffix, code="verification_required",
         label="unverified")
    cell(op, "staff_v", 200, path="/v1/accounts/{A}" + suffix, check=own, label="verified A")
    cell(op, "staff_v", 403, path="/v1/accounts/{B}" + suffix, code="verification_required",
         label="on B's, not verified")
    cell(op, "staff", 404, path="/v1/accounts/{NO_ACCOUNT}" + suffix, code="not_found",
         label="on an unknown account")
    cell(op, "C", 200, path="/v1/accounts/{C}" + suffix, label="own, frozen")

# Freeze: the customer themself or staff who verified the account (with a reason). The allowed
# freezes run on their own service below (they would change A for every other cell).
op = ("POST", "/v1/accounts/{account_id}/freeze")
cell(op, "anon", 401, path="/v1/accounts/{A}/freeze", body={"reason": "x"},
     code="unauthenticated")
cell(op, "A", 403, path="/v1/accounts/{B}/freeze", body={"reason": "x"}, code="forbidden",
     label="on B's")
cell(op, "B", 403, path="/v1/accounts/{A}/freeze", body={"reason": "stolen"}, code="forbidden",
     label="on A's")
cell(op, "B", 403, path="/v1/accounts/{NO_ACCOUNT}/freeze", body={"reason": "x"},
     code="forbidden", label="on an unknown account")
cell(op, "staff", 403, path="/v1/accounts/{A}/freeze", body={"reason": "phone stolen"},
     code="verification_required", label="unverified")
cell(op, "staff_v", 400, path="/v1/accounts/{A}/freeze", body={}, code="reason_required",
     label="without a reason")
cell(op, "staff_v", 403, path="/v1/accounts/{B}/freeze", body={"reason": "x"},
     code="verification_required", label="on B's, not verified")

# Orders and fees: the customer's own; any other order, existing or not, 403 forbidden (order
# IDs are guessable); staff need the order's account verified; unknown is 404 for staff.
for suffix in ("", "/fees"):
    op = ("GET", "/v1/orders/{order_id}" + suffix)
    cell(op, "anon", 401, path="/v1/orders/{OA}" + suffix, code="unauthenticated")
    cell(op, "A", 200, path="/v1/orders/{OA}" + suffix)
    cell(op, "A", 200, path="/v1/orders/{OA_ACTIVE}" + suffix, label="active order")
    cell(op, "B", 403, path="/v1/orders/{OA}" + suffix, code="forbidden", label="on A's")
    cell(op, "B", 403, path="/v1/orders/{OA_ACTIVE}" + suffix, code="forbidden",
         label="on A's active")
    cell(op, "B", 403, path="/v1/orders/{NO_ORDER}" + suffix, code="forbidden",
         label="on an unknown order")
    cell(op, "A", 403, path="/v1/orders/{OB}" + suffix, code="forbidden", label="on B's")
    cell(op, "B", 200, path="/v1/orders/{OB}" + suffix, label="own")
    cell(op, "staff", 403, path="/v1/orders/{OA}" + suffix, code="verification_required",
         label="unverified")
    cell(op, "staff_v", 200, path="/v1/orders/{OA}" + suffix, label="verified A")
    cell(op, "staff_v", 403, path="/v1/orders/{OB}" + suffix, code="verification_required",
         label="on B's, not verified")
    cell(op, "staff", 404, path="/v1/orders/{NO_ORDER}" + suffix, code="not_found",
         label="on an unknown order")

# Tariffs are price lists: any logged-in caller.
op = ("GET", "/v1/tariffs/{tariff_id}")
cell(op, "anon", 401, path="/v1/tariffs/tar_std", code="unauthenticated")
for who in ("A", "B", "staff"):
    cell(op, who, 200, path="/v1/tariffs/tar_std")
cell(op, "B", 404, path="/v1/tariffs/tar_nope", code="not_found", label="unknown")

# Tickets: customers their own (another's is 404, as if it did not exist); staff all.
op = ("GET", "/v1/tickets")
cell(op, "anon", 401, code="unauthenticated")
cell(op, "A", 200, path="/v1/tickets?limit=100", check=items_have(["tA"], ["tB"]))
cell(op, "B", 200, path="/v1/tickets?limit=100", check=items_have(["tB"], ["tA"]))
cell(op, "staff", 200, path="/v1/tickets?limit=100", check=items_have(["tA", "tB"]))
op = ("POST", "/v1/tickets")
cell(op, "anon", 401, body={"category": "app", "message": "x"}, code="unauthenticated")
cell(op, "A", 201, body={"category": "billing", "message": "own order", "order_id": OA},
     check=field("account_id", "acc_1001"))
cell(op, "B", 400, body={"category": "billing", "message": "x", "order_id": OA},
     code="invalid_request", label="with A's order")
cell(op, "B", 400, body={"category": "billing", "message": "x", "order_id": NO_ORDER},
     code="invalid_request", label="with an unknown order")
cell(op, "B", 403, body={"category": "other", "message": "x", "account_id": "acc_1001"},
     code="forbidden", label="for A's account")
cell(op, "staff", 201, body={"category": "vehicle", "message": "seen damaged",
                             "vehicle_id": "veh_002"})

op = ("GET", "/v1/tickets/{ticket_id}")
cell(op, "anon", 401, path="/v1/tickets/{tA}", code="unauthenticated")
cell(op, "A", 200, path="/v1/tickets/{tA}", check=field("id", "tA"))
cell(op, "B", 404, path="/v1/tickets/{tA}", code="not_found", label="on A's")
cell(op, "B", 404, path="/v1/tickets/{NO_TICKET}", code="not_found", label="on an unknown")
cell(op, "A", 404, path="/v1/tickets/{tB}", code="not_found", label="on B's")
cell(op, "staff", 200, path="/v1/tickets/{tA}", check=field("id", "tA"))
# Only staff move tickets; a customer is refused whatever the ticket (so nothing is learnt).
op = ("PATCH", "/v1/tickets/{ticket_id}")
cell(op, "anon", 401, path="/v1/tickets/{tA}", body={"status": "resolved"},
     code="unauthenticated")
cell(op, "A", 403, path="/v1/tickets/{tA}", body={"status": "closed"}, code="forbidden",
     label="own")
cell(op, "B", 403, path="/v1/tickets/{tA}", body={"status": "closed"}, code="forbidden",
     label="on A's")
cell(op, "B", 403, path="/v1/tickets/{NO_TICKET}", body={"status": "closed"}, code="forbidden",
     label="on an unknown")
cell(op, "staff", 200, path="/v1/tickets/{tA}", body={"status": "in_progress"},
     check=field("status", "in_progress"))
op = ("POST", "/v1/tickets/{ticket_id}/comments")
cell(op, "anon", 401, path="/v1/tickets/{tA}/comments", body={"message": "x"},
     code="unauthenticated")
cell(op, "A", 201, path="/v1/tickets/{tA}/comments", body={"message": "from A"})
cell(op, "B", 404, path="/v1/tickets/{tA}/comments", body={"message": "from B"},
     code="not_found", label="on A's")
cell(op, "A", 404, path="/v1/tickets/{tB}/comments", body={"message": "from A"},
     code="not_found", label="on B's")
cell(op, "staff", 201, path="/v1/tickets/{tA}/comments", body={"message": "from staff"})
op = ("POST", "/v1/tickets/{ticket_id}/attachments")
cell(op, "anon", 401, path="/v1/tickets/{tA}/attachments", multipart=("a.png", "image/png", PNG),
     code="unauthenticated")
cell(op, "A", 201, path="/v1/tickets/{tA}/attachments", multipart=("a.png", "image/png", PNG))
cell(op, "B", 404, path="/v1/tickets/{tA}/attachments", multipart=("b.png", "image/png", PNG),
     code="not_found", label="on A's")
cell(op, "staff", 201, path="/v1/tickets/{tA}/attachments",
     multipart=("s.png", "image/png", PNG))
# Ratings: the customer who filed the ticket, once; staff do not rate (403).
op = ("POST", "/v1/tickets/{ticket_id}/rating")
cell(op, "anon", 401, path="/v1/tickets/{tA}/rating", body={"score": 5}, code="unauthenticated")
cell(op, "A", 201, path="new_ticket_of_A", body={"score": 4}, label="own (a new ticket)")
cell(op, "B", 404, path="/v1/tickets/{tA}/rating", body={"score": 1}, code="not_found",
     label="on A's")
cell(op, "staff", 403, path="/v1/tickets/{tA}/rating", body={"score": 5}, code="forbidden")
# The pass: the ticket's customer or staff; another customer's is 403 (DECISIONS), unknown 404.
op = ("GET", "/v1/tickets/{ticket_id}/pass")
cell(op, "anon", 401, path="/v1/tickets/{tA}/pass", code="unauthenticated")
cell(op, "A", 200, path="/v1/tickets/{tA}/pass", check=field("short_code", "codeA"))
cell(op, "B", 403, path="/v1/tickets/{tA}/pass", code="forbidden", label="on A's")
cell(op, "B", 404, path="/v1/tickets/{NO_TICKET}/pass", code="not_found", label="on an unknown")
cell(op, "staff", 200, path="/v1/tickets/{tA}/pass", check=field("ticket_id", "tA"))


def pass_unknown(d, w):
    """A customer learns nothing about someone else's ticket: no ID, status or category."""
    return d["valid"] is False and d["reason"] == "unknown" and d.get("ticket_id") is None \
        and "status" not in d and "category" not in d


op = ("POST", "/v1/tickets/passes/verify")
cell(op, "anon", 401, body={"short_code": "{codeA}"}, code="unauthenticated")
cell(op, "A", 200, body={"pass": "{passA}"},
     check=lambda d, w: d["valid"] is True and d["ticket_id"] == w.ids["tA"])
cell(op, "B", 200, body={"pass": "{passA}"}, check=pass_unknown, label="A's pass")
cell(op, "B", 200, body={"short_code": "{codeA}"}, check=pass_unknown, label="A's short code")
cell(op, "staff", 200, body={"short_code": "{codeA}"},
     check=lambda d, w: d["valid"] is True and d["ticket_id"] == w.ids["tA"])

# Vehicles: staff all; a customer the vehicle of their active order and free vehicles, never
# one another customer rents (403, by ID or by plate); unknown 404 for everyone.
op = ("GET", "/v1/vehicles/{vehicle}")
cell(op, "anon", 401, path="/v1/vehicles/veh_001", code="unauthenticated")
cell(op, "A", 200, path="/v1/vehicles/veh_001", check=field("active_order_id", OA_ACTIVE))
cell(op, "B", 403, path="/v1/vehicles/veh_001", code="forbidden", label="rented by A")
cell(op, "B", 403, path="/v1/vehicles/{PLATE_A}", code="forbidden", label="A's car by plate")
cell(op, "B", 200, path="/v1/vehicles/veh_003", check=field("last_command", None),
     label="free car, not B's commands")
cell(op, "B", 404, path="/v1/vehicles/veh_999", code="not_found", label="unknown")
cell(op, "staff", 200, path="/v1/vehicles/veh_001")
op = ("POST", "/v1/vehicles/{vehicle}/commands")
cell(op, "anon", 401, path="/v1/vehicles/veh_001/commands", body={"type": "unlock"},
     code="unauthenticated")
cell(op, "A", 202, path="/v1/vehicles/veh_001/commands", body={"type": "honk"})
cell(op, "A", 409, path="/v1/vehicles/veh_003/commands", body={"type": "unlock"},
     code="order_not_active", label="a car without A's order")
cell(op, "A", 403, path="/v1/vehicles/veh_003/commands", body={"type": "unlock", "order_id": OB},
     code="forbidden", label="with B's order")
cell(op, "B", 403, path="/v1/vehicles/veh_001/commands", body={"type": "unlock"},
     code="forbidden", label="A's car")
cell(op, "B", 403, path="/v1/vehicles/{PLATE_A}/commands", body={"type": "unlock"},
     code="forbidden", label="A's car by plate")
cell(op, "B", 403, path="/v1/vehicles/veh_001/commands",
     body={"type": "unlock", "order_id": OA_ACTIVE}, code="forbidden",
     label="A's car with A's order")
cell(op, "B", 409, path="/v1/vehicles/veh_003/commands", body={"type": "unlock", "order_id": OB},
     code="order_not_active", label="own finished order")
cell(op, "staff", 400, path="/v1/vehicles/veh_001/commands", body={"type": "unlock"},
     code="reason_required", label="without a reason")
cell(op, "staff", 202, path="/v1/vehicles/veh_001/commands",
     body={"type": "flash", "reason": "customer on the phone"})
cell(op, "staff", 404, path="/v1/vehicles/veh_999/commands", body={"type": "honk", "reason": "x"},
     code="not_found", label="unknown car")
# A frozen account commands no car, before any other check; each refusal is audit-logged.
cell(op, "C", 403, path="/v1/vehicles/veh_003/commands", body={"type": "unlock"},
     code="account_frozen", audit="vehicle_command.refused", label="a free car")
cell(op, "C", 403, path="/v1/vehicles/{PLATE_A}/commands", body={"type": "honk"},
     code="account_frozen", audit="vehicle_command.refused", label="A's car by plate")
cell(op, "C", 403, path="/v1/vehicles/veh_999/commands", body={"type": "lock"},
     code="account_frozen", audit="vehicle_command.refused", label="an unknown car")
# Commands: customers read only those they asked for (others look unknown: 404); staff all.
op = ("GET", "/v1/vehicles/{vehicle}/commands/{command_id}")
cell(op, "anon", 401, path="/v1/vehicles/veh_001/commands/{cA}", code="unauthenticated")
cell(op, "A", 200, path="/v1/vehicles/veh_001/commands/{cA}", check=field("id", "cA"))
cell(op, "A", 404, path="/v1/vehicles/veh_001/commands/{cS}", code="not_found",
     label="staff's command")
cell(op, "A", 404, path="/v1/vehicles/veh_003/commands/{cA}", code="not_found",
     label="own command under another car")
cell(op, "B", 404, path="/v1/vehicles/veh_001/commands/{cA}", code="not_found", label="A's")
cell(op, "B", 404, path="/v1/vehicles/veh_003/commands/{cS3}", code="not_found",
     label="staff's on a free car")
cell(op, "staff", 200, path="/v1/vehicles/veh_001/commands/{cA}", check=field("id", "cA"))
cell(op, "staff", 404, path="/v1/vehicles/veh_003/commands/{cA}", code="not_found",
     label="under another car")


# ---- running one cell -----------------------------------------------------------------------

def fill(value, w):
    if isinstance(value, str):
        return value.format(**w.ids)
    if isinstance(value, dict):
        return {k: fill(v, w) for k, v in value.items()}
    return value


def login_again(w, actor):
    if actor == "staff":
        return staff_token(w.url)
    phone, code = {"A": (A_PHONE, A_CODE), "B": (B_PHONE, B_CODE)}[actor]
    return customer_token(w.url, phone, code)


def run_cell(w, c):
    token = w.tokens[c.actor]
    if c.fresh_token:
        token = login_again(w, c.actor)
    path = c.path
    if path == "new_ticket_of_A":
        path = f"/v1/tickets/{w.ticket('A', 'other')}/rating"
    body = c.body
    if body in ("login_A", "login_C"):
        phone, code = (A_PHONE, A_CODE) if body == "login_A" else (C_PHONE, C_CODE)
        assert call(w.url, "POST", "/v1/auth/otp", {"phone": phone}).status == 202
        body = {"phone": phone, "otp": code}
    return call(w.url, c.op[0], fill(path, w), fill(body, w), token, c.multipart), token


def assert_refusal(c, r):
    assert r.json and isinstance(r.json.get("error"), dict), r.raw
    err = r.json["error"]
    assert err["request_id"] == r.headers["X-Request-Id"]
    if c.code:
        assert err["code"] == c.code, r.raw
    text = r.raw.decode("utf-8", "replace")
    leaked = [s for s in OWNER_DATA if s in text]
    assert not leaked, f"refusal shows {leaked}: {text}"


def assert_one_audit_row(before, after, action, actor):
    """The refusal wrote exactly one audit row, of this action and actor; it is then taken out
    of `after`, which must otherwise equal `before`."""
    old, new = before["audit_log"], after["audit_log"]
    assert new[:len(old)] == old and len(new) == len(old) + 1, (old, new)
    row = new[-1]    # id, at, actor, actor_role, action, target_type, target_id, ...
    assert (row[4], row[2]) == (action, actor), row
    after["audit_log"] = old


@pytest.mark.parametrize("c", M, ids=[c.id for c in M])
def test_matrix(world, c):
    before = world.snapshot() if c.op[0] != "GET" and c.status >= 400 else None
    r, token = run_cell(world, c)
    assert r.status == c.status, f"{c.id}: {r.status} {r.raw[:300]!r}"
    if c.status >= 400:
        assert_refusal(c, r)
    if before is not None:
        after = world.snapshot()
        if c.audit:
            assert_one_audit_row(before, after, c.audit, world.ids[c.actor])
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        assert not changed, f"a refused {c.op[0]} changed the database: {changed}"
    if c.check:
        assert c.check(r.json, world), r.raw
    if c.fresh_token:     # the revoked login is dead; the world's own token is not
        again = call(world.url, "GET", "/v1/auth/whoami", token=token)
        assert again.status == 401 and again.json["error"]["code"] == "token_revoked"
        assert world.as_(c.actor, "GET", "/v1/auth/whoami").status == 200


# ---- the matrix covers the contract ---------------------------------------------------------

def contract_operations_yaml():
    """{(METHOD, path): needs a token} from openapi.yaml, read with PyYAML."""
    import yaml
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    ops = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                security = op.get("security", spec.get("security"))
                ops[(method.upper(), path)] = bool(security)
    return ops


def contract_operations_plain():
    """The same without PyYAML (not a declared dependency): the file's own layout, paths at two
    spaces under `paths:`, methods at four, an operation's `security: []` at six; the
    document-wide `security` is a bearer token."""
    ops, path, current, in_paths = {}, None, None, False
    for line in OPENAPI.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        text = line.strip()
        if indent == 0:
            in_paths = text == "paths:"
            continue
        if not in_paths:
            continue
        if indent == 2 and text.endswith(":"):
            path, current = text[:-1].strip("\"'"), None
        elif indent == 4 and text[:-1] in METHODS and text.endswith(":"):
            current = (text[:-1].upper(), path)
            ops[current] = True
        elif indent == 4:
            current = None
        elif indent == 6 and current and text.replace(" ", "") == "security:[]":
            ops[current] = False
    return ops


def contract_operations():
    try:
        return contract_operations_yaml()
    except ImportError:
        return contract_operations_plain()


def test_the_plain_reader_of_the_contract_agrees_with_pyyaml():
    plain = contract_operations_plain()
    assert len(plain) >= 25 and ("GET", "/v1/meta") in plain and not plain[("GET", "/v1/meta")]
    yaml = pytest.importorskip("yaml")
    assert yaml and plain == contract_operations_yaml()


def test_every_operation_of_the_contract_is_in_the_matrix():
    ops = contract_operations()
    assert len(ops) >= 25
    listed = {c.op for c in M}
    assert set(ops) - listed == set(), "operations in openapi.yaml without matrix rows"
    assert listed - set(ops) == set(), "matrix rows for operations openapi.yaml does not have"


@pytest.mark.parametrize("op", sorted({c.op for c in M}), ids=lambda op: f"{op[0]} {op[1]}")
def test_every_operation_is_tried_by_all_four_callers(op):
    actors = {c.actor for c in M if c.op == op}
    assert {"anon", "A", "B", "staff"} <= actors, f"{op}: only {sorted(actors)}"


@pytest.mark.parametrize("op", sorted({c.op for c in M}), ids=lambda op: f"{op[0]} {op[1]}")
def test_anonymous_is_refused_exactly_where_the_contract_asks_for_a_token(op):
    needs_token = contract_operations()[op]
    anon = [c for c in M if c.op == op and c.actor == "anon"]
    assert all((c.status == 401) == needs_token for c in anon), (op, needs_token)


PROTECTED = [c for c in M if c.actor == "anon" and c.status == 401]


@pytest.mark.parametrize("c", PROTECTED, ids=[f"{c.op[0]} {c.op[1]}" for c in PROTECTED])
def test_a_garbage_or_revoked_token_is_401_everywhere(world, c):
    r = call(world.url, c.op[0], fill(c.path, world), fill(c.body, world), "f" * 64, c.multipart)
    assert r.status == 401 and r.json["error"]["code"] == "token_invalid", r.raw
    revoked = login_again(world, "B")
    assert call(world.url, "DELETE", "/v1/auth/token", token=revoked).status == 204
    before = world.snapshot()
    r = call(world.url, c.op[0], fill(c.path, world), fill(c.body, world), revoked, c.multipart)
    assert r.status == 401 and r.json["error"]["code"] == "token_revoked", r.raw
    after = world.snapshot()
    del before["revoked_tokens"], after["revoked_tokens"]
    assert before == after


# ---- the allowed mutations that would change the world for other cells -------------------

def fresh(tmp_path):
    db = tmp_path / "carhelp.db"
    return chtest.Server("--db", str(db), "--vehicle-delay-ms", "200"), db


def account_status(db, account):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT status FROM accounts WHERE id = ?", (account,)).fetchone()[0]
    finally:
        con.close()


def test_a_customer_freezes_only_their_own_account(tmp_path):
    srv, db = fresh(tmp_path)
    with srv:
        a, b = customer_token(srv.url, A_PHONE, A_CODE), customer_token(srv.url, B_PHONE, B_CODE)
        assert call(srv.url, "POST", "/v1/accounts/acc_1001/freeze", {}, b).status == 403
        assert account_status(db, "acc_1001") == "active"
        r = call(srv.url, "POST", "/v1/accounts/acc_1001/freeze", {"reason": "lost phone"}, a)
        assert r.status == 200 and r.json["status"] == "frozen", r.raw
        assert account_status(db, "acc_1002") == "active"


def test_staff_freeze_only_after_verifying_and_with_a_reason(tmp_path):
    srv, db = fresh(tmp_path)
    with srv:
        s = staff_token(srv.url)
        r = call(srv.url, "POST", "/v1/accounts/acc_1002/freeze", {"reason": "stolen"}, s)
        assert r.status == 403 and r.json["error"]["code"] == "verification_required"
        assert call(srv.url, "POST", "/v1/accounts/verify",
                    {"phone": B_PHONE, "member_id": B_MEMBER}, s).json["verified"] is True
        r = call(srv.url, "POST", "/v1/accounts/acc_1002/freeze", {}, s)
        assert r.status == 400 and r.json["error"]["code"] == "reason_required"
        assert account_status(db, "acc_1002") == "active"
        r = call(srv.url, "POST", "/v1/accounts/acc_1002/freeze", {"reason": "stolen"}, s)
        assert r.status == 200 and r.json["status"] == "frozen", r.raw
        # Verification belongs to the token that did it: another staff login starts over.
        other = staff_token(srv.url)
        r = call(srv.url, "GET", "/v1/accounts/acc_1002", token=other)
        assert r.status == 403 and r.json["error"]["code"] == "verification_required"


@pytest.fixture(scope="module")
def frozen(tmp_path_factory):
    """A service where C froze his own account as stolen: his session ended with the freeze."""
    db = tmp_path_factory.mktemp("authz-frozen") / "carhelp.db"
    srv = chtest.Server("--db", str(db), "--vehicle-delay-ms", "200")
    try:
        token = customer_token(srv.url, C_PHONE, C_CODE)
        r = call(srv.url, "POST", "/v1/accounts/acc_1003/freeze", {"reason": "phone stolen"},
                 token)
        assert r.status == 200, r.raw
        yield srv, db, token
    finally:
        srv.stop()


@pytest.mark.parametrize("c", PROTECTED, ids=[f"{c.op[0]} {c.op[1]}" for c in PROTECTED])
def test_a_session_ended_by_a_freeze_is_401_everywhere_and_each_use_is_audited(world, frozen, c):
    srv, db, token = frozen
    before = snapshot(db)
    r = call(srv.url, c.op[0], fill(c.path, world), fill(c.body, world), token, c.multipart)
    assert r.status == 401 and r.json["error"]["code"] == "token_revoked", r.raw
    after = snapshot(db)
    assert_one_audit_row(before, after, "request.refused", "acc_1003")
    assert before == after


def test_a_login_to_an_account_frozen_as_stolen_is_403_and_audited(frozen):
    srv, db, _ = frozen
    assert call(srv.url, "POST", "/v1/auth/otp", {"phone": C_PHONE}).status == 202
    before = snapshot(db)
    r = call(srv.url, "POST", "/v1/auth/token", {"phone": C_PHONE, "otp": "000000"})
    assert r.status == 401 and r.json["error"]["code"] == "invalid_credentials", r.raw
    assert snapshot(db) == before    # a wrong code learns nothing of the freeze
    r = call(srv.url, "POST", "/v1/auth/token", {"phone": C_PHONE, "otp": C_CODE})
    assert r.status == 403 and r.json["error"]["code"] == "account_frozen", r.raw
    assert r.json["error"]["request_id"] == r.headers["X-Request-Id"]
    after = snapshot(db)
    assert_one_audit_row(before, after, "login.refused", "acc_1003")
    del before["revoked_tokens"], after["revoked_tokens"]
    assert before == after           # and no token was issued


def test_a_rating_is_the_filers_and_only_once(world):
    t = world.ticket("B", "cleanliness")
    assert world.as_("A", "POST", f"/v1/tickets/{t}/rating", {"score": 1}).status == 404
    assert world.as_("staff", "POST", f"/v1/tickets/{t}/rating", {"score": 1}).status == 403
    r = world.as_("B", "POST", f"/v1/tickets/{t}/rating", {"score": 5})
    assert r.status == 201 and r.json["score"] == 5, r.raw
    r = world.as_("B", "POST", f"/v1/tickets/{t}/rating", {"score": 1})
    assert r.status == 409 and r.json["error"]["code"] == "already_rated"
    assert world.as_("B", "GET", f"/v1/tickets/{t}").json["rating"]["score"] == 5


def test_a_customers_idempotency_key_is_not_anothers(world):
    """Keys are per caller: B replaying A's key must not get A's ticket back."""
    key = "authz-shared-key-1"
    body = {"category": "app", "message": "same key, same body"}
    hdr = {"Idempotency-Key": key}
    for who in ("A", "B"):
        req = urllib.request.Request(world.url + "/v1/tickets", data=json.dumps(body).encode(),
                                     method="POST", headers={
                                         "Content-Type": "application/json",
                                         "Authorization": f"Bearer {world.tokens[who]}", **hdr})
        with _opener.open(req, timeout=30) as r:
            doc = json.loads(r.read())
        if who == "A":
            a_ticket = doc["id"]
            assert doc["account_id"] == "acc_1001"
        else:
            assert doc["id"] != a_ticket and doc["account_id"] == "acc_1002"
            assert r.headers.get("Idempotent-Replayed") != "true"


# ---- the CLI: the same refusals, cli.md's exit codes ---------------------------------------

@pytest.fixture
def cli(world, tmp_path):
    def run(actor, *args, input=None):
        extra = {"CARHELP_TOKEN": world.tokens[actor]} if world.tokens[actor] else {}
        env = chtest.isolated_env(tmp_path, world.url, **extra)
        return chtest.run(env, *args, input=input)
    run.env = chtest.isolated_env(tmp_path, world.url)
    return run


def outbox_files(env):
    box = Path(env["CARHELP_STATE_DIR"]) / "outbox"
    return sorted(p.name for p in box.glob("*.json")) if box.is_dir() else []


CLI_DENIALS = [
    # (actor, args, exit, what the line names)
    ("anon", ["order", "show", OA], 4, "login"),
    ("anon", ["ticket", "list"], 4, "login"),
    ("anon", ["vehicle", "show", "veh_001"], 4, "login"),
    ("B", ["account", "show", "acc_1001"], 5, None),
    ("B", ["order", "show", OA], 5, None),
    ("B", ["order", "show", NO_ORDER], 5, None),
    ("B", ["order", "fees", OA], 5, None),
    ("B", ["order", "list", "--account", "acc_1001"], 5, None),
    ("B", ["ticket", "show", "{tA}"], 3, None),
    ("B", ["ticket", "qr", "{tA}", "--format", "ascii"], 5, None),
    ("B", ["vehicle", "show", PLATE_A], 5, None),
    ("staff", ["account", "show", "acc_1001"], 5, "verif"),
    ("staff", ["order", "show", OA], 5, "verif"),
    ("staff", ["order", "show", NO_ORDER], 3, None),
    ("staff_v", ["order", "show", OB], 5, "verif"),
]


@pytest.mark.parametrize("actor,args,code,names", CLI_DENIALS,
                         ids=[f"{a} {' '.join(x)}" for a, x, _, _ in CLI_DENIALS])
def test_cli_read_refusals_have_their_exit_code(world, cli, actor, args, code, names):
    r = cli(actor, *[fill(a, world) for a in args])
    assert r.returncode == code, (r.returncode, r.stderr)
    assert r.stdout == ""
    first = r.stderr.splitlines()[0]
    assert first.startswith("carhelp: ")
    if names:
        assert names in r.stderr.lower()
    assert not [s for s in OWNER_DATA if s in r.stderr]


def test_cli_json_refusal_carries_status_code_and_request_id(world, cli):
    r = cli("B", "--json", "order", "show", OA)
    assert r.returncode == 5 and r.stdout == ""
    err = json.loads(r.stderr.strip().splitlines()[-1])["error"]
    assert err["code"] == "forbidden" and err["http_status"] == 403
    assert err["request_id"].startswith("req_")


CLI_MUTATIONS = [
    ("B", ["ticket", "comment", "{tA}", "--message", "not mine"], 3),
    ("B", ["ticket", "attach", "{tA}", "{png}"], 3),
    ("B", ["ticket", "rate", "{tA}", "--score", "1"], 3),
    ("staff", ["ticket", "rate", "{tA}", "--score", "5"], 5),
    ("B", ["account", "freeze", "acc_1001", "--reason", "stolen", "--yes"], 5),
    ("staff", ["account", "freeze", "acc_1001", "--reason", "stolen", "--yes"], 5),
    ("B", ["account", "verify", "--phone", A_PHONE, "--member", A_MEMBER], 5),
    ("B", ["vehicle", "honk", PLATE_A, "--yes"], 5),
    ("B", ["unlock", "veh_001", "--yes", "--no-wait"], 5),
    ("A", ["unlock", "veh_003", "--yes", "--no-wait"], 8),
    ("B", ["order", "dispute", OA, "--reason", "not mine"], 5),
    ("anon", ["ticket", "comment", "{tA}", "--message", "who am i"], 4),
    ("anon", ["unlock", "veh_001", "--yes", "--no-wait"], 4),
]


@pytest.mark.parametrize("actor,args,code", CLI_MUTATIONS,
                         ids=[f"{a} {' '.join(x)}" for a, x, _ in CLI_MUTATIONS])
def test_cli_refused_mutations_exit_with_their_code_and_change_nothing(world, cli, tmp_path,
                                                                      actor, args, code):
    png = tmp_path / "evidence.png"
    png.write_bytes(PNG)
    ids = dict(world.ids, png=str(png))
    before = world.snapshot()
    r = cli(actor, *[a.format(**ids) for a in args])
    assert r.returncode == code, (r.returncode, r.stderr)
    assert r.stderr.startswith("carhelp: ") or "carhelp: " in r.stderr
    after = world.snapshot()
    changed = {k for k in before if before[k] != after[k]}
    assert not changed, f"refused through the CLI, yet changed {changed}"
    assert outbox_files(cli.env) == [], "a refused create must not wait in the outbox"


def test_cli_unlock_by_a_frozen_account_is_5_with_the_support_number_and_audited(world, cli):
    before = world.snapshot()
    r = cli("C", "unlock", "veh_003", "--yes", "--no-wait")
    assert r.returncode == 5, r.stderr
    assert "frozen" in r.stderr and "400-000-1234" in r.stderr
    after = world.snapshot()
    assert_one_audit_row(before, after, "vehicle_command.refused", "acc_1003")
    assert before == after
    assert outbox_files(cli.env) == []


def test_cli_ticket_verify_of_anothers_pass_is_1_and_names_nothing(world, cli):
    r = cli("B", "ticket", "verify", world.ids["passA"])
    assert r.returncode == 1, r.stderr
    assert world.ids["tA"] not in r.stdout + r.stderr
    r = cli("A", "ticket", "verify", world.ids["passA"])
    assert r.returncode == 0, r.stderr


def test_cli_revoked_token_is_4(world, cli):
    token = login_again(world, "B")
    assert call(world.url, "DELETE", "/v1/auth/token", token=token).status == 204
    env = chtest.isolated_env(Path(cli.env["HOME"]).parent, world.url, CARHELP_TOKEN=token)
    r = chtest.run(env, "ticket", "list")
    assert r.returncode == 4, r.stderr
    assert "login" in r.stderr
