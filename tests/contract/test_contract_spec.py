"""Project conventions of api/openapi.yaml that Redocly's rules do not know: every resource of
api.md is there, every response carries X-Request-Id, 429/503 carry Retry-After, errors use
the one Error model, creates take Idempotency-Key, lists paginate by cursor, and only the
documented endpoints go without a token. Reads the spec as Redocly bundles it (refs inlined)."""
import json
import os
import subprocess

import pytest

from contract_lib import ROOT, SPEC

METHODS = ("get", "put", "post", "delete", "patch")

# api.md's resource table (plus the freeze and order list paths it names).
RESOURCES = {
    ("get", "/v1/meta"), ("post", "/v1/auth/otp"), ("post", "/v1/auth/token"),
    ("delete", "/v1/auth/token"), ("get", "/v1/auth/whoami"),
    ("post", "/v1/accounts/verify"), ("get", "/v1/accounts/{account_id}"),
    ("post", "/v1/accounts/{account_id}/freeze"), ("get", "/v1/accounts/{account_id}/orders"),
    ("get", "/v1/orders/{order_id}"), ("get", "/v1/orders/{order_id}/fees"),
    ("get", "/v1/tariffs/{tariff_id}"),
    ("post", "/v1/tickets"), ("get", "/v1/tickets"), ("get", "/v1/tickets/{ticket_id}"),
    ("post", "/v1/tickets/{ticket_id}/comments"), ("post", "/v1/tickets/{ticket_id}/attachments"),
    ("post", "/v1/tickets/{ticket_id}/rating"), ("get", "/v1/tickets/{ticket_id}/pass"),
    ("post", "/v1/tickets/passes/verify"),
    ("get", "/v1/vehicles/{vehicle}"), ("post", "/v1/vehicles/{vehicle}/commands"),
    ("get", "/v1/vehicles/{vehicle}/commands/{command_id}"),
    ("get", "/v1/support/status"),
}
NO_AUTH = {"getMeta", "requestOtp", "createToken", "getSupportStatus"}
KEYED = {"createTicket", "addTicketComment", "addTicketAttachment", "rateTicket",
         "createVehicleCommand", "freezeAccount"}
LISTS = {"listTickets", "listAccountOrders"}
# This endpoints: their response objects are closed (additionalProperties: false).
CLOSED = {"getMeta", "requestOtp", "createToken", "whoami", "getAccount", "getSupportStatus"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "openapi.json"
    redocly = os.path.join(ROOT, "tools", "node_modules", ".bin", "redocly")
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true")
    subprocess.run([redocly, "bundle", SPEC, "--dereferenced", "--ext", "json",
                    "--output", str(out)], check=True, capture_output=True, env=env, cwd=ROOT)
    with open(out) as f:
        return json.load(f)


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                params = item.get("parameters", []) + op.get("parameters", [])
                yield method, path, op, params


def test_every_resource_of_api_md(spec):
    have = {(m, p) for m, p, _, _ in operations(spec)}
    assert RESOURCES <= have, f"missing: {sorted(RESOURCES - have)}"


def test_version_and_license(spec):
    assert spec["openapi"].startswith("3.1.")
    assert spec["info"]["license"]["identifier"] == "GPL-3.0-or-later"
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]


def test_security(spec):
    for m, p, op, _ in operations(spec):
        if op["operationId"] in NO_AUTH:
            assert op.get("security") == [], (m, p)
        else:
            assert "security" not in op, f"{m} {p} overrides the bearer requirement"


def test_every_response_has_request_id(spec):
    for m, p, op, _ in operations(spec):
        for status, resp in op["responses"].items():
            hdr = resp.get("headers", {}).get("X-Request-Id")
            assert hdr and hdr.get("required") is True, (m, p, status)


def test_retry_after_on_429_and_503(spec):
    for m, p, op, _ in operations(spec):
        for status in ("429", "503"):
            resp = op["responses"].get(status)
            assert resp, f"{m} {p} lacks {status}"
            hdr = resp.get("headers", {}).get("Retry-After")
            assert hdr and hdr.get("required") is True, (m, p, status)


def test_errors_use_the_error_model(spec):
    for m, p, op, _ in operations(spec):
        assert "500" in op["responses"], (m, p)
        assert any(s.startswith("4") for s in op["responses"]), (m, p)
        for status, resp in op["responses"].items():
            if status.startswith("2"):
                continue
            schema = resp["content"]["application/json"]["schema"]
            assert schema["required"] == ["error"], (m, p, status)
            inner = schema["properties"]["error"]
            assert set(inner["required"]) == {"code", "message", "request_id"}, (m, p, status)


def test_idempotency_keys(spec):
    for m, p, op, params in operations(spec):
        names = {x["name"] for x in params if x["in"] == "header"}
        if op["operationId"] in KEYED:
            assert "Idempotency-Key" in names, (m, p)
            ok = [r for s, r in op["responses"].items() if s.startswith("2")]
            assert all("Idempotent-Replayed" in r.get("headers", {}) for r in ok), (m, p)
        elif m == "post" and "Idempotency-Key" not in names:
            assert op["operationId"] in {"requestOtp", "createToken", "verifyAccount",
                                         "verifyTicketPass"}, f"{m} {p} has no Idempotency-Key"


def test_pagination(spec):
    for m, p, op, params in operations(spec):
        if op["operationId"] not in LISTS:
            continue
        names = {x["name"] for x in params if x["in"] == "query"}
        assert {"limit", "cursor"} <= names, (m, p)
        schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert set(schema["required"]) >= {"items", "next_cursor"}, (m, p)
        assert "null" in schema["properties"]["next_cursor"]["type"], (m, p)


def closed(schema, where):
    """Every object in the schema forbids unknown properties."""
    for alt in schema.get("oneOf", []) + schema.get("anyOf", []) + schema.get("allOf", []):
        closed(alt, where)
    types = schema.get("type")
    if types == "object" or (isinstance(types, list) and "object" in types):
        if "properties" in schema:
            assert schema.get("additionalProperties") is False, where
            for name, sub in schema["properties"].items():
                closed(sub, f"{where}.{name}")
    if "items" in schema:
        closed(schema["items"], f"{where}[]")


def test_foundation_responses_are_closed(spec):
    seen = set()
    for m, p, op, _ in operations(spec):
        if op["operationId"] not in CLOSED:
            continue
        seen.add(op["operationId"])
        for status, resp in op["responses"].items():
            for media in resp.get("content", {}).values():
                closed(media["schema"], f"{m} {p} {status}")
    assert seen == CLOSED
