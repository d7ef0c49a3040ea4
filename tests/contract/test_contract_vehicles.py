"""Vehicles through the Prism proxy: GET /v1/vehicles/{vehicle} (by ID and by percent-encoded
plate), POST .../commands (202, replay, key conflict, refusals), GET .../commands/{id} until
the simulated vehicle answers (succeeded, failed vehicle_offline), and the real CLI's vehicle
commands. Every exchange must match api/openapi.yaml (clean_log)."""
import time
import uuid
from urllib.parse import quote

import pytest

from contract_lib import assert_conforms, assert_error, chtest, http

pytestmark = pytest.mark.usefixtures("clean_log")

CUSTOMER = ("13800138000", "246810")      # 王小明: active order on veh_001
OTHER = ("13912345678", "135790")         # 李娜: no active order
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"
PLATE = "京AD12345"


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


def key_header():
    return {"Idempotency-Key": str(uuid.uuid4())}


def wait_final(base, token, vehicle, command_id, timeout=15):
    end = time.monotonic() + timeout
    while True:
        doc = assert_conforms(http(base, "GET", f"/v1/vehicles/{vehicle}/commands/{command_id}",
                                   token=token), 200)
        if doc["status"] in ("succeeded", "failed", "expired") or time.monotonic() > end:
            return doc
        time.sleep(0.2)


def test_get_vehicle_by_id_and_by_plate(prism, customer):
    by_id = assert_conforms(http(prism.url, "GET", "/v1/vehicles/veh_001", token=customer), 200)
    by_plate = assert_conforms(http(prism.url, "GET", "/v1/vehicles/" + quote(PLATE),
                                    token=customer), 200)
    assert by_id["id"] == by_plate["id"] == "veh_001"
    assert by_id["plate"] == PLATE and by_id["active_order_id"] == "ord_20261125_0004"
    assert by_id["location"] == {"lat": 39.9087, "lng": 116.3975, "address": None}


def test_get_vehicle_refusals(prism, other, staff):
    assert_error(http(prism.url, "GET", "/v1/vehicles/veh_001", token=other), 403, "forbidden")
    assert_error(http(prism.url, "GET", "/v1/vehicles/veh_999", token=staff), 404, "not_found")
    doc = assert_conforms(http(prism.url, "GET", "/v1/vehicles/veh_002", token=staff), 200)
    assert doc["online"] is False and doc["fuel_pct"] == 12 and doc["battery_pct"] is None


def test_command_accepted_replayed_and_confirmed(prism, customer):
    key = key_header()
    first = assert_conforms(http(prism.url, "POST", "/v1/vehicles/veh_001/commands",
                                 {"type": "flash"}, token=customer, headers=key), 202)
    assert first["status"] == "queued" and first["order_id"] == "ord_20261125_0004"
    again = http(prism.url, "POST", "/v1/vehicles/veh_001/commands", {"type": "flash"},
                 token=customer, headers=key)
    assert assert_conforms(again, 202)["id"] == first["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert_error(http(prism.url, "POST", "/v1/vehicles/veh_001/commands", {"type": "honk"},
                      token=customer, headers=key), 409, "idempotency_conflict")
    final = wait_final(prism.url, customer, "veh_001", first["id"])
    assert final["status"] == "succeeded" and final["failure_code"] is None
    shown = assert_conforms(http(prism.url, "GET", "/v1/vehicles/veh_001", token=customer), 200)
    assert shown["last_command"]["id"] == first["id"]


def test_offline_vehicle_command_fails(prism, staff):
    cmd = assert_conforms(http(prism.url, "POST", "/v1/vehicles/" + quote("京B67890") + "/commands",
                               {"type": "unlock", "reason": "contract check"}, token=staff,
                               headers=key_header()), 202)
    final = wait_final(prism.url, staff, "veh_002", cmd["id"])
    assert final["status"] == "failed" and final["failure_code"] == "vehicle_offline"


def test_command_refusals(prism, customer, other, staff):
    url = "/v1/vehicles/veh_003/commands"
    assert_error(http(prism.url, "POST", url, {"type": "unlock"}, token=other,
                      headers=key_header()), 409, "order_not_active")
    assert_error(http(prism.url, "POST", "/v1/vehicles/veh_001/commands", {"type": "unlock"},
                      token=other, headers=key_header()), 403, "forbidden")
    assert_error(http(prism.url, "POST", url, {"type": "honk"}, token=staff,
                      headers=key_header()), 400, "reason_required")
    assert_error(http(prism.url, "POST", "/v1/vehicles/veh_999/commands",
                      {"type": "honk", "reason": "x"}, token=staff, headers=key_header()),
                 404, "not_found")
    assert_error(http(prism.url, "GET", "/v1/vehicles/veh_001/commands/cmd_nope",
                      token=customer), 404, "not_found")


def test_cli_vehicle_commands_through_the_proxy(prism, tmp_path):
    env = chtest.isolated_env(tmp_path, api_url=prism.url)
    r = chtest.run(env, "login", "--phone", CUSTOMER[0], input=CUSTOMER[1] + "\n")
    assert r.returncode == 0, r.stderr
    for args in (("vehicle", "show", PLATE), ("unlock", PLATE, "--yes"),
                 ("--json", "lock", PLATE, "--yes"), ("vehicle", "honk", "veh_001", "--no-wait")):
        r = chtest.run(env, *args)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    env2 = chtest.isolated_env(tmp_path / "staff", api_url=prism.url)
    r = chtest.run(env2, "login", "--staff", STAFF, input=STAFF_PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    r = chtest.run(env2, "unlock", "京B67890", "--reason", "contract", "--confirm", "京B67890")
    assert r.returncode == 8, r.stderr
