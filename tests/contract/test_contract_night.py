"""A service whose clock is fixed at night (`carhelp-server --now`): the support line is
closed, so the nullable fields of support status are null and must still validate, and token
lifetimes can be checked exactly. Everything goes through its own Prism proxy."""
from datetime import datetime, timedelta

import pytest

from contract_lib import Prism, assert_conforms, chtest, http

NIGHT = "2026-11-25T23:30:00+08:00"   # a Wednesday, after 22:00: phone and WeChat closed


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    with chtest.Server("--now", NIGHT) as srv:
        p = Prism(srv.url, tmp_path_factory.mktemp("prism-night") / "prism.log")
        try:
            yield p
        finally:
            p.stop()


@pytest.fixture
def clean(night):
    mark = night.mark()
    yield night
    problems = night.problems_since(mark)
    assert not problems, "Prism reported contract problems:\n" + "\n".join(problems)


def parse(ts):
    return datetime.fromisoformat(ts)


def test_meta_clock(clean):
    doc = assert_conforms(http(clean.url, "GET", "/v1/meta"), 200)
    delta = parse(doc["server_time"]) - parse(NIGHT)
    assert timedelta(0) <= delta < timedelta(minutes=5), doc
    assert doc["server_time"].endswith("+08:00")


def test_support_status_closed(clean):
    doc = assert_conforms(http(clean.url, "GET", "/v1/support/status"), 200)
    assert doc["open_now"] is False and doc["peak_now"] is False
    waits = {c["channel"]: c for c in doc["channels"]}
    assert waits["phone"]["open_now"] is False and waits["phone"]["estimated_wait_s"] is None
    assert waits["wechat"]["open_now"] is False and waits["wechat"]["estimated_wait_s"] is None
    assert waits["app_chat"]["open_now"] is True
    assert isinstance(waits["app_chat"]["estimated_wait_s"], int)


def test_token_lifetimes(clean):
    assert_conforms(http(clean.url, "POST", "/v1/auth/otp", {"phone": "13800138000"}), 202)
    cust = assert_conforms(http(clean.url, "POST", "/v1/auth/token",
                                {"phone": "13800138000", "otp": "246810"}), 200)
    staff = assert_conforms(http(clean.url, "POST", "/v1/auth/token",
                                 {"staff_id": "field01", "password": "field01-demo-pass"}), 200)
    for tok, life in ((cust, timedelta(days=7)), (staff, timedelta(hours=12))):
        left = parse(tok["expires_at"]) - parse(NIGHT)
        assert life <= left < life + timedelta(minutes=5), tok["expires_at"]
        who = assert_conforms(http(clean.url, "GET", "/v1/auth/whoami", token=tok["token"]), 200)
        assert who["expires_at"] == tok["expires_at"]


def test_cli_contact_when_closed(clean, tmp_path):
    env = chtest.isolated_env(tmp_path, api_url=clean.url, CARHELP_NOW=NIGHT)
    res = chtest.run(env, "contact")
    assert res.returncode == 0, (res.returncode, res.stdout, res.stderr)
    assert "400-000-1234" in res.stdout
    res = chtest.run(env, "--json", "contact")
    assert res.returncode == 0, (res.returncode, res.stdout, res.stderr)
