"""TLS: the reference service over HTTPS with certificates made here with openssl.
carhelp refuses a self-signed certificate by default (exit 6, naming the problem), trusts it
with --cacert, CARHELP_CACERT or the config's cacert, refuses a trusted certificate made for
another host name or used out of its dates, on every command naming the check that failed and
its fix, and refuses plain http:// to any host that is not loopback before it opens a
connection (exit 2). doctor reports a failed TLS check as a FAIL line."""
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
from test_i18n import zh_locale  # noqa: E402,F401

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
    assert "TLS certificate problem (unknown issuer): self-signed certificate" in lines[0]
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


# ---- every command names the check that failed and its fix ------------------------------------

def make_dated_cert(folder, name, start, end):
    """A self-signed certificate for localhost and 127.0.0.1 valid only from `start` to `end`
    (YYYYMMDDHHMMSSZ): `openssl ca` is the tool that sets both dates."""
    d = folder / name
    d.mkdir()
    (d / "index.txt").write_text("")
    (d / "serial").write_text("01\n")
    (d / "ca.cnf").write_text(
        f"[ca]\ndefault_ca = d\n[d]\ndatabase = {d}/index.txt\nnew_certs_dir = {d}\n"
        f"serial = {d}/serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\n"
        "[p]\ncommonName = supplied\n")
    key, csr, cert = d / "key.pem", d / "req.csr", d / "cert.pem"
    subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "ca", "-config", str(d / "ca.cnf"), "-selfsign", "-keyfile",
                    str(key), "-in", str(csr), "-startdate", start, "-enddate", end, "-batch",
                    "-notext", "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    """Two services: one whose certificate expired in 2020, one whose starts in 2099."""
    d = tmp_path_factory.mktemp("dated")
    out = {}
    for name, start, end in [("expired", "20200101000000Z", "20200102000000Z"),
                             ("future", "20991231000000Z", "21000101000000Z")]:
        cert, key = make_dated_cert(d, name, start, end)
        out[name] = (chtest.Server("--tls-cert", str(cert), "--tls-key", str(key)), cert)
    yield out
    for srv, _ in out.values():
        srv.stop()


TOKEN = "x" * 40
COMMANDS = [("order", "list"), ("ticket", "list"), ("account", "show"),
            ("unlock", "京AD12345", "--yes")]


def refusal(r):
    """The one error line and its hint of a refused handshake."""
    lines = r.stderr.splitlines()
    errs = [ln for ln in lines if ln.startswith("carhelp: ")]
    hints = [ln for ln in lines if ln.startswith("hint: ")]
    assert len(errs) == 1 and len(hints) == 1, r.stderr
    return errs[0], hints[0]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a[:1]))
def test_an_unknown_issuer_is_named_with_the_cacert_fix_on_every_command(tmp_path, https, args):
    before = len(requests_logged(https))
    r = cli(tmp_path, https.url, *args, CARHELP_TOKEN=TOKEN)
    assert r.returncode == 6, r.stderr
    err, hint = refusal(r)
    assert "TLS certificate problem (unknown issuer): self-signed certificate" in err, err
    assert "--cacert FILE" in hint and "cacert = FILE" in hint, hint
    time.sleep(0.2)
    assert len(requests_logged(https)) == before, "no request got past the handshake"


@pytest.mark.parametrize("args", COMMANDS[:2], ids=lambda a: "-".join(a[:1]))
def test_a_wrong_host_name_is_named_with_the_api_url_fix(tmp_path, wrong_host, certs, args):
    r = cli(tmp_path, wrong_host.url, "--cacert", str(certs["wrong"][0]), *args,
            CARHELP_TOKEN=TOKEN)
    assert r.returncode == 6, r.stderr
    err, hint = refusal(r)
    assert "TLS certificate problem (wrong host name)" in err and "'127.0.0.1'" in err, err
    assert "--api-url" in hint and "--cacert does not change" in hint, hint


@pytest.mark.parametrize("which,check", [("expired", "expired"), ("future", "not valid yet")])
def test_a_certificate_out_of_its_dates_is_named_with_the_clock_fix(tmp_path, dated, which,
                                                                     check):
    srv, cert = dated[which]
    before = len(requests_logged(srv))
    r = cli(tmp_path, srv.url, "--cacert", str(cert), "order", "list", CARHELP_TOKEN=TOKEN)
    assert r.returncode == 6, r.stderr
    err, hint = refusal(r)
    assert f"TLS certificate problem ({check})" in err, err
    assert "date and time" in hint, hint
    time.sleep(0.2)
    assert len(requests_logged(srv)) == before


def test_the_check_and_its_fix_in_json(tmp_path, https):
    r = cli(tmp_path, https.url, "--json", "ticket", "list", CARHELP_TOKEN=TOKEN)
    assert r.returncode == 6, r.stderr
    err = json.loads(r.stderr.strip().splitlines()[-1])["error"]
    assert err["code"] == "tls" and "(unknown issuer)" in err["message"]
    assert "--cacert FILE" in err["hint"]


def test_the_check_and_its_fix_in_chinese(tmp_path, https, zh_locale):
    r = cli(tmp_path, https.url, "order", "list", CARHELP_TOKEN=TOKEN, LC_ALL=zh_locale)
    assert r.returncode == 6, r.stderr
    assert "证书" in r.stderr and "--cacert FILE" in r.stderr, r.stderr
    assert "unknown issuer" not in r.stderr and "private CA" not in r.stderr, r.stderr


def test_doctor_gives_the_same_fix_for_the_failed_check(tmp_path, dated):
    srv, cert = dated["expired"]
    r = cli(tmp_path, srv.url, "--cacert", str(cert), "doctor")
    assert r.returncode == 1, r.stdout + r.stderr
    tls = [ln for ln in r.stdout.splitlines() if ln.split()[1:2] == ["tls"]]
    assert len(tls) == 1 and tls[0].startswith("FAIL"), r.stdout
    assert "(expired)" in tls[0] and "date and time" in tls[0], tls[0]
