"""ticket qr and ticket verify against the reference service: every output format decoded by
an independent decoder (zbarimg; SVG rasterised by rsvg-convert; the terminal renderings
turned into images by tests/pylib/qrtext.py), the decoded text is the pass and verifies;
tampered, expired and unknown passes are refused (exit 1); bad input is exit 2 with no request."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402
import qrtext  # noqa: E402

DEMO_PHONE, DEMO_CODE = "13800138000", "246810"
OTHER_PHONE, OTHER_CODE = "13912345678", "135790"
START = "2026-11-25T10:00:00+08:00"
LATER = "2026-12-03T10:00:00+08:00"  # 8 days on: a pass issued at START has expired

pytestmark = pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbarimg (zbar-tools) missing")


@pytest.fixture
def svc(tmp_path):
    srv = chtest.Server("--now", START, db=tmp_path / "svc.db")
    yield srv
    srv.stop()


def client(tmp_path, url, phone=DEMO_PHONE, code=DEMO_CODE, name="me"):
    env = chtest.isolated_env(tmp_path / name, url)

    def run(*args, input=None):
        return chtest.run(env, *args, input=input)
    r = run("login", "--phone", phone, input=code + "\n")
    assert r.returncode == 0, r.stderr
    return run


@pytest.fixture
def cli(tmp_path, svc):
    return client(tmp_path, svc.url)


@pytest.fixture
def ticket(cli):
    r = cli("--json", "report", "billing", "--order", "ord_20261101_0001",
            "-m", "charged twice for one trip")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["id"]


def get_pass(cli, ticket):
    r = cli("--json", "ticket", "qr", ticket)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ticket_id"] == ticket and len(doc["short_code"]) == 8
    return doc


def zbar(path):
    r = subprocess.run(["zbarimg", "--nodbus", "--raw", "-q", str(path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"zbarimg found no code in {path}: {r.stderr}"
    return r.stdout.strip()


def requests(server, method, path):
    return sum(1 for ln in server.log_text().splitlines() if ln.startswith(f"{method} {path} "))


def assert_verifies(cli, text, ticket):
    r = cli("ticket", "verify", text)
    assert r.returncode == 0, r.stdout + r.stderr
    assert ticket in r.stdout and "open" in r.stdout


def pass_around(cli, ticket, make):
    """Runs make() between two fetches of the pass and returns (what make returned, the pass).
    The service signs a pass with the current second, so the two fetches must agree, or the
    QR and the fetch may rightly differ: then it tries again (a slow machine, valgrind)."""
    for _ in range(5):
        before = get_pass(cli, ticket)["pass"]
        got = make()
        if get_pass(cli, ticket)["pass"] == before:
            return got, before
    pytest.fail("the pass changed between every pair of fetches")


def test_png_decodes_to_the_pass_and_verifies(cli, ticket, tmp_path):
    out = tmp_path / "pass.png"

    def make():
        r = cli("ticket", "qr", ticket, "--format", "png", "-o", str(out), "--force")
        assert r.returncode == 0, r.stderr
        assert out.read_bytes().startswith(b"\x89PNG")
        return zbar(out)
    decoded, fetched = pass_around(cli, ticket, make)
    assert decoded == fetched
    assert_verifies(cli, decoded, ticket)


def test_png_size_and_margin_change_the_image(cli, ticket, tmp_path):
    small, big = tmp_path / "s.png", tmp_path / "b.png"
    assert cli("ticket", "qr", ticket, "--format", "png", "-o", str(small), "--size", "3",
               "--margin", "1").returncode == 0
    assert cli("ticket", "qr", ticket, "--format", "png", "-o", str(big), "--size", "12").returncode == 0
    w = lambda p: int.from_bytes(p.read_bytes()[16:20], "big")  # noqa: E731
    assert w(big) > 3 * w(small)
    for png in (small, big):
        assert_verifies(cli, zbar(png), ticket)


@pytest.mark.skipif(not shutil.which("rsvg-convert"), reason="rsvg-convert missing")
def test_svg_rasterised_decodes_to_the_pass(cli, ticket, tmp_path):
    svg, png = tmp_path / "pass.svg", tmp_path / "svg.png"
    r = cli("ticket", "qr", ticket, "--format", "svg", "-o", str(svg))
    assert r.returncode == 0, r.stderr
    assert "<svg" in svg.read_text()
    subprocess.run(["rsvg-convert", str(svg), "-o", str(png)], check=True, timeout=60)
    decoded = zbar(png)
    assert_verifies(cli, decoded, ticket)


def test_svg_to_stdout_when_piped(cli, ticket):
    r = cli("ticket", "qr", ticket, "--format", "svg")
    assert r.returncode == 0 and r.stdout.startswith("<?xml")


@pytest.mark.parametrize("fmt,reader", [("utf8", qrtext.modules_utf8),
                                        ("ascii", qrtext.modules_ascii),
                                        ("ansi", qrtext.modules_ansi)])
def test_terminal_rendering_decodes_to_the_pass(cli, ticket, tmp_path, fmt, reader):
    args = ["ticket", "qr", ticket] + ([] if fmt == "utf8" else ["--format", fmt])
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    doc = get_pass(cli, ticket)
    assert f"Short code: {doc['short_code']}" in r.stdout
    pgm = tmp_path / f"{fmt}.pgm"
    qrtext.to_pgm(reader(r.stdout), pgm)
    decoded = zbar(pgm)
    assert decoded.startswith("AR")  # version 1 and an id length: the pass's shape
    assert_verifies(cli, decoded, ticket)


def test_short_code_verifies_in_any_case_with_dashes(cli, ticket):
    code = get_pass(cli, ticket)["short_code"]
    assert_verifies(cli, code.lower(), ticket)
    assert_verifies(cli, code[:4] + "-" + code[4:], ticket)


def test_tampered_pass_is_rejected(cli, ticket):
    p = get_pass(cli, ticket)["pass"]
    i = len(p) // 2
    tampered = p[:i] + ("B" if p[i] != "B" else "C") + p[i + 1:]
    r = cli("ticket", "verify", tampered)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "tampered" in r.stdout
    r = cli("--json", "ticket", "verify", tampered)
    assert r.returncode == 1 and json.loads(r.stdout)["reason"] == "tampered"


def test_expired_pass_is_rejected(tmp_path):
    db = tmp_path / "svc.db"
    with chtest.Server("--now", START, db=db) as srv:
        cli = client(tmp_path, srv.url)
        r = cli("--json", "report", "billing", "-m", "charged twice")
        assert r.returncode == 0, r.stderr
        ticket = json.loads(r.stdout)["id"]
        p = get_pass(cli, ticket)["pass"]
        assert_verifies(cli, p, ticket)
    with chtest.Server("--now", LATER, db=db, seed=None) as srv:
        cli = client(tmp_path, srv.url, name="later")
        r = cli("ticket", "verify", p)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "expired" in r.stdout


def test_unknown_short_code_is_rejected(cli):
    r = cli("ticket", "verify", "ZZZZ-ZZZZ")
    assert r.returncode == 1 and "unknown" in r.stdout


def test_another_customers_ticket_is_denied(cli, ticket, svc, tmp_path):
    other = client(tmp_path, svc.url, OTHER_PHONE, OTHER_CODE, name="other")
    r = other("ticket", "qr", ticket)
    assert r.returncode == 5, r.stderr
    # and the owner's pass tells the other customer nothing
    r = other("ticket", "verify", get_pass(cli, ticket)["pass"])
    assert r.returncode == 1 and "unknown" in r.stdout and ticket not in r.stdout


@pytest.mark.parametrize("text,word", [("not a pass!", "not a ticket pass"),
                                       ("ARx0a3Rf$$$", "not a ticket pass"),
                                       ("ARx0a3RfNTU0YjEzZGQxNjZjYjY5MDUwYjM3Njhh", "incomplete")])
def test_malformed_pass_is_refused_without_a_request(cli, svc, text, word):
    before = requests(svc, "POST", "/v1/tickets/passes/verify")
    r = cli("ticket", "verify", text)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "PASS" in r.stderr and word in r.stderr
    assert requests(svc, "POST", "/v1/tickets/passes/verify") == before


def test_truncated_real_pass_is_refused_without_a_request(cli, svc, ticket):
    p = get_pass(cli, ticket)["pass"]
    before = requests(svc, "POST", "/v1/tickets/passes/verify")
    for cut in (p[:-1], p[:-4], p[: len(p) // 2]):
        r = cli("ticket", "verify", cut)
        assert r.returncode == 2, (cut, r.stdout, r.stderr)
    assert requests(svc, "POST", "/v1/tickets/passes/verify") == before


def test_existing_file_is_kept_without_force(cli, ticket, svc, tmp_path):
    out = tmp_path / "keep.png"
    out.write_bytes(b"precious")
    before = requests(svc, "GET", f"/v1/tickets/{ticket}/pass")
    r = cli("ticket", "qr", ticket, "--format", "png", "-o", str(out))
    assert r.returncode == 2 and "--force" in r.stderr and "--output" in r.stderr
    assert out.read_bytes() == b"precious"
    assert requests(svc, "GET", f"/v1/tickets/{ticket}/pass") == before
    r = cli("ticket", "qr", ticket, "--format", "png", "-o", str(out), "--force")
    assert r.returncode == 0, r.stderr
    assert zbar(out)


def test_unwritable_output_is_refused_without_a_request(cli, ticket, svc, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    before = requests(svc, "GET", f"/v1/tickets/{ticket}/pass")
    for path in (tmp_path / "no" / "such" / "dir" / "x.png", tmp_path / "a-file" / "x.png"):
        r = cli("ticket", "qr", ticket, "--format", "png", "-o", str(path))
        assert r.returncode == 2, r.stderr
        assert "--output" in r.stderr
    assert requests(svc, "GET", f"/v1/tickets/{ticket}/pass") == before


@pytest.mark.parametrize("args,field", [(["--format", "jpeg"], "--format"),
                                        (["--size", "0", "--format", "png"], "--size"),
                                        (["--size", "8"], "--size"),
                                        (["--margin", "99"], "--margin"),
                                        (["--margin", "x"], "--margin")])
def test_bad_options_are_refused_without_a_request(cli, ticket, svc, args, field):
    before = requests(svc, "GET", f"/v1/tickets/{ticket}/pass")
    r = cli("ticket", "qr", ticket, *args)
    assert r.returncode == 2, r.stderr
    assert field in r.stderr
    assert requests(svc, "GET", f"/v1/tickets/{ticket}/pass") == before


def test_bad_ticket_id_is_refused(cli):
    r = cli("ticket", "qr", "../etc")
    assert r.returncode == 2 and "ID" in r.stderr


def test_images_refuse_a_terminal_and_utf8_is_black_on_white_there(cli, ticket, svc, tmp_path):
    import pexpect
    # the same folders as cli's login (isolated_env keeps what is in them)
    env = chtest.isolated_env(tmp_path / "me", svc.url, TERM="xterm-256color")
    before = requests(svc, "GET", f"/v1/tickets/{ticket}/pass")
    child = pexpect.spawn(chtest.CARHELP, ["ticket", "qr", ticket, "--format", "png"], env=env,
                          encoding="utf-8", timeout=20)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2 and "-o FILE" in child.before
    assert requests(svc, "GET", f"/v1/tickets/{ticket}/pass") == before
    child = pexpect.spawn(chtest.CARHELP, ["ticket", "qr", ticket], env=env, encoding="utf-8",
                          timeout=20)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "\x1b[30;107m" in child.before and "Short code:" in child.before
