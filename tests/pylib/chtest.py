"""Shared helpers for the end-to-end and contract suites: start the real carhelp-server on
loopback with the demo data, and run the real carhelp binary in isolated XDG folders."""
import os
import signal
import subprocess
import threading
import time

CARHELP = os.environ.get("CARHELP_BIN", os.path.abspath("build/carhelp"))
SERVER = os.environ.get("CARHELP_SERVER_BIN", os.path.abspath("build/carhelp-server"))


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

