"""A bad mobile network between carhelp and the reference service, for the end-to-end tests.

FaultProxy is an HTTP/1.1 proxy on loopback, one request per connection. carhelp never sends
test headers, so this is how a test reaches the service's own fault injection (`--faults`, the
`X-Fault` request header): the proxy adds the header on the way through. It also loses answers
the service already handled, refuses requests, or rewrites answers.

The answer is relayed byte for byte as the service sends it (nothing buffered), so what the
client sees is what the service did: a body cut short stays cut short, a status line and
headers trickled a byte at a time (slowloris) reach the client a byte at a time, and a 9 MiB
body arrives as a 9 MiB body.
"""
import json
import random
import socket
import threading

HOP_BY_HOP = ("connection", "host", "content-length", "keep-alive", "proxy-connection",
              "transfer-encoding", "te", "upgrade")


class FaultProxy:
    """`FaultProxy(upstream_port, policy=None, fault=None, lose=0.0, seed=5)`; `.url`.

    For each request, in this order:
    - `fault` (an X-Fault value, may be changed while running) is added to the request;
    - `policy(req)`, when given, sees req = {"method", "path", "headers", "body", "n"} (n: how
      many requests with the same method and path came before) and may set or remove
      req["headers"]["X-Fault"]; it returns "forward" (or None), "lose_answer" (the service
      handles the request, the client never hears back), "refuse" (closed without forwarding),
      or a callable that rewrites the answer's JSON document;
    - with probability `lose` (a seeded random stream) the answer is lost as for "lose_answer".
    `seen` lists every request, as the policy saw it.
    """

    def __init__(self, upstream_port, policy=None, fault=None, lose=0.0, seed=5,
                 upstream_host="127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.policy, self.fault, self.lose = policy, fault, lose
        self.rng = random.Random(seed)
        self.seen = []
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.busy = 0                       # requests in flight through the proxy
        self.open = set()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._serve, daemon=True).start()

    # ---- what tests look at ----

    def requests(self, method=None, path_contains=""):
        with self.lock:
            return [r for r in self.seen
                    if (method is None or r["method"] == method) and path_contains in r["path"]]

    def posts(self, suffix="/commands"):
        with self.lock:
            return [r for r in self.seen if r["method"] == "POST" and r["path"].endswith(suffix)]

    def wait_idle(self, timeout=30.0):
        """Waits until no request is in flight (a delayed request the client gave up on is
        still in flight until the service answers it); False on timeout."""
        with self.idle:
            return self.idle.wait_for(lambda: self.busy == 0, timeout)

    def close(self):
        self.sock.close()
        with self.lock:
            conns = list(self.open)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- the proxy ----

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.busy += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_request(conn):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip()] = v.strip()
        length = int({k.lower(): v for k, v in headers.items()}.get("content-length", "0"))
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return {"method": method, "path": path, "headers": headers, "body": body}

    def _track(self, *socks, add=True):
        with self.lock:
            for s in socks:
                (self.open.add if add else self.open.discard)(s)

    def _handle(self, conn):
        up = None
        self._track(conn)
        try:
            req = self._read_request(conn)
            if req is None:
                return
            if self.fault:
                req["headers"]["X-Fault"] = self.fault
            with self.lock:
                req["n"] = sum(1 for r in self.seen
                               if r["method"] == req["method"] and r["path"] == req["path"])
                self.seen.append(req)
                lose = self.lose and self.rng.random() < self.lose
            action = self.policy(req) if self.policy else None
            if action == "refuse":
                return
            if lose:
                action = "lose_answer"
            try:
                up = socket.create_connection(self.upstream, timeout=120)
                self._track(up)
                up.sendall(self._request_bytes(req))
                if action in (None, "forward"):
                    self._relay(up, conn)
                    return
                answer = self._read_all(up)
            except OSError:
                return          # the service dropped it: so does the proxy
            if action == "lose_answer" or not answer:
                return
            conn.sendall(self._rewrite(answer, action))
        except OSError:
            pass                # the client gave up
        finally:
            for s in (up, conn):
                if s is not None:
                    self._track(s, add=False)
                    s.close()
            with self.idle:
                self.busy -= 1
                self.idle.notify_all()

    def _request_bytes(self, req):
        host, port = self.upstream
        lines = [f"{req['method']} {req['path']} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{k}: {v}" for k, v in req["headers"].items() if k.lower() not in HOP_BY_HOP]
        if req["body"] or req["method"] not in ("GET", "HEAD", "DELETE"):
            lines.append(f"Content-Length: {len(req['body'])}")
        lines += ["Connection: close", "", ""]
        return "\r\n".join(lines).encode("latin-1") + req["body"]

    @staticmethod
    def _relay(up, conn):
        while True:
            data = up.recv(65536)
            if not data:
                return
            conn.sendall(data)

    @staticmethod
    def _read_all(up):
        chunks = []
        while True:
            data = up.recv(65536)
            if not data:
                return b"".join(chunks)
            chunks.append(data)

    @staticmethod
    def _rewrite(answer, rewrite):
        """The answer with its JSON body passed through `rewrite` (the service's answers carry a
        Content-Length, never chunked bodies)."""
        head, body = answer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        body = json.dumps(rewrite(json.loads(body))).encode()
        out = [lines[0]] + [ln for ln in lines[1:]
                            if ln.split(":", 1)[0].strip().lower() not in HOP_BY_HOP]
        out += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        return "\r\n".join(out).encode("latin-1") + body
