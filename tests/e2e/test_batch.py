"""Batch mode (cli.md "Batch mode"): --batch FILE|- on account verify, order audit and
vehicle show, --parallel N over libcurl's multi interface, NDJSON in input order, per-line
errors, the exit status of the whole batch, and bad input of every kind. The real carhelp
against the real carhelp-server on loopback."""
import json
import os
import random
import subprocess

import pytest

import chtest

STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"
ID_NUMBER = "11010519491231002X"          # 王小明's, api.md demo dataset

GOOD = [
    {"phone": "13800138000", "member": "M100001"},
    {"phone": "13912345678", "id_last4": "3454"},
    {"phone": "13700001111", "member": "M100003"},
    {"phone": "13800138000", "id-number": ID_NUMBER},
]


def wrong_fact():
    """A line that is not verified, on a phone of its own (failures count towards lockout)."""
    return {"phone": fresh_phone(), "order": "ord_20261101_0001"}


@pytest.fixture
def staff(carhelp):
    r = carhelp("login", "--staff", STAFF, input=STAFF_PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    return carhelp


def ndjson(text):
    lines = [json.loads(line) for line in text.splitlines()]
    for doc in lines:
        assert set(doc) >= {"line", "input", "exit"}
        assert ("result" in doc) != ("error" in doc), doc
    return lines


def without_request_ids(lines):
    for doc in lines:
        if "error" in doc:
            doc["error"].pop("request_id", None)
    return lines


def fresh_phone():
    """A phone no other test uses, so lockout counts start at zero."""
    return "1" + random.choice("3578") + "".join(random.choice("0123456789") for _ in range(9))


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


# ---- account verify -----------------------------------------------------------------------

def test_verify_batch_prints_one_line_per_input_in_input_order(staff, tmp_path):
    rows = [GOOD[i % 4] if i % 5 else wrong_fact() for i in range(40)]
    path = write(tmp_path, "in.ndjson", "".join(json.dumps(r) + "\n" for r in rows))
    r = staff("account", "verify", "--batch", path, "--parallel", "8")
    out = ndjson(r.stdout)
    assert [d["line"] for d in out] == list(range(1, 41))
    for i, (doc, row) in enumerate(zip(out, rows)):
        assert doc["input"]["phone"] == row["phone"]
        verified = i % 5 != 0
        assert doc["exit"] == (0 if verified else 1)
        assert doc["result"]["verified"] is verified
    assert r.returncode == 1          # some line said no


def test_verify_batch_all_verified_is_exit_0_and_csv_works(staff):
    text = "phone,member\n13800138000,M100001\n13912345678,M100002\n"
    r = staff("account", "verify", "--batch", "-", input=text)
    assert r.returncode == 0, r.stderr
    out = ndjson(r.stdout)
    assert [d["line"] for d in out] == [2, 3]
    assert [d["result"]["account_id"] for d in out] == ["acc_1001", "acc_1002"]


def test_verify_batch_masks_id_numbers_in_the_echoed_input(staff):
    lines = json.dumps({"phone": "13800138000", "id_number": ID_NUMBER}) + "\n" + \
        '{"phone": "13800138000", "id_number": "%s" oops\n' % ID_NUMBER
    r = staff("account", "verify", "--batch", "-", input=lines)
    assert ID_NUMBER not in r.stdout and ID_NUMBER not in r.stderr
    out = ndjson(r.stdout)
    assert out[0]["input"]["id-number"].startswith("1101") and "*" in out[0]["input"]["id-number"]
    assert out[1]["exit"] == 2 and "raw" not in out[1]["input"]


def test_verify_batch_bad_lines_are_reported_and_the_rest_go_on(staff, tmp_path):
    huge = json.dumps({"phone": "13800138000", "member": "M" + "1" * 70000})
    text = "\n".join([
        json.dumps(GOOD[0]),
        "not json at all",
        '{"phone": "13800138000", "member": ',                   # broken JSON
        json.dumps({"phone": "13800138000", "colour": "red"}),     # unknown field
        json.dumps({"phone": "13800138000"}),                      # no fact
        json.dumps({"phone": "13800138000", "member": "M1", "order": "o"}),  # two facts
        json.dumps({"member": "M100001"}),                         # no phone
        json.dumps({"phone": "12", "member": "M100001"}),          # bad phone
        huge,                                                      # over 64 KiB
        "",
        "# a comment",
        json.dumps(GOOD[1]),
    ]) + "\n"
    r = staff("account", "verify", "--batch", write(tmp_path, "in", text))
    out = ndjson(r.stdout)
    assert [d["line"] for d in out] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 12]
    assert [d["exit"] for d in out] == [0, 2, 2, 2, 2, 2, 2, 2, 2, 0]
    assert "colour" in out[3]["error"]["message"]
    assert "65536" in out[8]["error"]["message"]
    assert len(r.stdout) < 10000      # the huge line is not echoed back
    assert r.returncode == 1


def test_verify_batch_sends_nothing_for_lines_it_can_tell_are_invalid(staff, server):
    server.settled_log_lines()
    before = server.log_text().count("POST /v1/accounts/verify")
    bad = "\n".join(json.dumps(x) for x in [{"phone": "1"}, {"phone": "13800138000"},
                                            {"phone": "13800138000", "id_last4": "12345"}])
    r = staff("account", "verify", "--batch", "-", input=bad + "\n")
    assert r.returncode == 1
    assert [d["exit"] for d in ndjson(r.stdout)] == [2, 2, 2]
    server.settled_log_lines()
    assert server.log_text().count("POST /v1/accounts/verify") == before


def test_verify_batch_locked_out_phone_is_that_lines_answer(staff):
    phone = fresh_phone()
    rows = [{"phone": phone, "id_last4": "0000"}] * 6 + [GOOD[0]]
    r = staff("account", "verify", "--batch", "-", "--parallel", "1",
              input="".join(json.dumps(x) + "\n" for x in rows))
    out = ndjson(r.stdout)
    assert [d["exit"] for d in out] == [1, 1, 1, 1, 1, 9, 0]
    assert out[4]["result"]["attempts_left"] == 0
    assert out[5]["error"]["code"] == "locked_out" and out[5]["error"]["http_status"] == 429
    assert r.returncode == 1


def test_verify_batch_with_single_options_or_bad_parallel_is_a_usage_error(staff, server):
    before = server.settled_log_lines()
    cases = [
        ("account", "verify", "--batch", "-", "--phone", "13800138000"),
        ("account", "verify", "--batch", "-", "--member", "M100001"),
        ("account", "verify", "--phone", "13800138000", "--member", "M1", "--parallel", "2"),
        ("account", "verify", "--batch", "-", "--parallel", "0"),
        ("account", "verify", "--batch", "-", "--parallel", "65"),
        ("account", "verify", "--batch", "-", "--parallel", "eight"),
        ("vehicle", "show", "京AD12345", "--parallel", "2"),
        ("order", "audit", "ord_20261101_0001", "--batch", "-"),
    ]
    for args in cases:
        r = staff(*args, input=json.dumps(GOOD[0]) + "\n")
        assert r.returncode == 2, (args, r.stderr)
        assert r.stdout == ""
        assert len(r.stderr.strip().splitlines()) <= 2, r.stderr
    assert server.settled_log_lines() == before


def test_verify_batch_not_logged_in_is_exit_4_before_reading(carhelp):
    r = carhelp("account", "verify", "--batch", "-", input=json.dumps(GOOD[0]) + "\n")
    assert r.returncode == 4 and r.stdout == ""


def test_verify_batch_rejected_token_ends_the_batch_with_exit_4(carhelp):
    rows = "".join(json.dumps(GOOD[0]) + "\n" for _ in range(30))
    r = carhelp("account", "verify", "--batch", "-", input=rows, CARHELP_TOKEN="x" * 40)
    assert r.returncode == 4, r.stderr
    out = ndjson(r.stdout)
    assert 1 <= len(out) < 30 and all(d["exit"] == 4 for d in out)
    assert r.stderr.count("carhelp:") == 1


def test_batch_unreachable_service_is_exit_6(staff):
    with chtest.token_bound_to(staff.env, "http://127.0.0.1:9"):   # its service gone
        r = staff("vehicle", "show", "--batch", "-", "--api-url", "http://127.0.0.1:9",
                  "--timeout", "2", input="京AD12345\n" * 20)
    assert r.returncode == 6, r.stderr
    out = ndjson(r.stdout)
    assert 1 <= len(out) < 20 and all(d["exit"] == 6 for d in out)


# ---- bad input files ----------------------------------------------------------------------

def test_empty_input_is_exit_0_with_a_note(staff, tmp_path):
    for text in ["", "\n\n", "# only a comment\n", "phone,member\n"]:
        r = staff("account", "verify", "--batch", write(tmp_path, "e", text))
        assert r.returncode == 0, (text, r.stderr)
        assert r.stdout == ""
        assert "no input lines" in r.stderr


def test_csv_without_header_is_exit_2_and_sends_nothing(staff, server):
    before = server.settled_log_lines()
    r = staff("account", "verify", "--batch", "-", input="13800138000,M100001\n")
    assert r.returncode == 2
    assert r.stdout == ""
    assert "header" in r.stderr
    assert server.settled_log_lines() == before


def test_directory_or_missing_file_is_exit_2(staff, tmp_path):
    for path in [str(tmp_path), str(tmp_path / "missing")]:
        r = staff("vehicle", "show", "--batch", path)
        assert r.returncode == 2, r.stderr
        assert r.stdout == "" and path in r.stderr


def test_bom_and_crlf_from_a_spreadsheet_are_fine(staff, tmp_path):
    p = tmp_path / "in.csv"
    p.write_bytes("\ufeffphone,member\r\n13800138000,M100001\r\n".encode("utf-8"))
    r = staff("account", "verify", "--batch", str(p))
    assert r.returncode == 0, r.stdout + r.stderr
    assert ndjson(r.stdout)[0]["result"]["verified"] is True


def test_broken_pipe_stops_quietly_with_141(staff, tmp_path):
    path = write(tmp_path, "many", "京AD12345\n" * 3000)
    sh = f"set -o pipefail; {chtest.CARHELP} vehicle show --batch {path} | head -n 1 >/dev/null"
    r = subprocess.run(["bash", "-c", sh], env=staff.env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 141, r.stderr
    assert r.stderr == ""


# ---- order audit and vehicle show ---------------------------------------------------------

def test_audit_batch_findings_and_undecided_per_line(staff):
    assert staff("account", "verify", "--phone", "13800138000", "--member", "M100001").returncode == 0
    assert staff("account", "verify", "--phone", "13912345678", "--member", "M100002").returncode == 0
    text = "ord_20261101_0001\nord_20261102_0002\n{\"order\": \"ord_20261103_0003\"}\n" \
           "ord_20261125_0004\nord_nope\nbad id!\n"
    r = staff("order", "audit", "--batch", "-", input=text)
    out = ndjson(r.stdout)
    assert [d["exit"] for d in out] == [0, 1, 1, 11, 3, 2]
    assert out[0]["result"]["ok"] is True
    assert out[1]["result"]["order_id"] == "ord_20261102_0002" and out[1]["result"]["findings"]
    assert r.returncode == 1


def test_audit_batch_fetches_the_tariff_once(staff, server):
    staff("account", "verify", "--phone", "13912345678", "--member", "M100002")
    server.settled_log_lines()
    before = server.log_text().count("GET /v1/tariffs/")
    r = staff("order", "audit", "--batch", "-", "--parallel", "1",
              input="ord_20261102_0002\nord_20261103_0003\n" * 5)
    assert [d["exit"] for d in ndjson(r.stdout)] == [1] * 10
    server.settled_log_lines()
    assert server.log_text().count("GET /v1/tariffs/") - before == 1


@pytest.mark.parametrize("command", ["verify", "audit", "vehicle"])
def test_parallel_1_equals_parallel_32(staff, command):
    staff("account", "verify", "--phone", "13800138000", "--member", "M100001")
    staff("account", "verify", "--phone", "13912345678", "--member", "M100002")
    if command == "verify":
        args = ("account", "verify")
        text = "".join(json.dumps(GOOD[i % 4] if i % 10 else wrong_fact()) + "\n"
                       for i in range(60)) + "oops\n"
    elif command == "audit":
        args = ("order", "audit")
        text = "ord_20261101_0001\nord_20261102_0002\nord_20261103_0003\nord_zz\n" * 15
    else:
        args = ("vehicle", "show")
        text = "京AD12345\nveh_002\n沪AD54321\nveh_zz\nnot a plate!\n" * 12
    one = staff(*args, "--batch", "-", "--parallel", "1", input=text)
    many = staff(*args, "--batch", "-", "--parallel", "32", input=text)
    assert one.returncode == many.returncode == 1
    a, b = without_request_ids(ndjson(one.stdout)), without_request_ids(ndjson(many.stdout))
    for doc in a + b:              # what changes between two runs by design
        if "result" in doc:
            doc["result"].pop("last_seen_at", None)          # the service clock ticks
            if doc["result"].get("verified") is False:
                doc["result"].pop("attempts_left")           # the first run counted too
    assert a == b
    assert len(a) == len([x for x in text.splitlines() if x])


def test_batch_takes_every_line_once_through_few_connections(staff, server, tmp_path):
    """60 lines at --parallel 4: 60 requests, all answered, over at most 4 connections (-v
    marks each response that needed a new connection)."""
    server.settled_log_lines()
    before = server.log_text().count("GET /v1/vehicles/")
    r = staff("vehicle", "show", "--batch", write(tmp_path, "v", "veh_001\n" * 60),
              "--parallel", "4", "-v")
    assert r.returncode == 0
    server.settled_log_lines()
    assert server.log_text().count("GET /v1/vehicles/") - before == 60
    assert r.stderr.count("> GET ") == 60
    assert 1 <= r.stderr.count("(new connection)") <= 4, r.stderr


def test_csv_columns_the_command_does_not_use_are_ignored_with_a_warning(staff):
    r = staff("vehicle", "show", "--batch", "-", input="plate,note\n京AD12345,x\n")
    assert r.returncode == 0, r.stderr
    assert "note" in r.stderr
    doc = ndjson(r.stdout)[0]
    assert doc["input"] == {"plate": "京AD12345"} and doc["result"]["id"] == "veh_001"
