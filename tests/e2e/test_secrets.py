"""Secrets and personal data (docs/SECURITY.md): with real tokens, one-time codes, passwords and full ID
numbers in play, none of them may show in `-v`/`-vv` traces, error lines, `--json` errors, the
shell history, outbox items, or any file carhelp writes except the token in the credentials
file. The credentials file and its folder are private even under umask 0 and refused when
others can read them, when the file is a symbolic link or another user's, or when others
can write to its folder (and nothing is ever written through a link); tokens and passwords are never taken as arguments; core dumps are off
while carhelp runs. Every search is over raw bytes for the exact secret strings."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

A_PHONE, A_CODE, A_ID = "13800138000", "246810", "11010519491231002X"
B_PHONE, B_CODE, B_ID = "13912345678", "135790", "310115198805123454"
STAFF, STAFF_PASSWORD = "field01", "field01-demo-pass"
WRONG_CODE, WRONG_PASSWORD = "975310", "hunter2-not-the-password"
# Never shown in full anywhere (cli.md: -vv masks PII; humans see 138****8000).
FIXED_SECRETS = [A_CODE, B_CODE, STAFF_PASSWORD, WRONG_CODE, WRONG_PASSWORD, A_ID, B_ID]
PROMPT = r"carhelp \(default: [^)]*\)( \[\d+\])?> "


@pytest.fixture(scope="module")
def srv():
    s = chtest.Server()
    yield s
    s.stop()


def tokens_in(env):
    """Every token the credentials file holds (the real secrets of this test)."""
    path = Path(env["CARHELP_CONFIG_DIR"]) / "credentials"
    if not path.exists():
        return []
    return re.findall(r"^token = (\S+)$", path.read_text(), re.M)


def find_secrets(blob, secrets):
    if isinstance(blob, str):
        blob = blob.encode("utf-8")
    return [s for s in secrets if s and s.encode("utf-8") in blob]


def run(env, *args, input=None, umask=None):
    pre = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run([chtest.CARHELP, *args], env=env, input=input, capture_output=True,
                          text=True, timeout=60, preexec_fn=pre)


def files_under(root):
    for dirpath, _, names in os.walk(root):
        for n in names:
            yield Path(dirpath) / n


# ---- traces, errors and files after a busy session --------------------------------------

def busy_session(env, flags):
    """Logins of every kind (right and wrong), verifications with full ID numbers, reads and a
    refused request, all with `flags`; returns everything printed and the tokens made."""
    out = []

    def go(*args, input=None, code=None):
        r = run(env, *flags, *args, input=input)
        out.append(r.stdout + r.stderr)
        if code is not None:
            assert r.returncode == code, (args, r.returncode, r.stderr)
        return r

    go("login", "--phone", A_PHONE, input=A_CODE + "\n", code=0)
    go("--profile", "staff", "login", "--staff", STAFF, input=STAFF_PASSWORD + "\n", code=0)
    go("--profile", "wrong", "login", "--phone", B_PHONE, input=WRONG_CODE + "\n", code=4)
    go("--profile", "wrong", "login", "--staff", STAFF, input=WRONG_PASSWORD + "\n", code=4)
    go("--json", "--profile", "wrong", "login", "--staff", STAFF, input=WRONG_PASSWORD + "\n",
       code=4)
    go("auth", "status", code=0)
    go("order", "show", "ord_20261101_0001", code=0)
    go("order", "show", "ord_20261102_0002", code=5)
    go("--json", "order", "show", "ord_20261102_0002", code=5)
    staff = ("--profile", "staff", "account", "verify", "--phone", A_PHONE)
    go(*staff, "--id-number", "-", input=A_ID + "\n", code=0)
    go(*staff, "--id-number", "-", input=B_ID + "\n", code=1)          # another person's ID
    go("--json", *staff, "--id-number", "-", input=B_ID + "\n", code=1)
    go(*staff, "--id-last4", "-", input=A_ID[-4:] + "\n", code=0)
    go("--profile", "staff", "account", "show", "acc_1001", code=0)
    tokens = tokens_in(env)
    assert len(tokens) == 2
    # Another login of A, through --with-token (the token read from stdin).
    go("--profile", "again", "login", "--with-token", input=tokens[0] + "\n", code=0)
    go("--profile", "again", "auth", "status", code=0)
    go("--profile", "again", "logout", code=0)
    return "".join(out), tokens


@pytest.mark.parametrize("flags", [(), ("-v",), ("-vv",), ("-vv", "--json")],
                         ids=["plain", "-v", "-vv", "-vv --json"])
def test_no_output_of_a_busy_session_holds_a_secret(srv, tmp_path, flags):
    env = chtest.isolated_env(tmp_path, srv.url)
    text, tokens = busy_session(env, list(flags))
    assert find_secrets(text, FIXED_SECRETS + tokens) == []
    if flags:   # the traces were there: the test looked at real requests
        assert "/v1/auth/token" in text and "/v1/accounts/verify" in text
        assert A_PHONE not in text, "-v/-vv mask phone numbers"
    if "-vv" in flags:   # bodies shown, the secret fields masked
        assert "Authorization: Bearer ***" in text
        assert '"otp":"***"' in text and '"password":"***"' in text
        assert '"id_number":"***"' in text and '"token":"***"' in text


def test_no_file_carhelp_writes_holds_a_secret_but_the_credentials_token(srv, tmp_path):
    env = chtest.isolated_env(tmp_path, srv.url)
    _, tokens = busy_session(env, ["-vv"])
    # Queue something in the outbox too (the service is unreachable for this one).
    r = run(env, "--api-url", "http://127.0.0.1:9", "report", "feedback", "--message",
            "queued while offline")
    assert r.returncode in (4, 10), r.stderr
    home = Path(env["HOME"])
    cred = Path(env["CARHELP_CONFIG_DIR"]) / "credentials"
    seen = 0
    for f in files_under(home):
        blob = f.read_bytes()
        seen += 1
        if f == cred:
            assert find_secrets(blob, FIXED_SECRETS) == [], f
            assert find_secrets(blob, tokens) == tokens     # the one place a token lives
        else:
            assert find_secrets(blob, FIXED_SECRETS + tokens) == [], f
    assert seen >= 1


def test_outbox_items_hold_no_token(tmp_path):
    """A report queued while the service is down: the item names the profile, never the
    token (from the credentials file or CARHELP_TOKEN); the file is private."""
    private = chtest.Server()
    env = chtest.isolated_env(tmp_path, private.url)
    try:
        assert run(env, "login", "--phone", A_PHONE, input=A_CODE + "\n").returncode == 0
        token = tokens_in(env)[0]
    finally:
        private.stop()
    r = run(env, "report", "feedback", "--message", "the app froze")
    assert r.returncode == 10, r.stderr
    r = run(dict(env, CARHELP_TOKEN=token), "ticket", "comment", "tkt_" + "a" * 24,
            "--message", "more")
    assert r.returncode == 10, r.stderr
    items = list((Path(env["CARHELP_STATE_DIR"]) / "outbox").glob("*.json"))
    assert len(items) == 2
    for item in items:
        assert find_secrets(item.read_bytes(), [token] + FIXED_SECRETS) == []
        assert stat.S_IMODE(item.stat().st_mode) == 0o600
        json.loads(item.read_text())
    assert find_secrets(r.stderr + r.stdout, [token]) == []


# ---- the shell's history ----------------------------------------------------------------

def shell(env):
    child = pexpect.spawn(chtest.CARHELP, ["shell"], env=dict(env, TERM="dumb"),
                          encoding="utf-8", timeout=30, dimensions=(40, 200))
    child.expect(PROMPT)
    return child


def line(child, text):
    child.sendline(text)
    child.expect(PROMPT)
    return child.before


def test_shell_history_keeps_no_line_with_a_secret(srv, tmp_path):
    env = chtest.isolated_env(tmp_path, srv.url)
    assert run(env, "login", "--phone", A_PHONE, input=A_CODE + "\n").returncode == 0
    token = tokens_in(env)[0]
    child = shell(env)
    line(child, "contact")
    line(child, f"account verify --phone {A_PHONE} --id-number {A_ID}")
    line(child, f"account verify --phone {A_PHONE} --id-number={A_ID}")
    child.sendline(f"account verify --phone {A_PHONE} --id-number -")
    child.expect("(?i)id")
    child.sendline(A_ID)
    child.expect(PROMPT)
    line(child, f'report feedback --message "my ID is {A_ID}, please check"')
    line(child, f"report feedback --message=身份证{A_ID}")
    line(child, token)                                  # pasted at the prompt by mistake
    line(child, f"ticket list --status {token}")
    line(child, A_CODE)
    line(child, f"login --phone {A_PHONE} {A_CODE}")
    line(child, STAFF_PASSWORD + " ")   # a password is just a word: only login lines are known
    line(child, "order list")
    chtest.wait_for_line_editor(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    path = Path(env["CARHELP_STATE_DIR"]) / "history"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_bytes()
    assert b"contact" in text and b"order list" in text
    assert find_secrets(text, [A_ID, A_CODE, token]) == [], text
    assert b"login" not in text and b"verify" not in text
    # Loaded again by the next shell, a history file with such a line drops it.
    with open(path, "ab") as f:
        f.write(f"ticket show {token}\n".encode())
    child = shell(env)
    child.send("\x1b[A")                  # Up: the last line kept is "order list"
    child.expect("order list")
    child.send("\x15")
    chtest.wait_for_line_editor(child)
    child.sendeof()
    child.expect(pexpect.EOF)


def shell_under_umask(env, mask):
    child = pexpect.spawn("/bin/sh", ["-c", f'umask {mask:03o} && exec "$0" shell', chtest.CARHELP],
                          env=dict(env, TERM="dumb"), encoding="utf-8", timeout=30,
                          dimensions=(40, 200))
    child.expect(PROMPT)
    return child


def leave(child):
    chtest.wait_for_line_editor(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    return child.before


def test_shell_history_is_created_0600_even_under_umask_0(srv, tmp_path):
    env = chtest.isolated_env(tmp_path, srv.url)
    path = Path(env["CARHELP_STATE_DIR"]) / "history"
    child = shell_under_umask(env, 0)
    line(child, "contact")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    line(child, "order list")
    leave(child)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().splitlines() == ["contact", "order list"]


def test_an_existing_loose_history_file_is_tightened_to_0600_when_the_shell_starts(srv, tmp_path):
    env = chtest.isolated_env(tmp_path, srv.url)
    path = Path(env["CARHELP_STATE_DIR"]) / "history"
    path.write_text("contact\n")
    os.chmod(path, 0o644)
    child = shell(env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600    # before any line is typed
    child.send("\x1b[A")                                 # the old history is still there
    child.expect("contact")
    child.send("\x15")
    leave(child)
    assert path.read_text() == "contact\n"


@pytest.mark.parametrize("target_exists", [True, False], ids=["to a file", "dangling"])
def test_shell_history_never_reads_or_writes_through_a_symlink(srv, tmp_path, target_exists):
    env = chtest.isolated_env(tmp_path, srv.url)
    path = Path(env["CARHELP_STATE_DIR"]) / "history"
    target = tmp_path / "elsewhere" / "notes"
    target.parent.mkdir()
    if target_exists:
        target.write_text("ticket show tkt_from_the_link\n")
        os.chmod(target, 0o644)
    path.symlink_to(target)
    child = shell(env)
    line(child, "contact")
    line(child, "order list")
    child.send("\x1b[A\x1b[A\x1b[A")       # Up past the session's lines: nothing loaded
    child.send("\x15")
    out = leave(child)
    if target_exists:
        assert target.read_text() == "ticket show tkt_from_the_link\n"
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        assert "tkt_from_the_link" not in out
    else:
        assert not target.exists()
    assert path.is_symlink()


def test_the_shell_warns_once_about_a_symlinked_history_and_keeps_none(srv, tmp_path):
    env = chtest.isolated_env(tmp_path, srv.url)
    path = Path(env["CARHELP_STATE_DIR"]) / "history"
    path.symlink_to(tmp_path / "nowhere")
    child = pexpect.spawn(chtest.CARHELP, ["shell"], env=dict(env, TERM="dumb"),
                          encoding="utf-8", timeout=30, dimensions=(40, 200))
    child.expect("history file (.*): it is a symbolic link; history is not kept this session")
    assert str(path) in child.match.group(1)
    child.expect(PROMPT)
    out = line(child, "contact")
    assert "symbolic link" not in out
    leave(child)
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_history_file_of_another_user_is_neither_read_nor_written(srv, tmp_path):
    env = chtest.isolated_env(tmp_path, srv.url)
    path = Path(env["CARHELP_STATE_DIR"]) / "history"
    path.write_text("ticket show tkt_planted\n")
    os.chmod(path, 0o600)
    os.chown(path, 65534, 65534)
    child = pexpect.spawn(chtest.CARHELP, ["shell"], env=dict(env, TERM="dumb"),
                          encoding="utf-8", timeout=30, dimensions=(40, 200))
    child.expect("history file .*: it belongs to uid 65534, not you")
    child.expect(PROMPT)
    line(child, "contact")
    child.send("\x1b[A\x1b[A")
    child.send("\x15")
    out = leave(child)
    assert "tkt_planted" not in out
    assert path.read_text() == "ticket show tkt_planted\n"
    assert os.stat(path).st_uid == 65534


# ---- the credentials file and folder --------------------------------------------------------

def test_login_makes_a_private_folder_and_file_even_under_umask_0(srv, tmp_path):
    env = chtest.isolated_env(tmp_path, srv.url)
    cfg = tmp_path / "fresh" / "config" / "carhelp"
    state = tmp_path / "fresh" / "state" / "carhelp"
    env.update(CARHELP_CONFIG_DIR=str(cfg), CARHELP_STATE_DIR=str(state))
    r = run(env, "login", "--phone", A_PHONE, input=A_CODE + "\n", umask=0)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE((cfg / "credentials").stat().st_mode) == 0o600
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o700
    assert stat.S_IMODE(cfg.parent.stat().st_mode) == 0o700
    # A new login rewrites the file; it stays 0600 and holds only the new token.
    old = tokens_in(env)
    r = run(env, "login", "--phone", A_PHONE, input=A_CODE + "\n", umask=0)
    assert r.returncode == 0
    assert stat.S_IMODE((cfg / "credentials").stat().st_mode) == 0o600
    assert tokens_in(env) != old and len(tokens_in(env)) == 1
    # The outbox folder too.
    # (The token given for the call: a stored one is only sent to the origin it was issued for.)
    r = run(dict(env, CARHELP_API_URL="http://127.0.0.1:9", CARHELP_TOKEN=tokens_in(env)[0]),
            "report", "feedback", "--message", "offline", umask=0)
    assert r.returncode == 10, r.stderr
    box = state / "outbox"
    assert stat.S_IMODE(box.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in box.glob("*.json"))


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o606])
def test_credentials_readable_by_others_are_refused_with_the_chmod(srv, tmp_path, mode):
    env = chtest.isolated_env(tmp_path, srv.url)
    assert run(env, "login", "--phone", A_PHONE, input=A_CODE + "\n").returncode == 0
    token = tokens_in(env)[0]
    path = Path(env["CARHELP_CONFIG_DIR"]) / "credentials"
    os.chmod(path, mode)
    requests_before = srv.settled_log_lines()
    for args in (["auth", "status"], ["order", "show", "ord_20261101_0001"]):
        r = run(env, *args)
        assert r.returncode == 4, (args, r.stderr)
        assert str(path) in r.stderr and f"chmod 600 {path}" in r.stderr
        assert r.stdout == "" and token not in r.stderr
        r = run(env, "--json", *args)
        err = json.loads(r.stderr.strip().splitlines()[-1])["error"]
        assert r.returncode == 4 and err["exit_code"] == 4 and token not in r.stderr
    assert srv.settled_log_lines() == requests_before, "the token must not be sent"
    os.chmod(path, 0o600)
    assert run(env, "auth", "status").returncode == 0


def login_elsewhere(srv, tmp_path):
    """A real credentials file of A, written by `login` under another config folder."""
    other = chtest.isolated_env(tmp_path / "elsewhere", srv.url)
    assert run(other, "login", "--phone", A_PHONE, input=A_CODE + "\n").returncode == 0
    return Path(other["CARHELP_CONFIG_DIR"]) / "credentials", tokens_in(other)[0]


def assert_refused(srv, env, why, requests_before):
    path = Path(env["CARHELP_CONFIG_DIR"]) / "credentials"
    for args in (["auth", "status"], ["order", "show", "ord_20261101_0001"]):
        r = run(env, *args)
        assert r.returncode == 4, (args, r.returncode, r.stderr)
        first = r.stderr.splitlines()[0]
        assert first.startswith("carhelp: credentials: ") and str(path) in first, r.stderr
        assert why in first, r.stderr
        assert "hint: " in r.stderr and r.stdout == ""
    assert srv.settled_log_lines() == requests_before, "no request may be sent"


def test_a_symlink_to_a_real_credentials_file_is_refused_and_its_token_never_used(srv, tmp_path):
    target, token = login_elsewhere(srv, tmp_path)
    env = chtest.isolated_env(tmp_path, srv.url)
    path = Path(env["CARHELP_CONFIG_DIR"]) / "credentials"
    path.symlink_to(target)
    before = target.read_bytes()
    requests_before = srv.settled_log_lines()
    assert_refused(srv, env, "is a symbolic link", requests_before)
    r = run(env, "--json", "auth", "status")
    err = json.loads(r.stderr.strip().splitlines()[-1])["error"]
    assert r.returncode == 4 and err["code"] == "credentials_insecure"
    assert token not in r.stdout + r.stderr
    assert target.read_bytes() == before
    doctor = run(env, "doctor")
    assert doctor.returncode == 1
    cred_line = next(l for l in doctor.stdout.splitlines() if "credentials" in l.split()[1:2])
    assert cred_line.startswith("FAIL") and "is a symbolic link" in cred_line, doctor.stdout
    # The same file moved into place is accepted: it was the link that was refused.
    path.unlink()
    shutil.copy2(target, path)
    assert run(env, "auth", "status").returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_credentials_file_owned_by_another_user_is_refused(srv, tmp_path):
    env = chtest.isolated_env(tmp_path, srv.url)
    assert run(env, "login", "--phone", A_PHONE, input=A_CODE + "\n").returncode == 0
    token = tokens_in(env)[0]
    path = Path(env["CARHELP_CONFIG_DIR"]) / "credentials"
    os.chown(path, 65534, 65534)
    requests_before = srv.settled_log_lines()
    assert_refused(srv, env, "is owned by uid 65534, not you", requests_before)
    r = run(env, "auth", "status")
    assert token not in r.stdout + r.stderr
    # login does not replace another user's file either.
    r = run(env, "login", "--phone", A_PHONE, input=A_CODE + "\n")
    assert r.returncode == 4, r.stderr
    assert os.stat(path).st_uid == 65534 and tokens_in(env) == [token]


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777])
def test_a_credentials_folder_others_can_write_to_is_refused_with_the_chmod(srv, tmp_path, mode):
    env = chtest.isolated_env(tmp_path, srv.url)
    assert run(env, "login", "--phone", A_PHONE, input=A_CODE + "\n").returncode == 0
    folder = Path(env["CARHELP_CONFIG_DIR"])
    os.chmod(folder, mode)
    requests_before = srv.settled_log_lines()
    assert_refused(srv, env, "its folder is writable by", requests_before)
    r = run(env, "auth", "status")
    assert f"hint: chmod 700 {folder}" in r.stderr
    os.chmod(folder, 0o700)
    assert run(env, "auth", "status").returncode == 0


@pytest.mark.parametrize("target_exists", [True, False], ids=["to a file", "dangling"])
def test_login_never_writes_where_a_credentials_symlink_points(srv, tmp_path, target_exists):
    env = chtest.isolated_env(tmp_path, srv.url)
    target = tmp_path / "somewhere" / "precious"
    target.parent.mkdir()
    if target_exists:
        target.write_text("the user's own file, not carhelp's\n")
        os.chmod(target, 0o600)
    path = Path(env["CARHELP_CONFIG_DIR"]) / "credentials"
    path.symlink_to(target)
    requests_before = srv.settled_log_lines()
    for args in (["login", "--phone", A_PHONE], ["login", "--staff", STAFF]):
        secret = A_CODE if "--phone" in args else STAFF_PASSWORD
        r = run(env, *args, input=secret + "\n")
        assert r.returncode == 4, (args, r.stderr)
        assert "is a symbolic link" in r.stderr and str(path) in r.stderr
    # Refused before any request: no code was sent to the phone, no password left the machine.
    assert srv.settled_log_lines() == requests_before
    if target_exists:
        assert target.read_text() == "the user's own file, not carhelp's\n"
    else:
        assert not target.exists()
    assert path.is_symlink() and os.readlink(path) == str(target)
    assert sorted(p.name for p in path.parent.iterdir()) == ["credentials"], "no temp file left"
    assert run(env, "logout").returncode == 4 and path.is_symlink()


# ---- nothing secret on the command line -----------------------------------------------------

SECRET_ARGS = [
    ["--token", "{token}", "auth", "status"],
    ["--token={token}", "auth", "status"],
    ["auth", "status", "--token", "{token}"],
    ["ticket", "list", "--token={token}"],
    ["login", "--phone", A_PHONE, "--otp", A_CODE],
    ["login", "--phone", A_PHONE, "--code", A_CODE],
    ["login", "--staff", STAFF, "--password", STAFF_PASSWORD],
    ["login", "--staff", STAFF, "--password=" + STAFF_PASSWORD],
]


@pytest.mark.parametrize("args", SECRET_ARGS, ids=[" ".join(a) for a in SECRET_ARGS])
def test_a_secret_option_is_a_usage_error_with_a_hint_and_no_echo(srv, tmp_path, args):
    env = chtest.isolated_env(tmp_path, srv.url)
    token = "5" * 64
    requests_before = srv.settled_log_lines()
    r = run(env, *[a.format(token=token) for a in args])
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0].startswith("carhelp: ") and "unknown option" in lines[0]
    assert lines[1].startswith("hint: ") and "CARHELP_TOKEN" in lines[1]
    assert find_secrets(r.stderr + r.stdout, [token, A_CODE, STAFF_PASSWORD]) == []
    assert not tokens_in(env)
    assert srv.settled_log_lines() == requests_before


@pytest.mark.parametrize("args", [["login", "--with-token", "{token}"],
                                  ["login", "--phone", A_PHONE, A_CODE]],
                         ids=["token", "code"])
def test_login_takes_no_secret_as_an_argument(srv, tmp_path, args):
    env = chtest.isolated_env(tmp_path, srv.url)
    r = run(env, *[a.format(token="5" * 64) for a in args], input="")
    assert r.returncode == 2, r.stderr
    assert not tokens_in(env)


def test_account_verify_reads_the_id_number_from_stdin(srv, tmp_path):
    env = chtest.isolated_env(tmp_path, srv.url)
    assert run(env, "login", "--phone", A_PHONE, input=A_CODE + "\n").returncode == 0
    r = run(env, "account", "verify", "--phone", A_PHONE, "--id-number", "-", input=A_ID + "\n")
    assert r.returncode == 0, r.stderr
    assert A_ID not in r.stdout + r.stderr and "1101**********002X" not in r.stderr


# ---- nothing secret in `ps` while a command waits ------------------------------------------
# What another local user sees of a running carhelp: /proc/PID/cmdline (ps, top) always, and
# /proc/PID/environ for the same user or root unless the process is not dumpable (carhelp is
# not: see the core dump tests below; as root the test can still read it). Both are read while
# the command waits with the secret in memory, and the process must still be waiting then.
# CARHELP_TOKEN, when the user puts it in the environment, is there by the user's choice: it
# may be in environ under that name, and nowhere else.

def proc_view(pid):
    """(cmdline, environ) of a running process; environ is None where the kernel refuses it."""
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except PermissionError:
        environ = None
    return cmdline, environ


def assert_nothing_secret_in_proc(pid, secrets, env, allowed_env=()):
    cmdline, environ = proc_view(pid)
    assert b"carhelp" in cmdline or chtest.VALGRIND_DIR, cmdline     # the right process
    assert find_secrets(cmdline, secrets) == [], cmdline
    if environ is None:
        return
    entries = environ.split(b"\0")
    assert f"CARHELP_CONFIG_DIR={env['CARHELP_CONFIG_DIR']}".encode() in entries   # a real read
    kept = [e for e in entries if not any(e == f"{k}={v}".encode() for k, v in allowed_env)]
    assert find_secrets(b"\0".join(kept), secrets) == [], "a secret in /proc/PID/environ"


def wait_until(cond, what, timeout=30):
    end = time.monotonic() + timeout * chtest.SLOW
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def slow(tmp_path):
    """A private service with fault injection (a car that takes 10 minutes to answer), and a
    proxy that holds chosen requests for 60 s: `slow.hold` is a list of paths."""
    srv = chtest.Server("--faults", "--vehicle-delay-ms", "600000", db=tmp_path / "slow.db")
    hold = []

    def policy(req):
        if req["method"] == "POST" and req["path"] in hold:
            req["headers"]["X-Fault"] = "delay=60000"
        return "forward"
    proxy = FaultProxy(srv.port, policy=policy)
    proxy.hold = hold
    yield proxy
    proxy.close()
    srv.stop()


def held(proxy, path):
    return lambda: bool(proxy.requests("POST", path))


def test_login_shows_no_code_or_token_in_proc_while_it_waits(slow, tmp_path):
    env = chtest.isolated_env(tmp_path, slow.url, TERM="dumb")
    slow.hold.append("/v1/auth/token")
    child = pexpect.spawn(chtest.CARHELP, ["login", "--phone", A_PHONE], env=env,
                          encoding="utf-8", timeout=30, dimensions=(40, 200))
    child.expect("(?i)code")
    assert_nothing_secret_in_proc(child.pid, [A_CODE, A_ID], env)      # waiting for the code
    child.sendline(A_CODE)
    wait_until(held(slow, "/v1/auth/token"), "the token request")
    assert child.isalive()
    assert_nothing_secret_in_proc(child.pid, [A_CODE, A_ID], env)      # the code in memory
    assert proc_limits_core(child.pid) == ["0", "0"]                   # and no core file
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130 and not tokens_in(env)


def test_staff_login_shows_no_password_in_proc_while_it_waits(slow, tmp_path):
    env = chtest.isolated_env(tmp_path, slow.url, TERM="dumb")
    slow.hold.append("/v1/auth/token")
    child = pexpect.spawn(chtest.CARHELP, ["login", "--staff", STAFF], env=env,
                          encoding="utf-8", timeout=30, dimensions=(40, 200))
    child.expect("(?i)password")
    child.sendline(STAFF_PASSWORD)
    wait_until(held(slow, "/v1/auth/token"), "the token request")
    assert child.isalive()
    assert_nothing_secret_in_proc(child.pid, [STAFF_PASSWORD], env)
    child.sendintr()
    child.expect(pexpect.EOF)


def test_account_verify_shows_no_id_number_or_token_in_proc_while_it_waits(slow, tmp_path):
    env = chtest.isolated_env(tmp_path, slow.url)
    assert run(env, "login", "--staff", STAFF, input=STAFF_PASSWORD + "\n").returncode == 0
    token = tokens_in(env)[0]
    slow.hold.append("/v1/accounts/verify")
    proc = subprocess.Popen([chtest.CARHELP, "account", "verify", "--phone", A_PHONE,
                             "--id-number", "-"], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Once started (the kernel fills cmdline in at exec), it waits on stdin.
        wait_until(lambda: b"verify" in proc_view(proc.pid)[0] or proc.poll() is not None,
                   "the process to start")
        assert proc.poll() is None
        assert_nothing_secret_in_proc(proc.pid, [A_ID, token], env)   # waiting on stdin
        proc.stdin.write((A_ID + "\n").encode())
        proc.stdin.flush()
        wait_until(held(slow, "/v1/accounts/verify"), "the verify request")
        assert proc.poll() is None
        assert_nothing_secret_in_proc(proc.pid, [A_ID, token, STAFF_PASSWORD], env)
    finally:
        proc.send_signal(2)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert find_secrets(out + err, [A_ID, token]) == []


def test_unlock_shows_no_token_in_proc_while_it_polls_the_vehicle(slow, tmp_path):
    env = chtest.isolated_env(tmp_path, slow.url, TERM="dumb")
    assert run(env, "login", "--phone", A_PHONE, input=A_CODE + "\n").returncode == 0
    token = tokens_in(env)[0]
    child = pexpect.spawn(chtest.CARHELP, ["unlock", "京AD12345", "--yes", "--wait", "120"],
                          env=env, encoding="utf-8", timeout=30, dimensions=(40, 200))
    child.expect("queued at the service|waiting for it to confirm")
    wait_until(lambda: len(slow.requests("GET", "/commands/")) >= 1, "a poll of the command")
    assert child.isalive()
    assert_nothing_secret_in_proc(child.pid, [token, A_CODE], env)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130


@pytest.mark.parametrize("token_in_env", [False, True], ids=["credentials file", "CARHELP_TOKEN"])
def test_shell_shows_no_secret_in_proc_after_lines_that_held_them(srv, tmp_path, token_in_env):
    env = chtest.isolated_env(tmp_path, srv.url)
    assert run(env, "login", "--staff", STAFF, input=STAFF_PASSWORD + "\n").returncode == 0
    token = tokens_in(env)[0]
    allowed = ()
    if token_in_env:
        env["CARHELP_TOKEN"] = token
        allowed = (("CARHELP_TOKEN", token),)
    child = shell(env)
    line(child, f"account verify --phone {A_PHONE} --id-number {A_ID}")
    line(child, f'report feedback --message "my ID is {B_ID}"')
    child.sendline(f"account verify --phone {A_PHONE} --id-number -")
    child.expect("(?i)id")
    assert_nothing_secret_in_proc(child.pid, [A_ID, B_ID, token], env, allowed)
    child.sendline(A_ID)
    child.expect(PROMPT)
    assert_nothing_secret_in_proc(child.pid, [A_ID, B_ID, token, STAFF_PASSWORD], env, allowed)
    environ = proc_view(child.pid)[1]
    if token_in_env and environ is not None:   # there under its own name: the user put it there
        assert f"CARHELP_TOKEN={token}".encode() in environ.split(b"\0")
    leave(child)


# ---- core dumps -------------------------------------------------------------------------

def proc_limits_core(pid):
    for text in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if text.startswith("Max core file size"):
            return text.split()[4:6]
    raise AssertionError("no core limit line")


def spawn_unprivileged(argv, env):
    """Runs argv under a pty; as root, as user nobody (the /proc owner check below needs a
    process that is not root's)."""
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("setpriv (util-linux) is needed to run carhelp as another user")
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + argv
    return pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", timeout=30,
                         dimensions=(40, 200))


@pytest.mark.parametrize("what", ["login waiting for the code", "shell"])
def test_core_dumps_are_off_while_secrets_are_in_memory(srv, what):
    home = Path(tempfile.mkdtemp(prefix="carhelp-core-"))
    try:
        for sub in ("config", "state", "cache"):
            (home / sub).mkdir()
        os.chmod(home, 0o777)
        for p in [home] + list(home.iterdir()):
            if os.geteuid() == 0:
                os.chown(p, 65534, 65534)
        env = chtest.isolated_env(home / "unused", srv.url)
        env.update(HOME=str(home), CARHELP_CONFIG_DIR=str(home / "config"),
                   CARHELP_STATE_DIR=str(home / "state"), CARHELP_CACHE_DIR=str(home / "cache"),
                   TERM="dumb")
        if what == "shell":
            child = spawn_unprivileged([chtest.CARHELP, "shell"], env)
            child.expect(PROMPT)
        else:
            child = spawn_unprivileged([chtest.CARHELP, "login", "--phone", A_PHONE], env)
            child.expect("(?i)code")
        pid = child.pid
        if os.geteuid() == 0:    # setpriv exec()s carhelp: same pid
            exe = Path(f"/proc/{pid}/exe").resolve()
            # (CARHELP_VALGRIND: the process is valgrind's tool running carhelp.)
            assert exe == Path(chtest.PROGRAM).resolve() or \
                (chtest.VALGRIND_DIR and exe.name.startswith("memcheck-")), exe
        assert proc_limits_core(pid) == ["0", "0"]
        status = Path(f"/proc/{pid}/status").read_text()
        uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
        assert uid != 0 and uid == (65534 if os.geteuid() == 0 else os.getuid())
        # Not dumpable: the kernel gives its /proc files to root (ptrace and core both off).
        assert os.stat(f"/proc/{pid}/status").st_uid == 0
        if what == "shell":
            chtest.wait_for_line_editor(child)
            child.sendeof()
        else:
            child.sendcontrol("c")
        child.expect(pexpect.EOF)
        child.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)
