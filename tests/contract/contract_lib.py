"""Helpers of the contract suite (conftest.py has the fixtures).

Contract suite: the real carhelp-server with the demo data, and Prism in front of it as a
validating proxy (`prism proxy api/openapi.yaml UPSTREAM --errors`). Every request the tests
make goes through the proxy, so a request or response that breaks api/openapi.yaml shows up
as an HTTP 500 application/problem+json with an `sl-violations` header (errors), as an
`sl-violations` header on the real answer (warnings, e.g. an undocumented status code), and as
a `Violation:` line in Prism's log. The tests fail on any of the three."""
import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))

import chtest  # noqa: E402

SPEC = os.path.join(ROOT, "api", "openapi.yaml")
PRISM = os.path.join(ROOT, "tools", "node_modules", ".bin", "prism")
REQUEST_ID = re.compile(r"^req_[0-9a-f]{16}$")
# Lines of Prism's log that mean the contract was broken (or the upstream could not be used).
PROBLEM_LINE = re.compile(r"Violation:|Request terminated with error", re.I)


try:  # resolved here, not in the forked child (no imports between fork and exec)
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None


def _die_with_parent():
    """Linux: Prism gets SIGTERM if pytest dies without running the fixtures' teardown."""
    if _prctl is not None:
        _prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prism:
    """`prism proxy` started as the node process itself (no npx wrapper), so terminating the
    Popen stops Prism. Its log goes to a file the tests read for violations."""

    def __init__(self, upstream, log_path, attempts=3):
        if not os.access(PRISM, os.X_OK):
            subprocess.run([os.path.join(ROOT, "scripts", "tools.sh")], check=True)
        self.log_path = str(log_path)
        last = ""
        for _ in range(attempts):
            self.port = free_port()
            self.log = open(self.log_path, "w")
            env = dict(os.environ, NO_COLOR="1", FORCE_COLOR="0")
            for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
                env.pop(k, None)
            self.proc = subprocess.Popen(
                [PRISM, "proxy", SPEC, upstream, "--errors", "-h", "127.0.0.1",
                 "-p", str(self.port)],
                stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=ROOT, env=env, preexec_fn=_die_with_parent)
            if self._wait_ready(60):
                self.url = f"http://127.0.0.1:{self.port}"
                return
            self.stop()
            with open(self.log_path) as f:
                last = f.read()[-3000:]
        raise RuntimeError(f"prism did not start:\n{last}")

    def _wait_ready(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            with open(self.log_path) as f:
                started = "Prism is listening" in f.read()
            if started and chtest.wait_port(self.port, 1):
                return True
            time.sleep(0.2)
        return False

    def mark(self):
        """The log's current end; problems_since(mark) lists what was logged after it."""
        self.log.flush()
        return os.path.getsize(self.log_path)

    def problems_since(self, mark, settle=0.3):
        time.sleep(settle)  # Prism logs asynchronously
        with open(self.log_path, errors="replace") as f:
            f.seek(mark)
            text = f.read()
        return [ln for ln in text.splitlines() if PROBLEM_LINE.search(ln)]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # an email.message.Message: case-insensitive get()
        self.body = body
        self.content_type = headers.get("Content-Type", "") or ""

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return (f"<{self.status} {self.content_type} sl-violations="
                f"{self.headers.get('sl-violations')} body={self.body[:600]!r}>")


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(base, method, path, body=None, token=None, headers=None, timeout=30):
    """One request with urllib (never through a proxy from the environment); any status."""
    data = None
    hdrs = {"Accept": "application/json"}
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        hdrs["Content-Type"] = "application/json"
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    hdrs.update(headers or {})
    req = urllib.request.Request(base + path, data=data, method=method, headers=hdrs)
    try:
        with _opener.open(req, timeout=timeout) as r:
            return Response(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read())


def assert_conforms(resp, status):
    """The proxy found nothing wrong, and the answer is the expected one."""
    viol = resp.headers.get("sl-violations")
    assert viol is None, f"contract violation: {viol}\n{resp!r}"
    assert "problem+json" not in resp.content_type, f"Prism rejected the exchange: {resp!r}"
    assert resp.status == status, f"expected HTTP {status}, got {resp!r}"
    rid = resp.headers.get("X-Request-Id")
    assert rid and REQUEST_ID.match(rid), f"bad X-Request-Id {rid!r}"
    if resp.body:
        assert resp.content_type.split(";")[0].strip() == "application/json", resp
    return resp.json() if resp.body else None


def assert_error(resp, status, code):
    doc = assert_conforms(resp, status)
    assert doc["error"]["code"] == code, doc
    assert doc["error"]["request_id"] == resp.headers.get("X-Request-Id"), doc
    return doc
