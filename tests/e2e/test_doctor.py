"""doctor: one PASS/WARN/FAIL/SKIP line per check with a hint, --json, exit 1 on any FAIL; a
dead server, a wrong URL, a non-JSON endpoint and a world-readable credentials file each FAIL;
the checks that cannot run after a failure are SKIP and are not counted as failures."""
import datetime
import http.server
import json
import os
import re
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

CHECKS = ["config", "credentials", "dns", "tcp", "tls", "api", "version", "clock", "token",
          "latency"]
LINE = re.compile(r"^(PASS|WARN|FAIL|SKIP)  (\S+)\s+(\d+) ms  (.*)$")
SUMMARY = re.compile(r"^(\d+) passed, (\d+) warned, (\d+) failed, (\d+) skipped \(API (\S+)\)$", re.M)
AFTER_TCP = ["tls", "api", "version", "clock", "token", "latency"]


def closed_port_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def parse(stdout):
    """{name: (status, detail line)} from the human output, in order."""
    checks = {}
    for line in stdout.splitlines():
        m = LINE.match(line)
        if m:
            checks[m.group(2)] = (m.group(1), m.group(4))
    return checks


class HtmlHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html><body>It works!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def html_server():
    """A web server on loopback that is not a carhelp API: HTML for every path."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HtmlHandler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_all_checks_pass_against_the_service_when_logged_in(logged_in):
    r = logged_in("doctor")
    assert r.returncode == 0, (r.stdout, r.stderr)
    checks = parse(r.stdout)
    assert list(checks) == CHECKS
    assert all(st == "PASS" for st, _ in checks.values()), r.stdout
    assert "王小明" in checks["token"][1]
    assert "not used (http on loopback)" in checks["tls"][1]


def test_not_logged_in_is_a_warning_not_a_failure(carhelp):
    r = carhelp("doctor")
    assert r.returncode == 0, r.stdout
    checks = parse(r.stdout)
    assert checks["credentials"][0] == "WARN"
    assert checks["token"][0] == "WARN"
    assert "hint: run `carhelp login`" in r.stdout
    assert checks["config"] == ("PASS", checks["config"][1])
    assert "none, using defaults" in checks["config"][1]


def test_dead_server_fails_connect_with_a_hint_and_skips_the_rest_quickly(carhelp):
    url = closed_port_url()
    t0 = time.monotonic()
    r = carhelp("doctor", CARHELP_API_URL=url)
    assert time.monotonic() - t0 < 10 * chtest.SLOW      # SLOW: under valgrind
    assert r.returncode == 1, r.stdout
    checks = parse(r.stdout)
    assert list(checks) == CHECKS
    assert checks["dns"][0] == "PASS"
    assert checks["tcp"][0] == "FAIL"
    tcp_line = next(l for l in r.stdout.splitlines() if l.startswith("FAIL  tcp"))
    assert "hint:" in tcp_line and "carhelp-server" in tcp_line
    for name in AFTER_TCP:
        assert checks[name][0] == "SKIP" and checks[name][1].startswith("skipped:"), name


@pytest.mark.parametrize("logged", [False, True], ids=["not logged in", "logged in"])
def test_checks_after_a_failed_connect_are_skipped_not_failed(request, logged):
    """The one real failure is the connect; what could not run after it is SKIP, says which
    check failed, and the summary counts it apart from the failures."""
    run = request.getfixturevalue("logged_in" if logged else "carhelp")
    url = closed_port_url()
    r = run("doctor", CARHELP_API_URL=url)
    assert r.returncode == 1, r.stdout
    checks = parse(r.stdout)
    assert list(checks) == CHECKS
    assert checks["tcp"][0] == "FAIL"
    for name in AFTER_TCP:
        status, detail = checks[name]
        assert status == "SKIP", (name, r.stdout)
        assert detail.startswith("skipped: tcp failed"), (name, detail)
        assert "hint:" not in detail
    failed = [n for n, (st, _) in checks.items() if st == "FAIL"]
    assert failed == ["tcp"], r.stdout
    m = SUMMARY.search(r.stdout)
    assert m, r.stdout
    passed, warned, nfail, skipped = (int(g) for g in m.groups()[:4])
    assert (nfail, skipped) == (1, len(AFTER_TCP)), m.group(0)
    assert passed + warned + nfail + skipped == len(CHECKS)
    assert m.group(5) == url


def test_json_skipped_checks_have_status_skip_and_are_not_failures(carhelp):
    r = carhelp("doctor", "--json", CARHELP_API_URL=closed_port_url())
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    status = {c["name"]: c["status"] for c in doc["checks"]}
    assert status["tcp"] == "fail"
    assert [status[n] for n in AFTER_TCP] == ["skip"] * len(AFTER_TCP), status
    for c in doc["checks"]:
        if c["status"] == "skip":
            assert c["detail"].startswith("skipped: tcp failed") and c["hint"] is None
    assert doc["summary"] == {s: list(status.values()).count(s)
                              for s in ("pass", "warn", "fail", "skip")}
    assert doc["summary"]["fail"] == 1 and doc["summary"]["skip"] == len(AFTER_TCP)
    assert doc["ok"] is False



def test_wrong_url_is_a_fail_with_an_api_url_hint(carhelp, server):
    r = carhelp("doctor", CARHELP_API_URL=server.url + "/nope")
    assert r.returncode == 1, r.stdout
    checks = parse(r.stdout)
    assert checks["tcp"][0] == "PASS"
    assert checks["api"][0] == "FAIL"
    assert "wrong URL" in checks["api"][1]
    assert "hint: check --api-url" in checks["api"][1]


def test_non_json_endpoint_is_not_a_carhelp_api(carhelp, html_server):
    r = carhelp("doctor", CARHELP_API_URL=html_server)
    assert r.returncode == 1, r.stdout
    checks = parse(r.stdout)
    assert checks["api"][0] == "FAIL"
    assert "not a carhelp API: text/html" in checks["api"][1]
    assert "hint: check --api-url" in checks["api"][1]


def test_world_readable_credentials_fail_with_the_chmod_to_run(logged_in):
    path = Path(logged_in.env["CARHELP_CONFIG_DIR"]) / "credentials"
    os.chmod(path, 0o644)
    r = logged_in("doctor")
    assert r.returncode == 1, r.stdout
    checks = parse(r.stdout)
    assert checks["credentials"][0] == "FAIL"
    assert f"hint: chmod 600 {path}" in checks["credentials"][1]


def test_revoked_token_fails_with_login_hint(logged_in):
    token = next(l.split("=", 1)[1].strip() for l in
                 (Path(logged_in.env["CARHELP_CONFIG_DIR"]) / "credentials").read_text().splitlines()
                 if l.split("=", 1)[0].strip() == "token")
    assert logged_in("logout").returncode == 0
    r = logged_in("doctor", CARHELP_TOKEN=token)
    assert r.returncode == 1, r.stdout
    checks = parse(r.stdout)
    assert checks["token"][0] == "FAIL"
    assert "carhelp login" in checks["token"][1]
    assert token not in r.stdout + r.stderr


def test_unparsable_config_is_a_fail_naming_the_line_and_the_rest_still_runs(carhelp):
    cfg = Path(carhelp.env["CARHELP_CONFIG_DIR"]) / "config"
    cfg.write_text("[default]\nthis is not ini\n")
    r = carhelp("doctor")
    assert r.returncode == 1, (r.stdout, r.stderr)
    checks = parse(r.stdout)
    assert list(checks) == CHECKS
    assert checks["config"][0] == "FAIL"
    assert str(cfg) in checks["config"][1] and "2" in checks["config"][1]
    assert "hint:" in checks["config"][1]
    assert checks["api"][0] == "PASS"       # the diagnosis goes on with the defaults + env


def test_config_api_url_is_used(carhelp, server):
    cfg = Path(carhelp.env["CARHELP_CONFIG_DIR"]) / "config"
    cfg.write_text(f"[default]\napi_url = {closed_port_url()}\n")
    env = dict(carhelp.env)
    del env["CARHELP_API_URL"]
    r = carhelp("doctor", env=env)
    assert r.returncode == 1
    assert parse(r.stdout)["tcp"][0] == "FAIL"
    # the command line still wins over the file
    r = carhelp("doctor", "--api-url", server.url, env=env)
    assert parse(r.stdout)["tcp"][0] == "PASS", r.stdout


def test_bad_environment_value_is_a_config_fail(carhelp):
    r = carhelp("doctor", CARHELP_TIMEOUT="soon")
    assert r.returncode == 1, r.stdout
    config = parse(r.stdout)["config"]
    assert config[0] == "FAIL" and "CARHELP_TIMEOUT" in config[1]


@pytest.mark.parametrize("skew_s,status", [(0, "PASS"), (120, "WARN"), (-600, "FAIL")])
def test_clock_skew_against_the_service(logged_in, skew_s, status):
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=skew_s)
    r = logged_in("doctor", CARHELP_NOW=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    checks = parse(r.stdout)
    assert checks["clock"][0] == status, r.stdout
    assert r.returncode == (1 if status == "FAIL" else 0)


def test_json_shape(logged_in):
    r = logged_in("doctor", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] is True
    assert [c["name"] for c in doc["checks"]] == CHECKS
    for c in doc["checks"]:
        assert set(c) >= {"name", "status", "ms", "detail", "hint"}
        assert c["status"] in ("pass", "warn", "fail", "skip")
        assert isinstance(c["ms"], (int, float)) and c["ms"] >= 0
        assert isinstance(c["detail"], str) and c["detail"]
        assert c["hint"] is None or isinstance(c["hint"], str)


def test_json_reports_failures_and_exit_1(carhelp):
    r = carhelp("doctor", "--json", CARHELP_API_URL=closed_port_url())
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["ok"] is False
    tcp = next(c for c in doc["checks"] if c["name"] == "tcp")
    assert tcp["status"] == "fail" and tcp["hint"]


def test_colour_only_when_asked(logged_in):
    plain = logged_in("doctor")
    assert "\x1b[" not in plain.stdout
    coloured = logged_in("--color", "always", "doctor")
    assert "\x1b[32mPASS" in coloured.stdout
    never = logged_in("--color", "never", "doctor")
    assert "\x1b[" not in never.stdout


@pytest.fixture
def tls_server(tmp_path):
    """The reference service over HTTPS with a self-signed certificate for 127.0.0.1."""
    import shutil
    import subprocess
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    srv = chtest.Server("--tls-cert", str(cert), "--tls-key", str(key))
    yield srv, cert
    srv.stop()


def test_tls_with_an_untrusted_certificate_fails_with_a_cacert_hint(carhelp, tls_server):
    srv, _ = tls_server
    assert srv.url.startswith("https://")
    r = carhelp("doctor", CARHELP_API_URL=srv.url)
    assert r.returncode == 1, r.stdout
    checks = parse(r.stdout)
    assert checks["tcp"][0] == "PASS"
    assert checks["tls"][0] == "FAIL"
    assert "certificate" in checks["tls"][1] and "--cacert" in checks["tls"][1]
    assert checks["api"][0] == "SKIP"
    assert checks["api"][1].startswith("skipped: tls failed")


def test_tls_with_the_right_ca_passes(carhelp, tls_server):
    srv, cert = tls_server
    r = carhelp("doctor", "--cacert", str(cert), CARHELP_API_URL=srv.url)
    checks = parse(r.stdout)
    assert checks["tls"][0] == "PASS", r.stdout
    assert checks["api"][0] == "PASS", r.stdout
    assert r.returncode == 0


def test_a_proxy_is_checked_instead_of_the_api_host(carhelp, server):
    dead_proxy = closed_port_url()
    r = carhelp("doctor", http_proxy=dead_proxy)
    assert r.returncode == 1, r.stdout
    tcp = parse(r.stdout)["tcp"]
    assert tcp[0] == "FAIL" and "proxy" in tcp[1] and "no_proxy" in tcp[1]
    direct = carhelp("doctor", http_proxy=dead_proxy, no_proxy="127.0.0.1")
    assert parse(direct.stdout)["tcp"][0] == "PASS", direct.stdout
