"""Helpers for the test_files* integration tests (not a test itself): a files server with a
local storage root of its own, multipart bodies, service tokens, users with chosen
permissions, a minimal Redis client, and database/disk snapshots."""
import hashlib
import http.client
import json
import os
import socket
import tempfile
import time
import urllib.parse
import uuid

import pn
import test_auth_support as auth

PASSWORD = "files test password 42"
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class FilesServer:
    """One server with the storage and files plugins, an admin, and a storage root of its own."""

    def __init__(self, files_cfg="", env=None):
        self.db = pn.Database()
        self.root = tempfile.mkdtemp(prefix="pn-files-root-")
        yaml = ("plugins:\n  storage:\n    local_root: %s\n  files:\n"
                "    signing_key: %s\n%s" % (self.root, "s" * 40, files_cfg))
        e = {"POWERNODE_AUTH_RATE_LIMIT_IP_PER_MINUTE": "100000",
             "POWERNODE_AUTH_RATE_LIMIT_USER_PER_MINUTE": "100000",
             "POWERNODE_HTTP_THREADS": "8", "POWERNODE_DATABASE_POOL_SIZE": "8"}
        e.update(env or {})
        self.srv = pn.Server(self.db, yaml, env=e)
        self.srv.create_admin()
        self.token = self.srv.login()
        me = self.srv.request("GET", "/api/v1/auth/me", token=self.token).doc["data"]["user"]
        self.account = me["account_id"]
        self.user_id = me["id"]

    def stop(self):
        code = self.srv.stop()
        self.db.drop()
        return code

    # ---- HTTP ----

    def call(self, method, path, body=None, token=None, headers=None, timeout=60):
        """JSON body when body is a dict/list, raw bytes otherwise."""
        h = dict(headers or {})
        tok = self.token if token is None else token
        if tok:
            h["Authorization"] = "Bearer " + tok
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=timeout)
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        doc = None
        if data and (r.getheader("Content-Type") or "").startswith("application/json"):
            doc = json.loads(data)
        return pn.Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, data, doc)

    def upload(self, data, filename="a.txt", token=None, fields=None, path="/api/v1/files/upload",
               status=201):
        body, ctype = multipart({"file": (filename, data)}, fields or {})
        r = self.call("POST", path, body, token=token, headers={"Content-Type": ctype})
        if status is not None and r.status != status:
            raise AssertionError(f"upload: {r}")
        return r.doc["data"] if r.status in (200, 201) else r

    def upload_raw(self, data, query="", token=None, headers=None, status=201):
        h = {"Content-Type": "application/octet-stream"}
        h.update(headers or {})
        r = self.call("POST", "/api/v1/files/upload" + query, data, token=token, headers=h)
        if status is not None and r.status != status:
            raise AssertionError(f"raw upload: {r}")
        return r.doc["data"] if r.status in (200, 201) else r

    def service_token(self):
        return auth.sign(auth.header(kid="service"),
                         auth.claims("worker-files", None, typ="service"), auth.SERVICE_SECRET)

    # ---- people ----

    def user_with(self, email, perms):
        """A user of this account holding exactly `perms` (through a custom role)."""
        r = self.call("POST", "/api/v1/roles", {"name": "role-" + email.split("@")[0],
                                                "permissions": perms})
        assert r.status == 201, r
        r = self.call("POST", "/api/v1/users", {"email": email, "password": PASSWORD,
                                                "roles": [r.doc["data"]["id"]]})
        assert r.status == 201, r
        return self.srv.login(email, PASSWORD)

    def other_account_admin(self, email="other-admin@other.example.test"):
        acct, uid = str(uuid.uuid4()), str(uuid.uuid4())
        self.db.query(
            f"INSERT INTO accounts (id, name, slug) VALUES ('{acct}', 'Other', 'other-{acct[:8]}');"
            f"INSERT INTO users (id, account_id, email, name, password_hash, status)"
            f" SELECT '{uid}', '{acct}', '{email}', 'B', password_hash, 'active' FROM users"
            f"  WHERE email = '{pn.ADMIN_EMAIL}';"
            f"INSERT INTO user_roles (user_id, role_id)"
            f" VALUES ('{uid}', '01900000-0000-7000-8000-000000000001')")
        return self.srv.login(email, pn.ADMIN_PASSWORD), acct

    # ---- state ----

    def q(self, sql):
        return self.db.query(sql)

    def blobs(self):
        """Every regular file under the storage root (relative paths), temporaries included."""
        out = set()
        for d, _, files in os.walk(self.root):
            for f in files:
                out.add(os.path.relpath(os.path.join(d, f), self.root))
        return out

    def usage(self):
        acct = self.q(f"SELECT COALESCE((SELECT used_bytes FROM files_account_usage"
                      f" WHERE account_id = '{self.account}'), 0)")
        st = self.q(f"SELECT COALESCE(sum(used_bytes), 0) FROM file_storages"
                    f" WHERE account_id = '{self.account}'")
        return int(acct), int(st)

    def stored_bytes(self):
        return int(self.q(f"SELECT COALESCE(sum(file_size), 0) FROM file_versions"
                          f" WHERE account_id = '{self.account}'"))

    def counts(self):
        return (int(self.q("SELECT count(*) FROM file_objects")),
                int(self.q("SELECT count(*) FROM file_versions")),
                int(self.q("SELECT count(*) FROM file_uploads")))


def multipart(files, fields, boundary=None):
    b = boundary or "pnb" + uuid.uuid4().hex
    out = []
    for name, value in fields.items():
        out.append(f"--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n".encode())
        out.append(value.encode() if isinstance(value, str) else value)
        out.append(b"\r\n")
    for name, (filename, data) in files.items():
        fn = filename.encode() if isinstance(filename, str) else filename
        fn = fn.replace(b"\\", b"\\\\").replace(b'"', b'\\"')  # quoted-string escapes
        out.append(f"--{b}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"".encode()
                   + fn + b"\"\r\nContent-Type: application/octet-stream\r\n\r\n")
        out.append(data)
        out.append(b"\r\n")
    out.append(f"--{b}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={b}"


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def redis_cmd(*args):
    """One command to the test Redis (RESP over a socket); returns the raw reply line(s)."""
    u = urllib.parse.urlsplit(pn.need("PN_TEST_REDIS_URL"))
    s = socket.create_connection((u.hostname, u.port or 6379), timeout=5)
    try:
        db = (u.path or "/0").strip("/") or "0"
        payload = b""
        for cmd in (("SELECT", db), args):
            payload += b"*%d\r\n" % len(cmd)
            for a in cmd:
                a = a.encode() if isinstance(a, str) else a
                payload += b"$%d\r\n%s\r\n" % (len(a), a)
        s.sendall(payload)
        time.sleep(0.05)
        return s.recv(65536)
    finally:
        s.close()
