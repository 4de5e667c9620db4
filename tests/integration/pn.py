"""Harness for integration tests: real server processes over real HTTP on loopback, each
against a fresh PostgreSQL database on the test cluster and the test Redis.

Environment (set by scripts/test.sh through ctest): PN_TEST_DATABASE_URL, PN_TEST_REDIS_URL,
PN_BUILD_DIR, PN_SOURCE_DIR; optional PN_TEST_PG_RESTART_CMD, PN_TEST_REDIS_RESTART_CMD.
"""
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "correct horse battery staple"
JWT_KEY = "k" * 16 + secrets.token_hex(16)


def need(name):
    v = os.environ.get(name)
    if not v:
        raise RuntimeError(f"{name} is not set: run the suite through scripts/test.sh")
    return v


def build_dir():
    return need("PN_BUILD_DIR")


def source_dir():
    return need("PN_SOURCE_DIR")


def server_binary():
    return os.path.join(build_dir(), "kernel", "src", "app", "powernode-server")


def psql(url, sql):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                   check=True, capture_output=True, timeout=30)


def with_dbname(url, name):
    p = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


class Database:
    """A database of its own for one test class, dropped afterwards."""

    def __init__(self):
        self.admin_url = need("PN_TEST_DATABASE_URL")
        self.name = "pn_it_" + secrets.token_hex(6)
        psql(self.admin_url, f"CREATE DATABASE {self.name}")
        self.url = with_dbname(self.admin_url, self.name)

    def query(self, sql):
        out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", self.url, "-c", sql],
                             check=True, capture_output=True, text=True, timeout=30)
        return out.stdout.strip()

    def drop(self):
        psql(self.admin_url, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


class Server:
    """One powernode-server process started on a free port with the given config."""

    def __init__(self, db, yaml_text="", env=None, plugins_paths=None, expect_start=True,
                 timeout=30):
        self.dir = tempfile.mkdtemp(prefix="pn-it-")
        self.config = os.path.join(self.dir, "server.yaml")
        with open(self.config, "w") as f:
            f.write(yaml_text)
        self.log_path = os.path.join(self.dir, "server.log")
        self.env = base_env(db)
        if plugins_paths:
            self.env["POWERNODE_PLUGINS_PATHS"] = ",".join(plugins_paths)
        self.env.update(env or {})
        self.port = None
        self.proc = None
        self.exit_code = None
        if expect_start:
            self.start(timeout)

    def start(self, timeout=30):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([server_binary(), "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(rb"listening bind=\S+ port=(\d+)", open(self.log_path, "rb").read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                raise RuntimeError("server exited during start-up:\n" + self.log_text())
            time.sleep(0.05)
        self.proc.kill()
        raise RuntimeError("server did not start in time:\n" + self.log_text())

    def run_once(self, *args, extra_env=None, timeout=60):
        """Run the binary with one-shot flags; returns (exit code, combined output)."""
        env = dict(self.env)
        env.update(extra_env or {})
        p = subprocess.run([server_binary(), "--config", self.config, *args], env=env,
                           capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout + p.stderr

    def log_text(self):
        try:
            return open(self.log_path, "rb").read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=30):
        try:
            if self.proc is None or self.proc.poll() is not None:
                self.exit_code = self.proc.returncode if self.proc else None
                return self.exit_code
            self.proc.send_signal(sig)
            try:
                self.exit_code = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError("server did not stop within %ss:\n%s"
                                     % (timeout, self.log_text()))
            return self.exit_code
        finally:
            if getattr(self, "log", None):
                self.log.close()

    # ---- HTTP ----

    def request(self, method, path, body=None, headers=None, token=None, timeout=15):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        doc = None
        if data and (r.getheader("Content-Type") or "").startswith("application/json"):
            doc = json.loads(data)
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, data, doc)

    def raw(self, payload, timeout=5, read_all=True):
        """Send raw bytes; return everything read until the server closes or timeout."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            s.sendall(payload)
            chunks = []
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    c = s.recv(65536)
                except socket.timeout:
                    break
                if not c:
                    return b"".join(chunks), True
                chunks.append(c)
                if not read_all:
                    break
                if read_all == "one" and complete_response(b"".join(chunks)):
                    break
            return b"".join(chunks), False
        finally:
            s.close()

    def login(self, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
        r = self.request("POST", "/api/v1/auth/login", {"email": email, "password": password})
        if r.status != 200:
            raise AssertionError(f"login failed: {r.status} {r.body!r}")
        return r.doc["data"]["access_token"]

    def create_admin(self):
        code, out = self.run_once("--create-admin", extra_env={
            "POWERNODE_ADMIN_EMAIL": ADMIN_EMAIL, "POWERNODE_ADMIN_PASSWORD": ADMIN_PASSWORD})
        if code != 0:
            raise AssertionError("create-admin failed:\n" + out)
        return out


def complete_response(data):
    """Whether data holds one whole response with a Content-Length body."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip() or b"0")
    return False


class Reply:
    def __init__(self, status, headers, body, doc):
        self.status, self.headers, self.body, self.doc = status, headers, body, doc

    def __repr__(self):
        return f"<Reply {self.status} {self.body[:300]!r}>"


def base_env(db):
    b, s = build_dir(), source_dir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERNODE_")}
    env.update({
        "DATABASE_URL": db.url,
        "REDIS_URL": need("PN_TEST_REDIS_URL"),
        "POWERNODE_JWT_KEY": JWT_KEY,
        # The first start of a fresh database creates this administrator.
        "POWERNODE_ADMIN_EMAIL": ADMIN_EMAIL,
        "POWERNODE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "WORKER_SERVICE_TOKEN": "w" * 40,
        "POWERNODE_HTTP_PORT": "0",
        "POWERNODE_HTTP_THREADS": "4",
        "POWERNODE_DATABASE_POOL_SIZE": "4",
        "POWERNODE_PATHS_PLUGINS": os.path.join(b, "plugins"),
        "POWERNODE_PATHS_PLUGIN_DATA": os.path.join(b, "share", "plugins"),
        "POWERNODE_PATHS_SQL": os.path.join(s, "sql"),
        # Test files log in many times a minute from one address; the tests of the limits
        # themselves set their own low values.
        "POWERNODE_AUTH_RATE_LIMIT_IP_PER_MINUTE": "100000",
        "POWERNODE_AUTH_RATE_LIMIT_USER_PER_MINUTE": "1000000",
        # Tests change roles and users behind the API's back with SQL and expect the next
        # request to see it; test_principal_cache.py runs with the cache on.
        "POWERNODE_AUTH_PRINCIPAL_CACHE_SECONDS": "0",
    })
    return env


def assert_envelope(tc, reply, status):
    tc.assertEqual(reply.status, status, reply)
    tc.assertIsNotNone(reply.doc, reply)
    tc.assertIs(reply.doc.get("success"), False, reply)
    tc.assertIsInstance(reply.doc.get("error"), str, reply)
    tc.assertIsInstance(reply.doc.get("details"), list, reply)


def main():
    unittest.main(verbosity=2)
