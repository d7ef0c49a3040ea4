"""The outbox: creates that cannot reach the service are kept (exit 10) and delivered later
exactly once. Reliability is proven by counting tickets on the service after: carhelp killed
with SIGKILL at many points of a flush, the service killed mid-request, and a flush of 200
reports through a network that loses a third of the requests (the service's own X-Fault
drop-rate, added by tests/pylib/faultproxy.py, plus answers lost after the service handled
them)."""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

DEMO_PHONE, DEMO_CODE = "13800138000", "246810"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(48)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Service:
    """The reference service on a fixed port and database, so it can be killed and restarted
    where the saved requests expect it."""

    def __init__(self, tmp_path):
        self.db = tmp_path / "svc.db"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.srv = None
        self.start()

    def start(self):
        for _ in range(50):
            try:
                self.srv = chtest.Server("--faults", "--listen", f"127.0.0.1:{self.port}",
                                         db=self.db)
                return
            except RuntimeError:
                time.sleep(0.1)   # the port is still being released
        raise RuntimeError("service did not restart")

    def kill(self):
        self.srv.proc.send_signal(signal.SIGKILL)
        self.srv.proc.wait()

    def stop(self):
        self.srv.stop()


@pytest.fixture
def svc(tmp_path):
    s = Service(tmp_path)
    yield s
    s.stop()


def make_cli(tmp_path, url):
    env = chtest.isolated_env(tmp_path, url)

    def run(*args, input=None, timeout=120, **extra):
        e = dict(env)
        e.update({k: str(v) for k, v in extra.items()})
        return chtest.run(e, *args, input=input, timeout=timeout)
    run.env = env
    r = run("login", "--phone", DEMO_PHONE, input=DEMO_CODE + "\n")
    assert r.returncode == 0, r.stderr
    return run


@pytest.fixture
def cli(tmp_path, svc):
    return make_cli(tmp_path, svc.url)


def outbox(cli):
    return Path(cli.env["CARHELP_STATE_DIR"]) / "outbox"


def items(cli):
    return sorted(outbox(cli).glob("*.json"))


def tickets(cli):
    r = cli("--json", "ticket", "list", "--all")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["items"]


def queue_offline(cli, svc, n, *extra, url=None):
    """n reports written while the service is down: each exit 10, each its own item."""
    svc.stop()
    for i in range(n):
        r = cli("report", "vehicle", "--message", f"report {i}", *extra, timeout=60,
                CARHELP_RETRIES=0, CARHELP_API_URL=url or svc.url)
        assert r.returncode == 10, (r.returncode, r.stderr)
    svc.start()
    assert len(items(cli)) == n


def flush_until_empty(cli, tries=30, **extra):
    for _ in range(tries):
        r = cli("outbox", "flush", **extra)
        if not items(cli):
            return r
        assert r.returncode in (10, 0), (r.returncode, r.stderr)
    pytest.fail(f"outbox still holds {len(items(cli))} items")


# ---- saving and flushing ---------------------------------------------------------------------

def test_offline_report_is_saved_atomically_and_flushed_once(cli, svc, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(PNG)
    svc.stop()
    r = cli("report", "accident", "--message", "hit a bollard", "--attach", str(photo))
    assert r.returncode == 10, r.stderr
    assert "saved to the outbox as" in r.stderr and "outbox flush" in r.stderr
    [item] = items(cli)
    assert oct(item.stat().st_mode & 0o777) == "0o600"
    doc = json.loads(item.read_text())
    assert doc["request"]["body"]["message"] == "hit a bollard"
    assert doc["idempotency_key"] and doc["api_url"] == svc.url and doc["profile"] == "default"
    import hashlib
    assert doc["attachments"][0]["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert not [p for p in outbox(cli).iterdir() if p.name.startswith(".tmp")]
    listing = cli("outbox", "list")
    assert item.stem in listing.stdout and "accident: hit a bollard" in listing.stdout
    svc.start()
    r = cli("outbox", "flush")
    assert r.returncode == 0, r.stderr
    assert f"Delivered {item.stem}" in r.stdout
    [t] = tickets(cli)
    assert t["priority"] == "emergency" and len(t["attachments"]) == 1
    assert items(cli) == []
    assert cli("outbox", "flush").returncode == 0 and len(tickets(cli)) == 1


def test_successful_commands_mention_waiting_items(cli, svc):
    queue_offline(cli, svc, 2)
    r = cli("ticket", "list")
    assert r.returncode == 0
    assert "2 requests wait in the outbox: run `carhelp outbox flush`" in r.stderr
    assert "wait in the outbox" not in r.stdout
    assert "wait in the outbox" not in cli("-q", "ticket", "list").stderr


def test_a_delivered_item_sent_again_is_replayed_not_duplicated(cli, svc, tmp_path):
    queue_offline(cli, svc, 1)
    [item] = items(cli)
    copy = item.read_bytes()
    assert cli("outbox", "flush").returncode == 0
    item.write_bytes(copy)            # as if carhelp died between delivery and removal
    r = cli("outbox", "flush")
    assert r.returncode == 0, r.stderr
    assert len(tickets(cli)) == 1


def test_dry_run_sends_nothing(cli, svc):
    queue_offline(cli, svc, 2)
    r = cli("outbox", "flush", "--dry-run")
    assert r.returncode == 0 and r.stdout.count("Would send") == 2
    assert len(items(cli)) == 2 and tickets(cli) == []


def test_changed_attachment_is_reported_not_sent(cli, svc, tmp_path):
    photo = tmp_path / "p.png"
    photo.write_bytes(PNG)
    queue_offline(cli, svc, 1, "--attach", str(photo))
    photo.write_bytes(PNG + b"edited")
    r = cli("outbox", "flush")
    assert r.returncode == 2 and "changed since the report was saved" in r.stderr
    assert len(items(cli)) == 1 and tickets(cli) == []
    photo.write_bytes(PNG)            # restored: now it goes
    assert cli("outbox", "flush").returncode == 0 and len(tickets(cli)) == 1


def test_corrupt_file_is_kept_aside_and_does_not_block_the_others(cli, svc):
    queue_offline(cli, svc, 2)
    bad = outbox(cli) / "20260101-000000-deadbeef.json"
    bad.write_text('{"version": 1, "id": "trunc')
    (outbox(cli) / "20260101-000001-deadbeef.json").write_bytes(b"\x00\xff garbage")
    r = cli("outbox", "flush")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("moved aside (kept, not sent)") == 2
    assert len(tickets(cli)) == 2
    kept = sorted(p.name for p in (outbox(cli) / "corrupt").iterdir())
    assert kept == ["20260101-000000-deadbeef.json", "20260101-000001-deadbeef.json"]
    assert (outbox(cli) / "corrupt" / bad.name).read_text() == '{"version": 1, "id": "trunc'


def test_drop_asks_and_removes(cli, svc):
    queue_offline(cli, svc, 1)
    [item] = items(cli)
    assert cli("outbox", "drop", item.stem).returncode == 2          # --no-input, no --yes
    assert cli("outbox", "drop", "nope-123", "--yes").returncode == 3
    r = cli("outbox", "drop", item.stem, "--yes")
    assert r.returncode == 0 and items(cli) == []


def test_comment_attach_and_rate_wait_in_the_outbox_too(cli, svc, tmp_path):
    tid = json.loads(cli("--json", "report", "app", "--message", "m").stdout)["id"]
    photo = tmp_path / "q.png"
    photo.write_bytes(PNG)
    svc.stop()
    assert cli("ticket", "comment", tid, "-m", "c", CARHELP_RETRIES=0).returncode == 10
    assert cli("ticket", "attach", tid, str(photo), CARHELP_RETRIES=0).returncode == 10
    assert cli("ticket", "rate", tid, "--score", "5", CARHELP_RETRIES=0).returncode == 10
    svc.start()
    assert cli("outbox", "flush").returncode == 0
    t = json.loads(cli("--json", "ticket", "show", tid).stdout)
    assert [e["kind"] for e in t["events"]] == ["created", "comment", "attachment", "rated"]


def test_emergency_offline_prints_guidance_and_queues(cli, svc):
    svc.stop()
    r = cli("emergency", "--location", "39.9,116.4", CARHELP_RETRIES=0)
    assert r.returncode == 10 and "122" in r.stdout and "400-000-1234" in r.stderr
    svc.start()
    assert cli("outbox", "flush").returncode == 0
    [t] = tickets(cli)
    assert t["category"] == "accident" and t["priority"] == "emergency"


def test_items_go_to_the_api_and_profile_they_were_written_for(cli, svc, tmp_path):
    queue_offline(cli, svc, 1)
    (tmp_path / "other").mkdir()
    other = Service(tmp_path / "other")
    try:
        # Flushing while pointed at another service still delivers to the saved one.
        r = cli("outbox", "flush", CARHELP_API_URL=other.url)
        assert r.returncode == 0, r.stderr
        assert len(tickets(cli)) == 1
    finally:
        other.stop()


# ---- reliability ----------------------------------------------------------------------------

def test_sigkill_during_flush_at_many_points_still_delivers_each_exactly_once(cli, svc, tmp_path):
    n = 30
    photo = tmp_path / "k.png"
    photo.write_bytes(PNG)
    # A proxy that slows each request spreads the flush over time (two requests per item), so
    # the kills land before, during and after requests, and between delivery and removal.
    proxy = FaultProxy(svc.port, fault="delay=40")
    # The proxy stands in front of the same service: the token reads as issued there (a stored
    # token only goes to the origin it was issued for).
    bound = chtest.token_bound_to(cli.env, proxy.url)
    bound.__enter__()
    queue_offline(cli, svc, n, "--attach", str(photo), url=proxy.url)
    kills = 0
    try:
        rng = random.Random(11)
        while items(cli) and kills < 25:
            p = subprocess.Popen([chtest.CARHELP, "outbox", "flush"],
                                 env=dict(cli.env, CARHELP_API_URL=proxy.url),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.01, 0.25))
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
        assert kills >= 8, f"only {kills} kills landed while items were waiting"
        flush_until_empty(cli, CARHELP_API_URL=proxy.url)
    finally:
        bound.__exit__(None, None, None)
        proxy.close()
    got = tickets(cli)
    assert len(got) == n
    assert sorted(t["message"] for t in got) == sorted(f"report {i}" for i in range(n))
    assert all(len(t["attachments"]) == 1 for t in got)


def test_service_killed_mid_request_still_each_report_exactly_once(cli, svc):
    n = 25
    queue_offline(cli, svc, n)
    rng = random.Random(7)
    for _ in range(6):
        p = subprocess.Popen([chtest.CARHELP, "outbox", "flush"], env=cli.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.005, 0.08))
        svc.kill()
        p.wait(60)
        svc.start()
    flush_until_empty(cli)
    got = tickets(cli)
    assert len(got) == n
    assert len({t["message"] for t in got}) == n


def test_200_reports_through_a_network_dropping_a_third_end_as_200_tickets(cli, svc):
    n = 200
    proxy = FaultProxy(svc.port)
    env = dict(cli.env, CARHELP_API_URL=proxy.url, CARHELP_RETRIES="0")
    bound = chtest.token_bound_to(cli.env, proxy.url)   # the same service behind the proxy
    bound.__enter__()
    try:
        # Written while the service is down (the proxy answers nothing): 200 items, 16 at a time.
        svc.stop()
        procs = []
        for i in range(n):
            procs.append(subprocess.Popen(
                [chtest.CARHELP, "report", "other", "--message", f"soak {i}"], env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            if len(procs) >= 16:
                assert procs.pop(0).wait(60) == 10
        assert all(p.wait(60) == 10 for p in procs)
        assert len(items(cli)) == n
        svc.start()
        # Now a third of the requests are dropped by the service (X-Fault drop-rate=0.33) and
        # a tenth of the answers are lost after the service handled them.
        proxy.fault, proxy.lose = "drop-rate=0.33", 0.1
        flush_until_empty(cli, tries=40, CARHELP_API_URL=proxy.url, CARHELP_TIMEOUT=5)
    finally:
        bound.__exit__(None, None, None)
        proxy.close()
    got = tickets(cli)
    assert len(got) == n
    assert sorted(t["message"] for t in got) == sorted(f"soak {i}" for i in range(n))
