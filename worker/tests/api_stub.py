"""A stand-in for the server's worker routes, for tests and benchmarks (standard library only).

Checks every request's `Authorization: Bearer <jwt>`: HS256 with the shared secret, header kid
"service", claims typ "service", iss "powernode", aud "powernode-api", nbf <= now < exp,
exp - iat <= 3600. Mutating requests must carry an Idempotency-Key: the first request with a
key is applied (recorded); repeats get the stored answer and count as duplicates.
Can be told to answer 503 (fail_next, down) to exercise retries.

Run alone: python3 api_stub.py PORT SECRET   (prints "listening PORT")."""
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class State:
    def __init__(self, secret):
        self.secret = secret.encode()
        self.lock = threading.Lock()
        self.applied = {}      # idempotency key -> body
        self.duplicates = 0
        self.calls = 0
        self.bad_auth = 0
        self.missing_key = 0
        self.fail_next = 0
        self.down = False
        self.subs = set()
        self.jtis = set()
        self.log = []
        self.hooks = {}        # POST path -> fn() -> data, set by a test (e.g. the reconciler)

    def check_token(self, auth):
        if not auth or not auth.startswith("Bearer "):
            return "no bearer token"
        tok = auth[7:]
        try:
            h, c, s = tok.split(".")
            header, claims = json.loads(b64d(h)), json.loads(b64d(c))
        except Exception:
            return "malformed token"
        mac = hmac.new(self.secret, f"{h}.{c}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(mac, b64d(s)):
            return "bad signature"
        if header != {"alg": "HS256", "typ": "JWT", "kid": "service"}:
            return f"bad header {header}"
        now = time.time()
        if claims.get("typ") != "service" or claims.get("iss") != "powernode" or \
                claims.get("aud") != "powernode-api":
            return f"bad claims {claims}"
        if not (claims["nbf"] <= now + 5 and now < claims["exp"]) or \
                claims["exp"] - claims["iat"] > 3600 or not claims.get("jti"):
            return "expired or too long-lived"
        self.subs.add(claims.get("sub"))
        self.jtis.add(claims["jti"])
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with st.lock:
            st.calls += 1
            if st.down or st.fail_next > 0:
                if st.fail_next > 0:
                    st.fail_next -= 1
                self.reply(503, {"error": {"code": "unavailable"}})
                return
            why = st.check_token(self.headers.get("Authorization"))
            if why:
                st.bad_auth += 1
                self.reply(401, {"error": {"code": "unauthorized", "message": why}})
                return
            hook = st.hooks.get(self.path) if self.command == "POST" else None
            if hook:
                self.reply(200, {"data": hook()})
                return
            if self.command in ("GET", "HEAD"):
                self.reply(200, {"data": {"pong": True}})
                return
            key = self.headers.get("Idempotency-Key")
            if not key:
                st.missing_key += 1
                self.reply(400, {"error": {"code": "bad_request", "message": "Idempotency-Key"}})
                return
            if key in st.applied:
                st.duplicates += 1
            else:
                st.applied[key] = body.decode(errors="replace")
            self.reply(200, {"data": {"key": key}})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients killed mid-request (kill -9 tests) are expected
    allow_reuse_address = True
    request_queue_size = 256


def start(secret, port=0):
    srv = Server(("127.0.0.1", port), Handler)
    srv.state = State(secret)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    return srv


if __name__ == "__main__":
    s = start(sys.argv[2], int(sys.argv[1]))
    print("listening", s.server_address[1], flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
