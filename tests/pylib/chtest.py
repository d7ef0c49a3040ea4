"""Shared helpers for the end-to-end and contract suites: start the real carhelp-server on
loopback with the demo data, and run the real carhelp binary in isolated XDG folders."""
import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

CARHELP = os.environ.get("CARHELP_BIN", os.path.abspath("build/carhelp"))
SERVER = os.environ.get("CARHELP_SERVER_BIN", os.path.abspath("build/carhelp-server"))
# The built program itself. CARHELP is what tests start: the same file, or under
# CARHELP_VALGRIND=DIR (`make check VALGRIND=1`) a wrapper that runs it under valgrind memcheck.
PROGRAM = CARHELP
VALGRIND_DIR = os.environ.get("CARHELP_VALGRIND", "")
# Multiplies the deadlines tests wait on (pexpect timeouts, waits for output), never what the
# tests assert: the program under valgrind starts and runs many times slower.
SLOW = float(os.environ.get("CHTEST_SLOW", "8" if VALGRIND_DIR else "1"))
VALGRIND_EXIT = 99
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _valgrind_wrapper(vgdir):
    """Writes VGDIR/bin/carhelp: a script that execs valgrind on PROGRAM with one log per process
    in VGDIR/logs (PID.log, the test and arguments in PID.cmd). Tests build their environments
    from scratch, so everything the wrapper needs is written into it. Named carhelp, so a test
    that links it into a PATH folder or reads argv[0] sees the usual name."""
    import shlex
    bindir = os.path.join(vgdir, "bin")
    logs = os.path.join(vgdir, "logs")
    os.makedirs(bindir, exist_ok=True)
    os.makedirs(logs, exist_ok=True)
    os.chmod(logs, 0o1777)       # tests also start carhelp as user nobody (test_secrets)
    opts = ["--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", f"--error-exitcode={VALGRIND_EXIT}",
            "--child-silent-after-fork=yes", "--num-callers=40", "--gen-suppressions=all",
            "--suppressions=" + os.path.join(ROOT, "tests", "valgrind.supp"),
            "--log-file=" + os.path.join(logs, "%p.log")]
    q = shlex.quote
    script = "\n".join([
        "#!/bin/sh",
        "# Written by tests/pylib/chtest.py (CARHELP_VALGRIND): carhelp under valgrind memcheck.",
        f"printf '%s\\n' \"test: $PYTEST_CURRENT_TEST\" \"home: $HOME\" \"args: $*\" >{q(logs)}/$$.cmd",
        f"exec valgrind {' '.join(q(o) for o in opts)} {q(PROGRAM)} \"$@\"",
        ""])
    path = os.path.join(bindir, "carhelp")
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(script)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)        # xdist workers each write the same script
    return path


if VALGRIND_DIR:
    CARHELP = _valgrind_wrapper(VALGRIND_DIR)


def valgrind_findings(vgdir=None):
    """Every valgrind log in VGDIR/logs that reports an error or a leak, as text for a failure
    message (the test, the arguments and the log)."""
    import glob
    logs = os.path.join(vgdir or VALGRIND_DIR, "logs")
    found = []
    for log in sorted(glob.glob(os.path.join(logs, "*.log"))):
        with open(log, errors="replace") as f:
            text = f.read()
        m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
        if m:
            bad = int(m.group(1)) > 0
        else:
            # No summary: the process was killed (SIGKILL from a test's timeout). The errors
            # reported until then still count: a block with a stack that is not valgrind's
            # own "Process terminating" note.
            blocks = re.split(r"\n==\d+== *\n", text)
            bad = any(re.search(r"==\d+==\s+at 0x", blk) and "Process terminating" not in blk
                      for blk in blocks[1:])
        if bad:
            cmd = log[:-4] + ".cmd"
            head = open(cmd, errors="replace").read() if os.path.exists(cmd) else ""
            found.append(f"--- {log}\n{head}{text}")
    return found


def _die_with_parent():
    """Runs in the child before exec: if the test runner is killed (even with SIGKILL), the
    kernel sends the server SIGTERM, so no carhelp-server outlives its test."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class Server:
    """carhelp-server --listen 127.0.0.1:0 --seed demo, stopped with SIGTERM."""

    def __init__(self, *extra, seed="demo", db=None):
        args = [SERVER, "--listen", "127.0.0.1:0"]
        if seed:
            args += ["--seed", seed]
        if db:
            args += ["--db", str(db)]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, preexec_fn=_die_with_parent)
        line = self.proc.stdout.readline().strip()
        prefix = "listening on "
        if not line.startswith(prefix):
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.proc.kill()
            raise RuntimeError(f"carhelp-server did not start: {line!r} {err!r}")
        self.url = line[len(prefix):]
        self.port = int(self.url.rsplit(":", 1)[1])
        # The service logs a line per request on stderr: drain it, or a long session blocks
        # the service on a full pipe. log_lines grows as the service writes.
        self.log_lines = []
        self._drain = threading.Thread(target=self._read_log, daemon=True)
        self._drain.start()

    def _read_log(self):
        for line in self.proc.stderr:
            self.log_lines.append(line)

    def settled_log_lines(self, quiet=0.3, timeout=10.0):
        """The number of log lines once the log has stopped growing for `quiet` seconds: the
        service logs a request after answering it, so a count taken right after a command
        may miss that command's last line."""
        deadline = time.monotonic() + timeout
        n, since = len(self.log_lines), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            m = len(self.log_lines)
            if m != n:
                n, since = m, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return n

    def log_text(self):
        """Everything the service logged so far (all of it once the service has stopped)."""
        if self.proc.poll() is not None:
            self._drain.join(5)
        return "".join(self.log_lines)

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def isolated_env(tmp_path, api_url=None, **extra):
    """An environment with private config/state/cache folders and no inherited carhelp
    settings, so a developer's own login never leaks into a test."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CARHELP_") and k not in ("NO_COLOR", "http_proxy",
                                                         "https_proxy", "HTTP_PROXY",
                                                         "HTTPS_PROXY", "all_proxy")}
    home = tmp_path / "home"
    for sub in ("config", "state", "cache"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env.update({
        "HOME": str(home),
        "CARHELP_CONFIG_DIR": str(home / "config"),
        "CARHELP_STATE_DIR": str(home / "state"),
        "CARHELP_CACHE_DIR": str(home / "cache"),
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
    })
    if api_url:
        env["CARHELP_API_URL"] = api_url
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(env, *args, input=None, timeout=60):
    """Runs carhelp; returns CompletedProcess with text stdout/stderr."""
    return subprocess.run([CARHELP, *args], env=env, input=input, capture_output=True,
                          text=True, timeout=timeout)


def wait_port(port, timeout=30.0):
    import socket
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def wait_for_line_editor(child, timeout=10.0):
    """Waits until the program on pexpect `child`'s terminal reads keys one by one (readline
    has switched the terminal out of canonical mode). A Ctrl-D typed while the terminal is
    still canonical (the shell between two lines) is taken by the terminal driver as an
    end-of-file for that read and never reaches readline, so tests send EOF only after this."""
    import termios
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if not termios.tcgetattr(child.child_fd)[3] & termios.ICANON:
                return True
        except termios.error:
            return False
        time.sleep(0.02)
    return False



@contextlib.contextmanager
def token_bound_to(env, url):
    """While inside: the stored credentials read as if every token had been issued by `url`
    (a proxy in front of the same service, or the service's address once it is gone), since
    carhelp sends a stored token only to the origin it was issued for. Restored after."""
    path = Path(env["CARHELP_CONFIG_DIR"]) / "credentials"
    if not path.exists():
        yield
        return
    before = path.read_text()
    path.write_text("".join(f"api_url = {url}\n" if line.startswith("api_url") else line
                            for line in before.splitlines(True)))
    try:
        yield
    finally:
        path.write_text(before)
