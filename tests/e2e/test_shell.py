"""`carhelp shell` through a real terminal (pexpect): in-process commands over one connection,
POSIX quoting, unknown commands and unbalanced quotes, Tab completion (commands, subcommands,
options, choices, recent IDs), history without secrets, Ctrl-C during a slow request and at the
prompt, Ctrl-D. Plus the same shell off a terminal (lines from stdin, no prompt)."""
import os
import socket
import stat
import threading
import time

import pexpect
import pytest

import chtest
from conftest import DEMO_PHONE, DEMO_CODE

PROMPT = r"carhelp \(default: [^)]*\)( \[\d+\])?> "


class Relay:
    """A TCP relay in front of the service that counts connections. stall=True accepts and
    never answers (a request that hangs until Ctrl-C)."""

    def __init__(self, upstream_port=None, stall=False):
        self.upstream_port, self.stall = upstream_port, stall
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            if self.stall:
                self.held.append(conn)
                continue
            up = socket.create_connection(("127.0.0.1", self.upstream_port))
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()


def spawn(env, *args, timeout=20):
    e = dict(env)
    e["TERM"] = "dumb"
    child = pexpect.spawn(chtest.CARHELP, ["shell", *args], env=e, encoding="utf-8",
                          timeout=timeout, dimensions=(40, 200))
    child.expect(PROMPT)
    return child


def run_line(child, line):
    child.sendline(line)
    child.expect(PROMPT)
    return child.before


def leave(child):
    chtest.wait_for_line_editor(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


@pytest.fixture
def session_env(logged_in):
    return logged_in.env


def test_commands_run_in_process_over_one_connection(session_env, server):
    relay = Relay(server.port)
    try:
        env = dict(session_env, CARHELP_API_URL=relay.url)
        # A stored token goes only to the origin it was issued for: log in through the relay.
        r = chtest.run(env, "login", "--phone", DEMO_PHONE, input=DEMO_CODE + "\n")
        assert r.returncode == 0, r.stderr
        relay.connections = 0
        child = spawn(env)
        out = run_line(child, "order list")
        assert "ord_20261101_0001" in out
        run_line(child, "ticket list")
        run_line(child, "contact")
        out = run_line(child, "auth status")
        assert "acc_1001" in out
        assert leave(child) == 0
        # One process, one HTTP client: every request reused the same connection.
        assert relay.connections == 1, relay.connections
    finally:
        relay.close()


def test_prompt_shows_profile_user_and_last_exit_code(carhelp):
    child = spawn(carhelp.env)
    assert "not logged in" in child.after
    child.sendline("ticket list")
    child.expect(r"carhelp \(default: not logged in\) \[4\]> ")
    child.sendline(f"login --phone {DEMO_PHONE}")
    child.expect("code")
    child.sendline(DEMO_CODE)
    child.expect(r"carhelp \(default: acc_1001\)> ")
    assert leave(child) == 0


def test_quoting_reaches_the_service(session_env, server):
    child = spawn(session_env)
    out = run_line(child, "report vehicle --message \"won't start\" --vehicle '京AD12345'")
    assert "filed" in out
    out = run_line(child, "ticket list --json")
    assert "won't start" in out
    out = run_line(child, r'report app --message "a \"quoted\" \$HOME and back\\slash"')
    assert "filed" in out
    out = run_line(child, "ticket list --json")
    assert r'a \"quoted\" $HOME and back\\slash' in out
    assert leave(child) == 0


def test_unbalanced_quotes_and_unknown_commands_keep_the_shell(session_env):
    child = spawn(session_env)
    out = run_line(child, "report vehicle --message \"won't start")
    assert "unbalanced quotes" in out
    assert "[2]" in child.after
    out = run_line(child, "frobnicate now")
    assert "unknown command 'frobnicate'" in out
    out = run_line(child, "contatc")
    assert "did you mean 'contact'" in out
    out = run_line(child, "order list --bogus")
    assert "unknown option" in out
    out = run_line(child, "contact")
    assert "400-000-1234" in out
    assert "[" not in child.after     # success clears the code in the prompt
    assert leave(child) == 0


def complete(child, text):
    """Types text, presses Tab twice, returns what the terminal showed, clears the line."""
    child.send(text + "\t")
    time.sleep(0.3)
    child.send("\t\t")          # a first Tab may only insert the common prefix
    try:
        child.expect(r"\$\$NEVER\$\$", timeout=1)
    except pexpect.TIMEOUT:
        pass
    shown = child.before
    child.send("\x15")   # Ctrl-U: kill the line
    child.sendline("")
    child.expect(PROMPT)
    # A listing of candidates redraws the prompt too: drain to the last one, so the next step
    # never starts from a stale prompt while the shell is still busy with this line.
    while True:
        try:
            child.expect(PROMPT, timeout=0.5)
        except pexpect.TIMEOUT:
            break
    return shown


def test_tab_completion(session_env):
    child = spawn(session_env)
    run_line(child, "order list")            # puts order IDs into the recent-ID cache
    assert "contact" in complete(child, "cont")
    shown = complete(child, "order ")
    for sub in ("list", "show", "fees", "audit", "dispute"):
        assert sub in shown
    assert "--status" in complete(child, "order list --st")
    shown = complete(child, "checklist --format ")
    assert "markdown" in shown and "json" in shown
    shown = complete(child, "order show ")
    assert "ord_20261101_0001" in shown
    shown = complete(child, "order show ord_2026110")
    assert "ord_20261101_0001" in shown
    assert "exit" in complete(child, "ex")
    assert leave(child) == 0


def test_history_is_private_and_without_secrets(carhelp):
    child = spawn(carhelp.env)
    child.sendline(f"login --phone {DEMO_PHONE}")
    child.expect("code")
    child.sendline(DEMO_CODE)
    child.expect(PROMPT)
    run_line(child, "contact")
    run_line(child, "account verify --phone 13800138000 --id-last4 9876")
    child.sendline("login --with-token")
    child.expect("Token")
    child.sendline("chx_not_a_real_token")
    child.expect(PROMPT)
    run_line(child, "order list")
    run_line(child, "246810")
    run_line(child, "vehicle show 京AD12345")
    assert leave(child) == 0
    path = os.path.join(carhelp.env["CARHELP_STATE_DIR"], "history")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = open(path, encoding="utf-8").read()
    assert "contact" in text and "order list" in text and "vehicle show 京AD12345" in text
    assert "login" not in text
    assert DEMO_CODE not in text
    assert "9876" not in text and "verify" not in text and "chx_" not in text
    # History comes back in the next session (Up arrow).
    child = spawn(carhelp.env)
    child.send("\x1b[A")
    child.expect("vehicle show")
    child.send("\x15")
    assert leave(child) == 0


def test_unwritable_history_warns_once(carhelp):
    state = carhelp.env["CARHELP_STATE_DIR"]
    os.makedirs(os.path.join(state, "history"))     # a folder where the file should be
    child = spawn(carhelp.env)
    out = run_line(child, "contact")
    out += run_line(child, "contact")
    out += run_line(child, "help")
    assert leave(child) == 0
    text = child.before or ""
    seen = (out + text)
    assert seen.count("history file") <= 1
    assert "400-000-1234" in out


def test_unwritable_history_warning_text(carhelp):
    state = carhelp.env["CARHELP_STATE_DIR"]
    os.makedirs(state, exist_ok=True)
    path = os.path.join(state, "history")
    open(path, "w").write("contact\n")
    os.chmod(path, 0o400)
    if os.access(path, os.W_OK):      # root ignores the mode: make it a folder instead
        os.chmod(path, 0o600)
        os.remove(path)
        os.makedirs(path)
    child = spawn(carhelp.env)
    startup = child.before              # a folder is named when the shell starts, a file
    first = run_line(child, "contact")  # it cannot write to at the first line
    assert (startup + first).count("history file") == 1, startup + first
    out = run_line(child, "contact")
    out += run_line(child, "contact")
    assert "history file" not in out
    assert "400-000-1234" in out
    assert leave(child) == 0


def test_corrupt_history_warns_once(carhelp):
    state = carhelp.env["CARHELP_STATE_DIR"]
    os.makedirs(state, exist_ok=True)
    with open(os.path.join(state, "history"), "wb") as f:
        f.write(b"contact\n\x00\x01\x02garbage\xff\n")
    e = dict(carhelp.env, TERM="dumb")
    child = pexpect.spawn(chtest.CARHELP, ["shell"], env=e, encoding="utf-8", timeout=20)
    child.expect("corrupt")
    child.expect(PROMPT)
    out = run_line(child, "contact")
    out += run_line(child, "contact")
    assert "corrupt" not in out and "history file" not in out
    assert "400-000-1234" in out
    assert leave(child) == 0


def test_ctrl_c_aborts_a_slow_request_and_the_shell_goes_on(session_env):
    stall = Relay(stall=True)
    try:
        child = spawn(session_env)
        child.sendline(f"contact --api-url {stall.url} --timeout 60")
        child.expect_exact("contact")          # the echo of the line
        time.sleep(1.5)
        assert stall.connections >= 1
        child.sendintr()
        child.expect(PROMPT, timeout=10)
        assert "[130]" in child.after or "interrupt" in child.before.lower() or \
            "offline" in child.before.lower() or "cached" in child.before.lower()
        out = run_line(child, "auth status")
        assert "acc_1001" in out
        assert leave(child) == 0
    finally:
        stall.close()


def test_ctrl_c_during_delay_fault_via_header_proxy(session_env, server):
    # A request made slow by the service itself (--faults delay), through a proxy that adds
    # the X-Fault header the shell never sends.
    from faultproxy import FaultProxy
    proxy = FaultProxy(server.port)
    try:
        # A profile whose token was issued through the proxy (tokens are bound to an origin).
        r = chtest.run(session_env, "--profile", "slow", "--api-url", proxy.url, "login",
                       "--phone", DEMO_PHONE, input=DEMO_CODE + "\n")
        assert r.returncode == 0, r.stderr
        proxy.fault = "delay=20000"
        child = spawn(session_env)
        child.sendline(f"ticket list --profile slow --api-url {proxy.url} --timeout 60")
        time.sleep(1.0)
        child.sendintr()
        child.expect(PROMPT, timeout=10)
        assert "[130]" in child.after
        out = run_line(child, "order list")
        assert "ord_20261101_0001" in out
        assert leave(child) == 0
    finally:
        proxy.close()


def test_ctrl_c_at_the_prompt_clears_the_line(session_env):
    child = spawn(session_env)
    child.send("order lis")
    child.expect_exact("order lis")
    time.sleep(0.2)
    child.sendintr()
    child.expect(PROMPT)
    child.sendline("contact")      # the half-typed line was dropped
    child.expect(PROMPT)
    assert "400-000-1234" in child.before
    assert "order liscontact" not in child.before
    assert leave(child) == 0


def test_ctrl_d_exits_zero_and_exit_takes_a_code(session_env):
    child = spawn(session_env)
    run_line(child, "bogus")
    assert leave(child) == 0
    child = spawn(session_env)
    child.sendline("exit 3")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3


def test_help_in_the_shell(session_env):
    child = spawn(session_env)
    out = run_line(child, "help")
    assert "report" in out and "shell" in out
    out = run_line(child, "help order audit")
    assert "audit" in out and "--since" in out
    assert leave(child) == 0


def test_off_a_terminal_lines_come_from_stdin_without_prompt(logged_in):
    script = "contact\n'unbalanced\nbogus\norder list\nexit 5\ncontact\n"
    r = logged_in("shell", input=script)
    assert r.returncode == 5
    assert "carhelp (" not in r.stdout           # no prompt
    assert r.stdout.count("400-000-1234") == 1   # nothing after exit
    assert "ord_20261101_0001" in r.stdout
    assert "unbalanced quotes" in r.stderr and "unknown command 'bogus'" in r.stderr


def test_shell_takes_no_arguments(carhelp):
    r = carhelp("shell", "extra")
    assert r.returncode == 2
