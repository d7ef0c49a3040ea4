"""contact: live from the service, from the cache when it cannot be reached, from the built-in
model when there is no cache, and --at for another moment (no request)."""
import json
import os
import socket
import stat
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

SERVICE = "400-000-1234"
SALES = "400-000-5678"
WEDNESDAY_EVENING = "2026-11-25T19:41:00+08:00"


def closed_port_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def cache_file(env):
    return Path(env["CARHELP_CACHE_DIR"]) / "support-status.json"


def assert_full_card(out):
    assert SERVICE in out
    assert SALES in out and "NOT for support" in out
    assert "08:00–22:00 Asia/Shanghai" in out
    assert "Best time to call" in out
    assert "App chat" in out and "billing questions and receipts" in out
    assert "WeChat" in out and "photos and follow-ups" in out
    for n in ("122", "120", "110", "119"):
        assert n in out


def test_live_status_is_shown_and_cached(carhelp):
    r = carhelp("contact")
    assert r.returncode == 0, r.stderr
    assert_full_card(r.stdout)
    assert "live from the service" in r.stdout or "closed" in r.stdout
    assert r.stderr == ""
    path = cache_file(carhelp.env)
    doc = json.loads(path.read_text())
    assert any(p["number"] == SERVICE for p in doc["phones"])
    assert "cached_at" in doc
    assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0

    j = carhelp("contact", "--json")
    assert json.loads(j.stdout)["source"] == "live"


def test_cache_is_used_when_the_service_is_gone(tmp_path):
    srv = chtest.Server()
    env = chtest.isolated_env(tmp_path, srv.url)
    try:
        assert chtest.run(env, "contact").returncode == 0
    finally:
        srv.stop()
    assert cache_file(env).exists()
    r = chtest.run(env, "contact")
    assert r.returncode == 0, r.stderr
    assert_full_card(r.stdout)
    assert "cached" in r.stderr and r.stderr.count("\n") == 1
    j = chtest.run(env, "contact", "--json")
    assert j.returncode == 0
    doc = json.loads(j.stdout)
    assert doc["source"] == "cache"
    assert doc["cached_at"]
    q = chtest.run(env, "-q", "contact")
    assert q.returncode == 0 and q.stderr == ""


def test_model_is_used_with_no_cache_and_no_service(carhelp):
    r = carhelp("contact", CARHELP_API_URL=closed_port_url(), CARHELP_NOW="2026-11-25T12:00:00+08:00")
    assert r.returncode == 0, r.stderr
    assert_full_card(r.stdout)
    assert "estimate from the built-in model" in r.stdout
    assert "built-in support model" in r.stderr
    assert "1–3 min" in r.stdout
    j = carhelp("contact", "--json", CARHELP_API_URL=closed_port_url())
    assert j.returncode == 0
    assert json.loads(j.stdout)["source"] == "model"
    assert not cache_file(carhelp.env).exists()


def test_a_corrupt_cache_falls_back_to_the_model(carhelp):
    path = cache_file(carhelp.env)
    path.write_text("{not json")
    r = carhelp("contact", "--json", CARHELP_API_URL=closed_port_url())
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["source"] == "model"


def at(carhelp, when, *extra, **env):
    env.setdefault("CARHELP_NOW", WEDNESDAY_EVENING)
    env.setdefault("CARHELP_API_URL", closed_port_url())   # --at never asks the service
    return carhelp("contact", "--at", when, *extra, **env)


def test_at_weekday_morning_peak(carhelp):
    r = at(carhelp, "2026-11-25T08:15")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert "2026-11-25 08:15 Asia/Shanghai" in r.stdout
    assert "open, peak time" in r.stdout
    assert "5–10 min (estimate from the built-in model)" in r.stdout
    assert "today 09:30–17:30 (off-peak)" in r.stdout


def test_at_off_peak_best_time_is_now(carhelp):
    r = at(carhelp, "12:00")
    assert r.returncode == 0, r.stderr
    assert "2026-11-25 12:00" in r.stdout
    assert "open, off-peak" in r.stdout
    assert "1–3 min" in r.stdout
    assert "now, until 17:30" in r.stdout


def test_at_closed_opens_tomorrow(carhelp):
    r = at(carhelp, "2026-11-25T23:00")
    assert r.returncode == 0, r.stderr
    assert "closed, opens tomorrow 08:00 (in 9 h)" in r.stdout
    assert "the phone line is closed" in r.stdout
    assert "tomorrow 09:30–17:30" in r.stdout
    assert "App chat" in r.stdout


def test_at_weekend_peak_and_rfc3339(carhelp):
    r = at(carhelp, "2026-11-28T04:00:00Z", "--json")     # Saturday 12:00 in Shanghai
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["source"] == "model"
    assert doc["at"] == "2026-11-28T12:00:00+08:00"
    assert doc["open_now"] is True and doc["peak_now"] is True
    assert doc["model_wait_s"] == {"min": 300, "max": 600}
    assert doc["best_time_to_call"] == "2026-11-28T18:00:00+08:00"
    assert doc["best_time_until"] == "2026-11-28T22:00:00+08:00"


def test_json_shape(carhelp):
    r = at(carhelp, "2026-11-25T23:00", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    for key in ("source", "at", "open_now", "phones", "channels", "best_time_to_call",
                "time_zone", "hours", "estimated_wait_s"):
        assert key in doc, key
    assert doc["open_now"] is False
    assert doc["opens_at"] == "2026-11-26T08:00:00+08:00"
    assert doc["estimated_wait_s"] is None
    purposes = {(p["purpose"], p["number"], p["for_support"]) for p in doc["phones"]}
    assert ("customer_service", SERVICE, True) in purposes
    assert ("sales", SALES, False) in purposes
    assert {p["number"] for p in doc["phones"] if p["purpose"] == "emergency"} == \
        {"122", "120", "110", "119"}
    chans = {c["channel"]: c for c in doc["channels"]}
    assert set(chans) == {"phone", "app_chat", "wechat"}
    assert chans["app_chat"]["open_now"] is True
    assert chans["wechat"]["open_now"] is False


def test_live_json_carries_the_services_numbers(carhelp):
    r = carhelp("contact", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["source"] == "live"
    assert any(p["number"] == SERVICE and p["for_support"] for p in doc["phones"])
    assert isinstance(doc["open_now"], bool)


@pytest.mark.parametrize("bad", ["tomorrow", "25:00", "8:15", "2026-02-30T10:00",
                                 "2026-11-25T08:15+8", ""])
def test_bad_at_exits_2(carhelp, bad):
    r = at(carhelp, bad)
    assert r.returncode == 2, (bad, r.stdout, r.stderr)
    assert "--at" in r.stderr
    assert r.stdout == ""


def test_hours_in_the_users_zone_when_it_differs(carhelp):
    utc = at(carhelp, "12:00", TZ="UTC0")
    assert "00:00–14:00 your time" in utc.stdout
    shanghai = at(carhelp, "12:00", TZ="CST-8")
    assert "your time" not in shanghai.stdout


def test_full_width_at_from_an_input_method(carhelp):
    r = at(carhelp, "０８：１５")
    assert r.returncode == 0, r.stderr
    assert "2026-11-25 08:15" in r.stdout


def test_an_old_cache_keeps_the_numbers_but_not_its_queue_estimate(tmp_path):
    noon = "2026-11-25T12:00:00+08:00"
    srv = chtest.Server("--now", noon)      # open at noon whatever the real time is
    env = chtest.isolated_env(tmp_path, srv.url)
    try:
        assert chtest.run(dict(env, CARHELP_NOW=noon), "contact").returncode == 0
    finally:
        srv.stop()
    fresh = chtest.run(dict(env, CARHELP_NOW="2026-11-25T12:10:00+08:00"), "contact")
    assert fresh.returncode == 0
    assert "(cached at" in fresh.stdout
    stale = chtest.run(dict(env, CARHELP_NOW="2026-11-25T15:00:00+08:00"), "contact")
    assert stale.returncode == 0
    assert "estimate from the built-in model" in stale.stdout
    assert SERVICE in stale.stdout
    assert json.loads(chtest.run(env, "contact", "--json").stdout)["source"] == "cache"
