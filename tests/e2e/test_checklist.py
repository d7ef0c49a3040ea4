"""checklist against the reference service: every issue type, filled from the account and an
order when logged in (masked where personal), open boxes when offline or not logged in, the
three formats, and bad input (exit 2, the option named, no request)."""
import json

import pytest

import chtest

DEMO_PHONE = "13800138000"
ORDER = "ord_20261101_0001"
TYPES = ["vehicle", "billing", "account", "accident", "app"]


def requests(server):
    return server.settled_log_lines()


@pytest.mark.parametrize("issue", TYPES)
def test_each_type_is_filled_from_the_account(logged_in, issue):
    r = logged_in("checklist", "--issue", issue, "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["issue"] == issue and doc["source"] == "account"
    items = {i["key"]: i for i in doc["items"]}
    assert items["phone"]["done"] and items["phone"]["value"] == "138****8000"
    assert items["member_id"]["done"] and items["member_id"]["value"]
    assert DEMO_PHONE not in r.stdout  # never the full number
    assert any(not i["done"] and i["value"] is None for i in doc["items"])
    assert doc["support_number"]


def test_accident_lists_the_122_call_and_the_other_party(logged_in):
    doc = json.loads(logged_in("checklist", "--issue", "accident", "--format", "json").stdout)
    keys = [i["key"] for i in doc["items"]]
    assert keys[0] == "call_122"
    assert {"other_plate", "other_insurance", "photos", "plate"} <= set(keys)
    assert not doc["items"][0]["done"]  # the CLI cannot know you called


def test_order_fills_number_plate_and_trip(logged_in):
    r = logged_in("checklist", "--issue", "billing", "--order", ORDER)
    assert r.returncode == 0, r.stderr
    assert f"[x] Order number: {ORDER}" in r.stdout
    assert "[x] Trip time and amount charged:" in r.stdout and "¥" in r.stdout
    assert "[ ] Payment record" in r.stdout
    r = logged_in("checklist", "--issue", "vehicle", "--order", ORDER, "--format", "json")
    items = {i["key"]: i for i in json.loads(r.stdout)["items"]}
    assert items["plate"]["done"] and items["plate"]["value"]


def test_account_masks_the_id_number(logged_in):
    items = {i["key"]: i for i in json.loads(
        logged_in("checklist", "--issue", "account", "--format", "json").stdout)["items"]}
    assert items["id_last4"]["done"] and items["id_last4"]["value"].startswith("ends in ")
    assert len(items["id_last4"]["value"]) == len("ends in ") + 4


def test_markdown_is_a_task_list(logged_in):
    r = logged_in("checklist", "--issue", "billing", "--order", ORDER, "--format", "markdown")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("# ")
    tasks = [ln for ln in lines if ln.startswith("- [")]
    assert any(ln.startswith("- [x] **Order number**") for ln in tasks)
    assert any(ln.startswith("- [ ] ") for ln in tasks)


def test_json_global_option_picks_json(logged_in):
    r = logged_in("--json", "checklist")
    assert json.loads(r.stdout)["issue"] == "general"


def test_offline_gives_open_boxes(tmp_path):
    env = chtest.isolated_env(tmp_path, "http://127.0.0.1:9")
    r = chtest.run(env, "checklist", "--issue", "vehicle", "--order", ORDER)
    assert r.returncode == 0, r.stderr
    assert "[ ] Registered phone number" in r.stdout
    assert f"[x] Order number: {ORDER}" in r.stdout  # the number as typed


def test_logged_in_but_service_down_says_offline(tmp_path):
    srv = chtest.Server()
    env = chtest.isolated_env(tmp_path, srv.url)
    assert chtest.run(env, "login", "--phone", DEMO_PHONE, input="246810\n").returncode == 0
    srv.stop()
    r = chtest.run(env, "checklist", "--issue", "app", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["source"] == "offline" and not any(i["done"] for i in doc["items"])


def test_not_logged_in_says_so(carhelp):
    r = carhelp("checklist", "--issue", "billing", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["source"] == "not_logged_in" and not any(i["done"] for i in doc["items"])


@pytest.mark.parametrize("args,field", [(["--issue", "bogus"], "--issue"),
                                        (["--issue", ""], "--issue"),
                                        (["--format", "html"], "--format"),
                                        (["--order", "../x"], "--order")])
def test_bad_input_is_exit_2_without_a_request(logged_in, server, args, field):
    before = requests(server)
    r = logged_in("checklist", *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert field in r.stderr
    assert requests(server) == before
