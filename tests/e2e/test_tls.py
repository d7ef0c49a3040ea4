"""TLS (issue 10): the reference service over HTTPS with certificates made here with openssl.
carhelp refuses a self-signed certificate by default (exit 6, naming the problem), trusts it
with --cacert, CARHELP_CACERT or the config's cacert, refuses a trusted certificate made for
another host name, and refuses plain http:// to any host that is not loopback before it opens
a connection (exit 2). doctor reports a failed TLS check as a FAIL line."""
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

CUSTOMER = ("13800138000", "246810")
ORDER = "ord_20261101_0001"

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def make_cert(folder, name, san):
    """A self-signed P-256 certificate (and its key) for `san`, valid two days."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", f"/CN={name}", "-addext",
                    f"subjectAltName={san}"], check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    return {"good": make_cert(d, "localhost", "DNS:localhost,IP:127.0.0.1"),
            "wrong": make_cert(d, "wrong.example", "DNS:wrong.example")}


@pytest.fixture(scope="module")
def https(certs):
    """The service with a self-signed certificate for localhost and 127.0.0.1."""
    cert, key = certs["good"]
    srv = chtest.Server("--tls-cert", str(cert), "--tls-key", str(key))
    assert srv.url.startswith("https://127.0.0.1:"), srv.url
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def wrong_host(certs):
    """The service with a certificate made for wrong.example."""
    cert, key = certs["wrong"]
    srv = chtest.Server("--tls-cert", str(cert), "--tls-key", str(key))
    yield srv
    srv.stop()


def cli(tmp_path, url, *args, input=None, **extra):
    env = chtest.isolated_env(tmp_path, url, **extra)
    return chtest.run(env, *args, input=input, timeout=60)


def requests_logged(srv):
    return [ln for ln in srv.log_text().splitlines() if ln.startswith(("GET ", "POST "))]


# ---- a certificate nobody vouches for -----------------------------------------------------

def test_self_signed_certificate_is_refused_by_default(tmp_path, https):
    before = len(requests_logged(https))
    r = cli(tmp_path, https.url, "login", "--phone", CUSTOMER[0], input=CUSTOMER[1] + "\n")
    assert r.returncode == 6, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("carhelp: ")]
    assert len(lines) == 1, r.stderr
    assert "TLS certificate problem: self-signed certificate" in lines[0]
    time.sleep(0.2)
    assert len(requests_logged(https)) == before, "no request got past the handshake"


def test_refusal_in_json_is_a_tls_network_error(tmp_path, https):
    r = cli(tmp_path, https.url, "--json", "order", "show", ORDER, CARHELP_TOKEN="x" * 40)
    assert r.returncode == 6, r.stderr
    err = json.loads(r.stderr.strip().splitlines()[-1])["error"]
    assert err["code"] == "tls" and "self-signed" in err["message"]
    assert err["http_status"] is None and err["request_id"] is None


def test_doctor_reports_the_tls_failure_as_fail(tmp_path, https):
    r = cli(tmp_path, https.url, "doctor")
    assert r.returncode == 1, r.stdout + r.stderr
    tls = [ln for ln in r.stdout.splitlines() if ln.split()[1:2] == ["tls"]]
    assert len(tls) == 1 and tls[0].startswith("FAIL"), r.stdout
    assert "self-signed certificate" in tls[0] and "--cacert" in tls[0]
    tcp = [ln for ln in r.stdout.splitlines() if ln.split()[1:2] == ["tcp"]]
    assert tcp[0].startswith("PASS"), "the TCP connect itself worked"


# ---- trusting it: --cacert, CARHELP_CACERT, the config file ---------------------------------

def test_cacert_option_trusts_the_certificate(tmp_path, https, certs):
    cert = str(certs["good"][0])
    r = cli(tmp_path, https.url, "--cacert", cert, "login", "--phone", CUSTOMER[0],
            input=CUSTOMER[1] + "\n")
    assert r.returncode == 0, r.stderr
    r = cli(tmp_path, https.url, "order", "show", ORDER, "--cacert", cert)
    assert r.returncode == 0, r.stderr
    assert ORDER in r.stdout
    r = cli(tmp_path, https.url, "--cacert", cert, "doctor")
    assert r.returncode == 0, r.stdout
    assert any(ln.startswith("PASS") and " tls " in ln for ln in r.stdout.splitlines())


def test_carhelp_cacert_variable_trusts_the_certificate(tmp_path, https, certs):
    r = cli(tmp_path, https.url, "login", "--phone", CUSTOMER[0], input=CUSTOMER[1] + "\n",
            CARHELP_CACERT=certs["good"][0])
    assert r.returncode == 0, r.stderr
    r = cli(tmp_path, https.url, "order", "show", ORDER, CARHELP_CACERT=certs["good"][0])
    assert r.returncode == 0, r.stderr


def test_config_cacert_trusts_the_certificate(tmp_path, https, certs):
    config = tmp_path / "home" / "config"
    config.mkdir(parents=True)
    (config / "config").write_text(f"[default]\ncacert = {certs['good'][0]}\n")
    r = cli(tmp_path, https.url, "login", "--phone", CUSTOMER[0], input=CUSTOMER[1] + "\n")
    assert r.returncode == 0, r.stderr


def test_host_name_localhost_is_verified_too(tmp_path, https, certs):
    url = https.url.replace("127.0.0.1", "localhost")
    r = cli(tmp_path, url, "--cacert", str(certs["good"][0]), "login", "--phone",
            CUSTOMER[0], input=CUSTOMER[1] + "\n")
    assert r.returncode == 0, r.stderr


def test_another_ca_file_does_not_trust_it(tmp_path, https, certs):
    r = cli(tmp_path, https.url, "--cacert", str(certs["wrong"][0]), "login", "--phone",
            CUSTOMER[0], input=CUSTOMER[1] + "\n")
    assert r.returncode == 6, r.stderr
    assert "TLS certificate problem" in r.stderr


# ---- a trusted certificate for another host name ---------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_certificate_for_another_host_name_is_refused(tmp_path, wrong_host, certs, host):
    url = wrong_host.url.replace("127.0.0.1", host)
    before = len(requests_logged(wrong_host))
    r = cli(tmp_path, url, "--cacert", str(certs["wrong"][0]), "login", "--phone",
            CUSTOMER[0], input=CUSTOMER[1] + "\n")
    assert r.returncode == 6, r.stderr
    line = [ln for ln in r.stderr.splitlines() if ln.startswith("carhelp: ")]
    assert len(line) == 1, r.stderr
    assert "TLS certificate problem" in line[0] and f"'{host}'" in line[0], line[0]
    assert "name" in line[0]
    time.sleep(0.2)
    assert len(requests_logged(wrong_host)) == before


# ---- plain http:// only on loopback ------------------------------------------------------------

class Witness:
    """A listener that counts connections: the http_proxy for the run, so any request carhelp
    sent, to whatever host, would arrive here first."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self):
        self.sock.close()


INSECURE = ["http://192.0.2.1", "http://192.0.2.1:8765/", "http://10.0.0.1:80",
            "http://api.example.com", "http://[2001:db8::1]:8765", "http://127.0.0.1.example.com",
            "http://localhost.example.com", "HTTP://192.0.2.1"]


@pytest.mark.parametrize("source", ["option", "env", "config"])
@pytest.mark.parametrize("url", INSECURE)
def test_plain_http_to_a_host_that_is_not_loopback_is_refused_unsent(tmp_path, url, source):
    witness = Witness()
    try:
        proxy = {"http_proxy": witness.url, "HTTP_PROXY": witness.url, "all_proxy": witness.url}
        env = chtest.isolated_env(tmp_path, url if source == "env" else None,
                                  CARHELP_TOKEN="x" * 40, **proxy)
        args = ["--api-url", url] if source == "option" else []
        if source == "config":
            (tmp_path / "home" / "config" / "config").write_text(f"[default]\napi_url = {url}\n")
        t0 = time.monotonic()
        r = chtest.run(env, "-v", *args, "order", "show", ORDER)
        assert time.monotonic() - t0 < 2 * getattr(chtest, "SLOW", 1), "it tried to connect"
        assert r.returncode == 2, r.stderr
        assert "plain http:// is allowed only for loopback hosts" in r.stderr
        assert "> GET" not in r.stderr and witness.connections == 0, "a request was sent"
    finally:
        witness.close()


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}", "http://localhost:{port}",
                                 "http://127.8.9.10:{port}", "http://[::1]:{port}"])
def test_plain_http_on_loopback_is_allowed(tmp_path, url):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                         # nothing listens there: a network failure, not a refusal
    r = cli(tmp_path, url.format(port=port), "order", "show", ORDER, CARHELP_TOKEN="x" * 40,
            CARHELP_RETRIES=0)
    assert r.returncode == 6, r.stderr
