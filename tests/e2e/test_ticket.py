"""report, ticket list/show/comment/attach/rate and emergency against the reference service:
priority and SLA rules, evidence files checked by content before anything is sent, role rules,
idempotency keys at the HTTP level, the editor flow on a terminal, and every bad input (exit 2,
the field named, no request sent)."""
import hashlib
import json
import os
import re
import sys
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

DEMO_PHONE, DEMO_CODE = "13800138000", "246810"
OTHER_PHONE, OTHER_CODE = "13912345678", "135790"
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
PDF = b"%PDF-1.4\n%evidence\n" + bytes(32)
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(32)
GIF = b"GIF89a" + bytes(64)


@pytest.fixture
def fresh(tmp_path):
    srv = chtest.Server("--faults", db=tmp_path / "svc.db")
    yield srv
    srv.stop()


@pytest.fixture
def cli(tmp_path, fresh):
    env = chtest.isolated_env(tmp_path, fresh.url)

    def run(*args, input=None, env_extra=None, timeout=60):
        e = dict(env)
        e.update(env_extra or {})
        return chtest.run(e, *args, input=input, timeout=timeout)
    run.env = env
    r = run("login", "--phone", DEMO_PHONE, input=DEMO_CODE + "\n")
    assert r.returncode == 0, r.stderr
    return run


def api(base, method, path, body=None, token=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return r.status, dict(r.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, dict(e.headers), json.loads(raw) if raw else None


def token(base, phone=None, code=None):
    if phone is None:
        return api(base, "POST", "/v1/auth/token",
                   {"staff_id": STAFF, "password": STAFF_PASSWORD})[2]["token"]
    api(base, "POST", "/v1/auth/otp", {"phone": phone})
    return api(base, "POST", "/v1/auth/token", {"phone": phone, "otp": code})[2]["token"]


def posts(server, path="/v1/tickets"):
    return sum(1 for ln in server.log_text().splitlines() if ln.startswith(f"POST {path} "))


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def seconds_between(a, b):
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()


# ---- report: priority and SLA ---------------------------------------------------------------

def test_report_prints_the_ticket_id_and_a_24_hour_sla(cli):
    r = cli("report", "vehicle", "--message", "左前轮没气了 flat tyre at P2")
    assert r.returncode == 0, r.stderr
    m = re.search(r"Ticket (tkt_\w+) filed: vehicle, priority normal", r.stdout)
    assert m, r.stdout
    assert "SLA: first response by" in r.stdout and "(within 24 h)" in r.stdout
    t = json.loads(cli("ticket", "show", m.group(1), "--json").stdout)
    assert t["message"] == "左前轮没气了 flat tyre at P2"
    assert seconds_between(t["created_at"], t["sla_due_at"]) == 24 * 3600


@pytest.mark.parametrize("category,priority,want,hours", [
    ("accident", "low", "emergency", 0.5),
    ("vehicle", "high", "high", 4),
    ("complaint", "low", "low", 24),
    ("billing", "emergency", "emergency", 0.5),
])
def test_priority_rules_and_sla(cli, category, priority, want, hours):
    r = cli("--json", "report", category, "--priority", priority, "--message", "x")
    assert r.returncode == 0, r.stderr
    t = json.loads(r.stdout)
    assert t["priority"] == want
    assert seconds_between(t["created_at"], t["sla_due_at"]) == hours * 3600


def test_report_carries_order_vehicle_and_location(cli):
    r = cli("--json", "report", "cleanliness", "--order", "ord_20261101_0001", "--vehicle",
            "京ＡＤ１２３４５", "--location", "39.9087，116.3975", "--message", "dirty seats")
    assert r.returncode == 0, r.stderr
    t = json.loads(r.stdout)
    assert t["order_id"] == "ord_20261101_0001" and t["vehicle_id"] == "veh_001"
    assert t["location"] == {"lat": 39.9087, "lng": 116.3975}


def test_report_with_photos_stores_them_byte_for_byte(cli, tmp_path):
    files = [write(tmp_path, "scratch.png", PNG), write(tmp_path, "IMG_0001", JPEG),
             write(tmp_path, "police-report.pdf", PDF), write(tmp_path, "photo.heic", HEIC)]
    args = ["report", "vehicle", "--message", "scratched door"]
    for f in files:
        args += ["--attach", f]
    r = cli("--json", *args)
    assert r.returncode == 0, r.stderr
    t = json.loads(r.stdout)
    got = {a["filename"]: a for a in t["attachments"]}
    assert [got[n]["content_type"] for n in ("scratch.png", "IMG_0001", "police-report.pdf",
                                             "photo.heic")] == \
        ["image/png", "image/jpeg", "application/pdf", "image/heic"]
    for f in files:
        a = got[os.path.basename(f)]
        data = Path(f).read_bytes()
        assert a["sha256"] == hashlib.sha256(data).hexdigest() and a["size_bytes"] == len(data)


def test_large_attachment_shows_progress_on_stderr(cli, tmp_path):
    big = write(tmp_path, "big.jpg", JPEG + os.urandom(3 * 1024 * 1024))
    r = cli("report", "vehicle", "--message", "video still", "--attach", big)
    assert r.returncode == 0, r.stderr
    assert "uploading big.jpg: 100%" in r.stderr
    assert "uploading" not in r.stdout


# ---- bad input: exit 2, the field named, nothing sent ---------------------------------------

BAD = [
    (["report", "nonsense", "--message", "x"], "CATEGORY"),
    (["report", "vehicle", "--message", "x" * 4001], "--message"),
    (["report", "vehicle", "--message", "   "], "--message"),
    (["report", "vehicle", "--priority", "urgent", "--message", "x"], "--priority"),
    (["report", "vehicle", "--order", "ord 1", "--message", "x"], "--order"),
    (["report", "vehicle", "--vehicle", "京A1", "--message", "x"], "--vehicle"),
    (["report", "vehicle", "--location", "91,200", "--message", "x"], "--location"),
    (["report", "vehicle", "--message", "x", "--message-file", "/dev/null"], "--message"),
    (["report", "vehicle"], "--message"),          # no message, stdin not a terminal
    (["report", "vehicle", "--no-input"], "--message"),
]


@pytest.mark.parametrize("args,field", BAD, ids=[" ".join(a)[:40] for a, _ in BAD])
def test_bad_report_input_is_exit_2_naming_the_field(cli, fresh, args, field):
    before = posts(fresh)
    r = cli(*args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert field in r.stderr.splitlines()[0], r.stderr
    assert posts(fresh) == before, "a request was sent"


@pytest.mark.parametrize("make,why", [
    (lambda d: write(d, "photo.jpg", GIF), "not a JPEG, PNG, HEIC or PDF"),
    (lambda d: write(d, "notes.png", b"just text, named like a picture"), "not a JPEG"),
    (lambda d: write(d, "huge.png", PNG + bytes(10 * 1024 * 1024)), "10 MiB"),
    (lambda d: str(d / "missing.png"), "cannot read"),
    (lambda d: str(d), "is a directory"),
    (lambda d: write(d, "empty.pdf", b""), "empty"),
], ids=["gif", "text-named-png", "too-big", "unreadable", "directory", "empty"])
def test_bad_attachment_is_refused_before_any_request(cli, fresh, tmp_path, make, why):
    path = make(tmp_path)
    before = posts(fresh)
    r = cli("report", "vehicle", "--message", "x", "--attach", path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("carhelp: --attach: ") and why in r.stderr, r.stderr
    assert posts(fresh) == before


def test_more_than_five_attachments_is_a_usage_error(cli, fresh, tmp_path):
    args = []
    for i in range(6):
        args += ["--attach", write(tmp_path, f"p{i}.png", PNG + bytes([i]))]
    r = cli("report", "vehicle", "--message", "x", *args)
    assert r.returncode == 2 and "--attach" in r.stderr
    assert posts(fresh) == 0


def test_message_file_and_stdin(cli, tmp_path):
    f = tmp_path / "msg.txt"
    f.write_text("from a file\n", encoding="utf-8")
    r = cli("--json", "report", "app", "--message-file", str(f))
    assert r.returncode == 0 and json.loads(r.stdout)["message"] == "from a file"
    r = cli("--json", "report", "app", "--message-file", "-", input="from stdin\n")
    assert r.returncode == 0 and json.loads(r.stdout)["message"] == "from stdin"


# ---- the editor on a terminal --------------------------------------------------------------

def editor_script(tmp_path, text):
    script = tmp_path / "editor.sh"
    script.write_text("#!/bin/sh\ncp \"$1\" \"$1.seen\"\nprintf '%s\\n' " + json.dumps(text) +
                      " >> \"$1\"\n")
    script.chmod(0o755)
    return str(script)


def spawn(cli, *args, env_extra):
    pexpect = pytest.importorskip("pexpect")
    env = dict(cli.env, **env_extra)
    child = pexpect.spawn(chtest.CARHELP, list(args), env=env, encoding="utf-8", timeout=30)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


def test_editor_opens_on_a_template_like_git_commit(cli, tmp_path):
    ed = editor_script(tmp_path, "brakes squeal when cold")
    status, out = spawn(cli, "report", "vehicle", env_extra={"VISUAL": ed, "EDITOR": "false",
                                                             "TMPDIR": str(tmp_path)})
    assert status == 0, out
    tid = re.search(r"(tkt_\w+)", out).group(1)
    t = json.loads(cli("ticket", "show", tid, "--json").stdout)
    assert t["message"] == "brakes squeal when cold"    # the '#' help lines are gone
    seen = next(tmp_path.glob("carhelp-report-*.txt.seen"))
    assert "# Describe the problem (category: vehicle)" in seen.read_text()


def test_editor_left_empty_sends_nothing(cli, fresh, tmp_path):
    ed = tmp_path / "noop.sh"
    ed.write_text("#!/bin/sh\nexit 0\n")
    ed.chmod(0o755)
    status, out = spawn(cli, "report", "vehicle", env_extra={"EDITOR": str(ed), "TMPDIR": str(tmp_path)})
    assert status == 2 and "empty" in out
    assert posts(fresh) == 0


def test_without_editor_a_terminal_is_asked(cli):
    pexpect = pytest.importorskip("pexpect")
    env = {k: v for k, v in cli.env.items() if k not in ("VISUAL", "EDITOR")}
    child = pexpect.spawn(chtest.CARHELP, ["report", "feedback"], env=env, encoding="utf-8",
                          timeout=30)
    child.expect("Describe the problem: ")
    child.sendline("nice cars")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "filed: feedback" in child.before


# ---- follow-up: list, show, comment, attach, rate, roles --------------------------------------

def new_ticket(cli, *extra):
    r = cli("--json", "report", "vehicle", "--message", "m", *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["id"]


def test_ticket_list_pages_and_filters(cli):
    ids = [new_ticket(cli) for _ in range(3)]
    r = cli("--json", "ticket", "list", "--limit", "2")
    page = json.loads(r.stdout)
    assert [t["id"] for t in page["items"]] == ids[::-1][:2] and page["next_cursor"]
    every = json.loads(cli("--json", "ticket", "list", "--all").stdout)
    assert [t["id"] for t in every["items"]] == ids[::-1] and every["next_cursor"] is None
    assert json.loads(cli("--json", "ticket", "list", "--status", "closed").stdout)["items"] == []
    human = cli("ticket", "list").stdout
    assert human.splitlines()[0].split()[:3] == ["ID", "STATUS", "PRIORITY"]
    assert all(i in human for i in ids)
    bad = cli("ticket", "list", "--status", "lost")
    assert bad.returncode == 2 and "--status" in bad.stderr


def test_customers_see_only_their_own_tickets_staff_see_all(cli, fresh):
    mine = new_ticket(cli)
    other = token(fresh.url, OTHER_PHONE, OTHER_CODE)
    st, _, body = api(fresh.url, "GET", "/v1/tickets", token=other)
    assert st == 200 and body["items"] == []
    st, _, _ = api(fresh.url, "GET", f"/v1/tickets/{mine}", token=other)
    assert st == 404
    staff = token(fresh.url)
    st, _, body = api(fresh.url, "GET", "/v1/tickets", token=staff)
    assert [t["id"] for t in body["items"]] == [mine]
    r = cli("ticket", "show", mine, env_extra={"CARHELP_TOKEN": other})
    assert r.returncode == 3


def test_show_has_the_history_of_comments_attachments_and_rating(cli, tmp_path):
    tid = new_ticket(cli)
    assert cli("ticket", "comment", tid, "--message", "any news?").returncode == 0
    r = cli("ticket", "attach", tid, write(tmp_path, "a.png", PNG), write(tmp_path, "b.pdf", PDF))
    assert r.returncode == 0 and r.stdout.count("Attached") == 2, r.stderr
    r = cli("ticket", "rate", tid, "--score", "4", "--comment", "quick")
    assert r.returncode == 0 and "4/5" in r.stdout
    t = json.loads(cli("--json", "ticket", "show", tid).stdout)
    assert [e["kind"] for e in t["events"]] == ["created", "comment", "attachment",
                                                "attachment", "rated"]
    assert t["rating"]["score"] == 4 and len(t["attachments"]) == 2
    human = cli("ticket", "show", tid).stdout
    assert "History:" in human and "any news?" in human and "Rating: 4/5" in human


def test_rating_is_once_by_the_customer_and_1_to_5(cli, fresh):
    tid = new_ticket(cli)
    assert cli("ticket", "rate", tid, "--score", "6").returncode == 2
    assert cli("ticket", "rate", tid, "--score", "5").returncode == 0
    again = cli("ticket", "rate", tid, "--score", "1")
    assert again.returncode == 8 and "already" in again.stderr
    st, _, body = api(fresh.url, "POST", f"/v1/tickets/{tid}/rating", {"score": 3},
                      token=token(fresh.url))
    assert st == 403


def test_closed_ticket_takes_no_more_comments_or_files(cli, fresh, tmp_path):
    tid = new_ticket(cli)
    staff = token(fresh.url)
    st, _, t = api(fresh.url, "PATCH", f"/v1/tickets/{tid}", {"status": "closed"}, token=staff)
    assert st == 200 and t["status"] == "closed" and t["events"][-1]["kind"] == "status_changed"
    r = cli("ticket", "comment", tid, "--message", "hello?")
    assert r.returncode == 8 and "closed" in r.stderr
    assert cli("ticket", "attach", tid, write(tmp_path, "x.png", PNG)).returncode == 8
    assert api(fresh.url, "PATCH", f"/v1/tickets/{tid}", {"status": "open"}, token=staff)[0] == 409


def test_a_customer_comment_reopens_a_resolved_ticket(cli, fresh):
    tid = new_ticket(cli)
    api(fresh.url, "PATCH", f"/v1/tickets/{tid}", {"status": "resolved"}, token=token(fresh.url))
    assert cli("ticket", "comment", tid, "-m", "still broken").returncode == 0
    assert json.loads(cli("--json", "ticket", "show", tid).stdout)["status"] == "open"


def test_a_ticket_holds_at_most_five_files(cli, tmp_path):
    files = [write(tmp_path, f"{i}.png", PNG + bytes([i])) for i in range(6)]
    tid = new_ticket(cli, *sum((["--attach", f] for f in files[:5]), []))
    r = cli("ticket", "attach", tid, files[5])
    assert r.returncode == 8 and "5" in r.stderr


def test_bad_ticket_input(cli, fresh, tmp_path):
    before = posts(fresh, "/v1/tickets/x/comments")
    assert cli("ticket", "show", "../etc").returncode == 2
    assert cli("ticket", "comment", "tkt_1").returncode == 2
    assert cli("ticket", "comment", "tkt_1", "--message", "y" * 4001).returncode == 2
    assert cli("ticket", "rate", "tkt_1").returncode == 2
    assert cli("ticket", "attach", "tkt_1", write(tmp_path, "g.gif", GIF)).returncode == 2
    assert posts(fresh, "/v1/tickets/x/comments") == before
    assert cli("ticket", "show", "tkt_doesnotexist").returncode == 3


# ---- idempotency keys at the HTTP level ------------------------------------------------------

def test_same_key_same_body_replays_other_body_conflicts_keys_are_per_caller(fresh):
    me, other = token(fresh.url, DEMO_PHONE, DEMO_CODE), token(fresh.url, OTHER_PHONE, OTHER_CODE)
    body = {"category": "app", "message": "crash on start"}
    key = {"Idempotency-Key": "k-123"}
    st1, h1, t1 = api(fresh.url, "POST", "/v1/tickets", body, me, key)
    st2, h2, t2 = api(fresh.url, "POST", "/v1/tickets", body, me, key)
    assert st1 == st2 == 201 and t1 == t2
    assert "Idempotent-Replayed" not in h1 and h2.get("Idempotent-Replayed") == "true"
    st3, _, e = api(fresh.url, "POST", "/v1/tickets", dict(body, message="other"), me, key)
    assert st3 == 409 and e["error"]["code"] == "idempotency_conflict"
    st4, _, t4 = api(fresh.url, "POST", "/v1/tickets", body, other, key)
    assert st4 == 201 and t4["id"] != t1["id"]
    st, _, page = api(fresh.url, "GET", "/v1/tickets", token=me)
    assert [t["id"] for t in page["items"]] == [t1["id"]]


def test_an_error_does_not_use_up_the_key(fresh):
    me = token(fresh.url, DEMO_PHONE, DEMO_CODE)
    key = {"Idempotency-Key": "k-err"}
    bad = {"category": "nope", "message": "x"}
    assert api(fresh.url, "POST", "/v1/tickets", bad, me, key)[0] == 400
    assert api(fresh.url, "POST", "/v1/tickets", {"category": "app", "message": "x"}, me,
               key)[0] == 201


def test_service_limits_are_enforced_without_the_client(fresh):
    me = token(fresh.url, DEMO_PHONE, DEMO_CODE)
    st, _, e = api(fresh.url, "POST", "/v1/tickets", {"category": "app", "message": "x" * 4001}, me)
    assert st == 400 and e["error"]["code"] == "message_too_long"
    st, _, e = api(fresh.url, "POST", "/v1/tickets", {"category": "app", "message": "字" * 4000}, me)
    assert st == 201
    st, _, e = api(fresh.url, "POST", "/v1/tickets", {"category": "x", "message": "m"}, me)
    assert st == 400 and e["error"]["code"] == "invalid_category"
    st, _, e = api(fresh.url, "POST", "/v1/tickets",
                   {"category": "billing", "message": "m", "order_id": "ord_20261102_0002"}, me)
    assert st == 400 and "order_id" in e["error"]["message"]   # another customer's order
    st, _, t = api(fresh.url, "POST", "/v1/tickets",
                   {"category": "billing", "message": "m", "evidence": {"findings": [1, 2]}}, me)
    assert st == 201 and t["evidence"] == {"findings": [1, 2]}


# ---- emergency --------------------------------------------------------------------------------

def test_emergency_without_login_prints_guidance_numbers_and_exits_4(tmp_path):
    env = chtest.isolated_env(tmp_path, "http://127.0.0.1:9")
    r = chtest.run(env, "emergency")
    assert r.returncode == 4
    for n in ("122", "120", "110", "119"):
        assert re.search(rf"^\s+{n}\b", r.stdout, re.M), r.stdout
    assert "400-000-1234" in r.stdout + r.stderr
    assert r.stdout.index("EMERGENCY") == 0


def test_emergency_files_an_accident_ticket_with_location_and_order(cli):
    r = cli("emergency", "--location", "39.9,116.4", "--order", "ord_20261125_0004")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("EMERGENCY") and "120" in r.stdout
    tid = re.search(r"Ticket (tkt_\w+) filed: accident, priority emergency", r.stdout).group(1)
    t = json.loads(cli("--json", "ticket", "show", tid).stdout)
    assert t["order_id"] == "ord_20261125_0004" and t["location"] == {"lat": 39.9, "lng": 116.4}
    assert seconds_between(t["created_at"], t["sla_due_at"]) == 1800
    assert "400-000-1234" in r.stdout


def test_emergency_with_bad_location_still_prints_the_guidance(cli, fresh):
    r = cli("emergency", "--location", "somewhere")
    assert r.returncode == 2 and "--location" in r.stderr and "122" in r.stdout
    assert posts(fresh) == 0


def test_emergency_json_is_one_document(cli):
    r = cli("--json", "emergency")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [n["number"] for n in doc["emergency_numbers"]] == ["122", "120", "110", "119"]
    assert doc["ticket"]["priority"] == "emergency" and "EMERGENCY" in r.stderr
