"""Ticket passes against api/openapi.yaml, through the Prism proxy: the pass of one's own
ticket (and staff's of anyone's), another customer's refused with 403, an unknown ticket 404,
and the verify answers for a good pass, a short code, a tampered pass, an unknown code, and
bad requests."""
import uuid

import pytest

from contract_lib import assert_conforms, assert_error, http

pytestmark = pytest.mark.usefixtures("clean_log")

CUSTOMER = ("13800138000", "246810")
OTHER = ("13912345678", "135790")
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"


def customer_token(base, who=CUSTOMER):
    assert_conforms(http(base, "POST", "/v1/auth/otp", {"phone": who[0]}), 202)
    return assert_conforms(http(base, "POST", "/v1/auth/token",
                                {"phone": who[0], "otp": who[1]}), 200)["token"]


@pytest.fixture(scope="module")
def customer(prism):
    return customer_token(prism.url)


@pytest.fixture(scope="module")
def other(prism):
    return customer_token(prism.url, OTHER)


@pytest.fixture(scope="module")
def staff(prism):
    return assert_conforms(http(prism.url, "POST", "/v1/auth/token",
                                {"staff_id": STAFF, "password": STAFF_PASSWORD}), 200)["token"]


@pytest.fixture(scope="module")
def ticket(prism, customer):
    body = {"category": "billing", "message": "charged twice", "order_id": "ord_20261101_0001"}
    return assert_conforms(http(prism.url, "POST", "/v1/tickets", body, token=customer,
                                headers={"Idempotency-Key": str(uuid.uuid4())}), 201)["id"]


def get_pass(prism, token, ticket):
    return assert_conforms(http(prism.url, "GET", f"/v1/tickets/{ticket}/pass", token=token), 200)


def verify(prism, token, body):
    return assert_conforms(http(prism.url, "POST", "/v1/tickets/passes/verify", body,
                                token=token), 200)


def test_owner_gets_a_pass_that_verifies(prism, customer, ticket):
    p = get_pass(prism, customer, ticket)
    assert p["ticket_id"] == ticket and len(p["short_code"]) == 8
    r = verify(prism, customer, {"pass": p["pass"]})
    assert r["valid"] is True and r["reason"] is None and r["ticket_id"] == ticket
    assert r["status"] == "open" and r["category"] == "billing"


def test_staff_get_and_verify_anyones_pass(prism, staff, ticket):
    p = get_pass(prism, staff, ticket)
    assert verify(prism, staff, {"short_code": p["short_code"]})["valid"] is True


def test_short_code_verifies(prism, customer, ticket):
    code = get_pass(prism, customer, ticket)["short_code"]
    r = verify(prism, customer, {"short_code": code.lower()})
    assert r["valid"] is True and r["ticket_id"] == ticket and r["expires_at"] is None


def test_tampered_pass_is_not_valid(prism, customer, ticket):
    p = get_pass(prism, customer, ticket)["pass"]
    bad = p[:10] + ("A" if p[10] != "A" else "B") + p[11:]
    r = verify(prism, customer, {"pass": bad})
    assert r["valid"] is False and r["reason"] == "tampered" and r["ticket_id"] is None


def test_unknown_short_code_is_not_valid(prism, customer):
    r = verify(prism, customer, {"short_code": "ZZZZZZZZ"})
    assert r["valid"] is False and r["reason"] == "unknown"


def test_other_customer_is_refused_and_learns_nothing(prism, customer, other, ticket):
    assert_error(http(prism.url, "GET", f"/v1/tickets/{ticket}/pass", token=other), 403,
                 "forbidden")
    p = get_pass(prism, customer, ticket)["pass"]
    r = verify(prism, other, {"pass": p})
    assert r["valid"] is False and r["reason"] == "unknown" and r["ticket_id"] is None


def test_unknown_ticket_is_404(prism, customer):
    assert_error(http(prism.url, "GET", "/v1/tickets/tkt_nope/pass", token=customer), 404,
                 "not_found")

