"""Shared by tests/load: start the real carhelp-server on loopback with a fresh database, log
in, and run wrk with one of this folder's Lua scripts, reading the WRKJSON line common.lua
prints. Standard library only (run with /usr/bin/python3)."""
import json
import os
import shutil
import signal
import subprocess
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SERVER = os.environ.get("CARHELP_SERVER_BIN", os.path.join(ROOT, "build", "carhelp-server"))

# The demo dataset of api.md.
CUSTOMER_PHONE, CUSTOMER_OTP = "13800138000", "246810"
STAFF_ID, STAFF_PASSWORD = "field01", "field01-demo-pass"
ORDER_ID = "ord_20261101_0001"


class LoadError(Exception):
    """A violation or a setup failure: soak.py prints it and exits 1."""


class Server:
    """carhelp-server --listen 127.0.0.1:0 --db DB --seed demo; the log goes to LOG."""

    def __init__(self, db, log, binary=SERVER):
        self.log_path = log
        self.log = open(log, "a")
        self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--db", db,
                                      "--seed", "demo"], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            self.proc.wait()
            raise LoadError(f"carhelp-server did not start ({line!r}); see {log}")
        self.url = line[len("listening on "):]

    def stop(self, timeout=30):
        """SIGTERM, then the exit status (LoadError when it does not stop in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise LoadError(f"carhelp-server did not stop within {timeout} s of SIGTERM")
        self.log.close()
        return self.proc.returncode

    def log_tail(self, lines=15):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])


def call(url, method, path, body=None, token=None, headers=None):
    """One request; (status, parsed JSON body or None)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, (json.loads(raw) if raw else None)


def login_customer(url):
    status, _ = call(url, "POST", "/v1/auth/otp", {"phone": CUSTOMER_PHONE})
    if status != 202:
        raise LoadError(f"POST /v1/auth/otp answered {status}")
    status, body = call(url, "POST", "/v1/auth/token",
                        {"phone": CUSTOMER_PHONE, "otp": CUSTOMER_OTP})
    if status != 200:
        raise LoadError(f"customer login answered {status}")
    return body["token"]


def login_staff(url):
    status, body = call(url, "POST", "/v1/auth/token",
                        {"staff_id": STAFF_ID, "password": STAFF_PASSWORD})
    if status != 200:
        raise LoadError(f"staff login answered {status}")
    return body["token"]


def need_wrk():
    path = shutil.which("wrk")
    if not path:
        raise LoadError("wrk is not installed (Debian: apt-get install wrk; "
                        "scripts/deps.sh bench installs it)")
    return path


def start_wrk(url, script, seconds, connections, threads, env):
    """Starts wrk (a Popen); finish_wrk reads its result."""
    full_env = dict(os.environ, LOAD_DIR=HERE, **env)
    args = [need_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
            "--timeout", "10s", "-s", os.path.join(HERE, script), url]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=full_env)


def finish_wrk(proc, timeout):
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise LoadError(f"wrk did not finish within {timeout} s")
    for line in out.splitlines():
        if line.startswith("WRKJSON "):
            result = json.loads(line[len("WRKJSON "):])
            result["status"] = {int(k): v for k, v in result["status"].items()}
            result["text"] = out
            return result
    raise LoadError(f"wrk gave no result (exit {proc.returncode}):\n{out}")


def run_wrk(url, script, seconds, connections, threads=2, env=None):
    proc = start_wrk(url, script, seconds, connections, threads, env or {})
    return finish_wrk(proc, seconds + 60)


def rps(result):
    return result["requests"] / (result["duration_us"] / 1e6)
