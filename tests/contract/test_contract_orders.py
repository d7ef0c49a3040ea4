"""Orders, fees and tariffs through the Prism proxy: the account's order list (pages, cursors,
filters, 400s), one order, its fees, a tariff, the refusals (401, 403 forbidden, 403
verification_required, 404), by direct HTTP and by the real CLI (order list/show/fees/audit).

`order dispute` creates a ticket, so it runs against a service and a proxy of its own: the
session's shared service keeps the demo's "no tickets" for everyone else."""
import json
import urllib.parse

import pytest

from contract_lib import Prism, assert_conforms, assert_error, chtest, http

pytestmark = pytest.mark.usefixtures("clean_log")

WANG_PHONE, WANG_CODE = "13800138000", "246810"
LI_PHONE, LI_CODE = "13912345678", "135790"
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"


def customer_token(url, phone, code):
    assert_conforms(http(url, "POST", "/v1/auth/otp", {"phone": phone}), 202)
    return assert_conforms(http(url, "POST", "/v1/auth/token", {"phone": phone, "otp": code}),
                           200)["token"]


@pytest.fixture(scope="module")
def li(prism):
    return customer_token(prism.url, LI_PHONE, LI_CODE)


@pytest.fixture(scope="module")
def wang(prism):
    return customer_token(prism.url, WANG_PHONE, WANG_CODE)


@pytest.fixture(scope="module")
def staff(prism):
    return assert_conforms(http(prism.url, "POST", "/v1/auth/token",
                                {"staff_id": STAFF, "password": STAFF_PASSWORD}), 200)["token"]


def get(prism, path, token):
    return http(prism.url, "GET", path, token=token)


# -- direct HTTP ----------------------------------------------------------------------------

def test_list_first_page(prism, li):
    doc = assert_conforms(get(prism, "/v1/accounts/acc_1002/orders", li), 200)
    assert [o["id"] for o in doc["items"]] == ["ord_20261103_0003", "ord_20261102_0002"]
    assert doc["next_cursor"] is None


def test_list_pages_by_cursor(prism, li):
    first = assert_conforms(get(prism, "/v1/accounts/acc_1002/orders?limit=1", li), 200)
    assert len(first["items"]) == 1 and first["next_cursor"]
    cursor = urllib.parse.quote(first["next_cursor"], safe="")
    second = assert_conforms(
        get(prism, f"/v1/accounts/acc_1002/orders?limit=1&cursor={cursor}", li), 200)
    assert [o["id"] for o in second["items"]] == ["ord_20261102_0002"]
    assert second["next_cursor"] is None


def test_list_filters(prism, wang):
    active = assert_conforms(get(prism, "/v1/accounts/acc_1001/orders?status=active", wang), 200)
    assert [o["id"] for o in active["items"]] == ["ord_20261125_0004"]
    since = urllib.parse.quote("2026-11-02T00:00:00+08:00", safe="")
    later = assert_conforms(get(prism, f"/v1/accounts/acc_1001/orders?since={since}"
                                       "&status=completed", wang), 200)
    assert later["items"] == []


# (A limit outside 1..100 breaks the spec itself: Prism refuses it before the service sees it,
# so the e2e suite checks that 400 directly.)
@pytest.mark.parametrize("query", ["cursor=zz", "cursor=00", "cursor=2f"])
def test_list_bad_cursor_is_400(prism, li, query):
    assert_error(get(prism, f"/v1/accounts/acc_1002/orders?{query}", li), 400,
                 "invalid_request")


def test_list_of_another_account_is_403(prism, wang):
    assert_error(get(prism, "/v1/accounts/acc_1002/orders", wang), 403, "forbidden")


def test_list_for_staff_needs_verification(prism, staff):
    assert_error(get(prism, "/v1/accounts/acc_1002/orders", staff), 403, "verification_required")
    assert_error(get(prism, "/v1/accounts/acc_9999/orders", staff), 404, "not_found")


def test_list_with_an_unknown_token_is_401(prism):
    assert_error(get(prism, "/v1/accounts/acc_1002/orders", "0" * 64), 401, "token_invalid")


def test_one_order(prism, li):
    doc = assert_conforms(get(prism, "/v1/orders/ord_20261102_0002", li), 200)
    assert doc["duration_s"] == 2100 and doc["distance_m"] == 12000
    assert doc["vehicle"]["plate"] == "沪AD54321" and doc["total_fen"] == 4813


def test_an_active_order(prism, wang):
    doc = assert_conforms(get(prism, "/v1/orders/ord_20261125_0004", wang), 200)
    assert doc["status"] == "active" and doc["ended_at"] is None and doc["total_fen"] is None


def test_fees(prism, li):
    doc = assert_conforms(get(prism, "/v1/orders/ord_20261103_0003/fees", li), 200)
    assert [l["amount_fen"] for l in doc["lines"]] == [700, 520, 300, 300]
    assert doc["total_fen"] == doc["paid_fen"] == 1820 and doc["refunds"] == []


def test_order_and_fees_of_another_customer_are_403(prism, wang):
    assert_error(get(prism, "/v1/orders/ord_20261102_0002", wang), 403, "forbidden")
    assert_error(get(prism, "/v1/orders/ord_20261102_0002/fees", wang), 403, "forbidden")
    assert_error(get(prism, "/v1/orders/ord_19990101_9999", wang), 403, "forbidden")


def test_unknown_order_for_staff_is_404(prism, staff):
    assert_error(get(prism, "/v1/orders/ord_19990101_9999", staff), 404, "not_found")
    assert_error(get(prism, "/v1/orders/ord_19990101_9999/fees", staff), 404, "not_found")


def test_tariff(prism, li):
    doc = assert_conforms(get(prism, "/v1/tariffs/tar_std", li), 200)
    kinds = {r["kind"]: r for r in doc["rules"]}
    assert kinds["time"]["price_fen"] == 35 and kinds["time"]["cap_fen"] == 30000
    assert kinds["distance"]["rounding"] == "half_up"
    assert_error(get(prism, "/v1/tariffs/tar_nope", li), 404, "not_found")


# -- the CLI --------------------------------------------------------------------------------

@pytest.fixture
def cli(prism, tmp_path):
    env = chtest.isolated_env(tmp_path, api_url=prism.url)

    def run(*args, input=None):
        return chtest.run(env, *args, input=input)
    r = run("login", "--phone", LI_PHONE, input=LI_CODE + "\n")
    assert r.returncode == 0, r.stderr
    return run


def test_cli_list_all_show_fees(cli):
    r = cli("--json", "order", "list", "--limit", "1", "--all")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["items"]) == 2
    assert cli("order", "list", "--status", "completed", "--since", "30d").returncode == 0
    assert cli("order", "show", "ord_20261102_0002").returncode == 0
    assert cli("order", "fees", "ord_20261102_0002").returncode == 0


def test_cli_audit(cli):
    r = cli("--json", "order", "audit", "ord_20261102_0002", "ord_20261103_0003")
    assert r.returncode == 1, r.stderr
    diffs = [f["difference_fen"] for i in json.loads(r.stdout)["items"] for f in i["findings"]]
    assert diffs == [2100, 300]


def test_cli_refusals(cli):
    assert cli("order", "show", "ord_20261101_0001").returncode == 5


def test_cli_dispute_through_its_own_proxy(tmp_path):
    srv = chtest.Server()
    proxy = None
    try:
        proxy = Prism(srv.url, tmp_path / "prism-dispute.log")
        mark = proxy.mark()
        env = chtest.isolated_env(tmp_path, api_url=proxy.url)
        assert chtest.run(env, "login", "--phone", LI_PHONE, input=LI_CODE + "\n").returncode == 0
        r = chtest.run(env, "--json", "order", "dispute", "ord_20261102_0002", "--reason",
                       "billed 95 minutes for a 35-minute trip")
        assert r.returncode == 0, r.stderr
        ticket = json.loads(r.stdout)
        assert ticket["category"] == "billing" and ticket["order_id"] == "ord_20261102_0002"
        problems = proxy.problems_since(mark)
        assert not problems, "Prism reported contract problems:\n" + "\n".join(problems)
    finally:
        if proxy:
            proxy.stop()
        srv.stop()
