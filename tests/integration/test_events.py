"""Live events (kernel/src/events, GET /api/v1/events) across two server instances sharing
PostgreSQL and Redis. The publisher is real: every audit row (here, a greeting created through
the hello plugin, or a refused PATCH) is published on channel "audit", which needs
admin.audit_logs.read. Checked: an event published on one instance reaches an authorised
subscriber on the other; another account's subscriber and a member without the permission
never get it; a row written inside a transaction (a sign-in) is published once committed;
reconnecting with Last-Event-ID misses nothing and repeats nothing; heartbeats
arrive; streams per user are capped with 429; a subscriber that never reads is dropped while
the server's RSS stays bounded; a stopping server ends its streams at once."""
import http.client
import json
import os
import socket
import time
import unittest
import uuid

import pn

ADMIN_ROLE = "01900000-0000-7000-8000-000000000001"
MEMBER_ROLE = "01900000-0000-7000-8000-000000000002"
B_EMAIL = "b-admin@other.example.test"
M_EMAIL = "member@example.test"

CONFIG = """
http:
  max_uri: 65536
  max_head: 131072
auth:
  rate_limit_user_per_minute: 0
events:
  heartbeat: 0.3
  max_streams_per_user: 4
  max_pending: 131072
"""


class SSE:
    """A server-sent-events client on a raw socket: chunked decoding and SSE parsing, every
    read bounded by a timeout."""

    def __init__(self, port, token, query="", headers=None, rcvbuf=None, timeout=10):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        h = {"Host": "t", "Accept": "text/event-stream"}
        if token:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        req = f"GET /api/v1/events{query} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
        self.sock.sendall(req.encode())
        self.raw = b""      # undecoded bytes after the head
        self.text = ""      # decoded body not yet parsed into blocks
        self.events = []    # parsed {"id", "data"} in arrival order
        self.comments = []
        self.ended = False  # the last chunk or EOF was seen
        self.status, self.headers, self.body = None, {}, b""

    def read_head(self):
        buf = b""
        while b"\r\n\r\n" not in buf:
            c = self.sock.recv(65536)
            if not c:
                break
            buf += c
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, _, v in
                        (line.partition(":") for line in lines[1:])}
        self.raw = rest
        if self.headers.get("transfer-encoding") != "chunked":
            # an error answer with Content-Length
            n = int(self.headers.get("content-length", "0"))
            while len(self.raw) < n:
                c = self.sock.recv(65536)
                if not c:
                    break
                self.raw += c
            self.body = self.raw[:n]
        return self.status

    def _decode(self):
        while True:
            line, sep, rest = self.raw.partition(b"\r\n")
            if not sep:
                return
            size = int(line, 16)
            if len(rest) < size + 2:
                return
            if size == 0:
                self.ended = True
                self.raw = b""
                return
            self.text += rest[:size].decode()
            self.raw = rest[size + 2:]

    def _parse(self):
        while "\n\n" in self.text:
            block, _, self.text = self.text.partition("\n\n")
            ev = {}
            for line in block.split("\n"):
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                elif line.startswith("id: "):
                    ev["id"] = line[4:]
                elif line.startswith("data: "):
                    ev["data"] = json.loads(line[6:])
            if "data" in ev:
                self.events.append(ev)

    def pump(self, seconds):
        """Read for up to `seconds` (less if the stream ends)."""
        deadline = time.monotonic() + seconds
        while not self.ended and time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
            try:
                c = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                self.ended = True
                break
            if not c:
                self.ended = True
                break
            self.raw += c
            self._decode()
            self._parse()

    def wait_for(self, pred, seconds=10):
        """Pump until pred(self) is true; returns whether it became true."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if pred(self):
                return True
            if self.ended:
                return pred(self)
            self.pump(min(0.2, deadline - time.monotonic()))
        return pred(self)

    def close(self):
        self.sock.close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class Events(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()
        # A small ASan quarantine so RSS follows what the server really holds.
        asan = os.environ.get("ASAN_OPTIONS", "")
        env = {"ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=8"}
        cls.s1 = pn.Server(cls.db, CONFIG, env=env)
        cls.s1.create_admin()
        cls.s2 = pn.Server(cls.db, CONFIG, env=env)
        cls.admin = cls.s1.login()
        me = cls.s1.request("GET", "/api/v1/auth/me", token=cls.admin).doc["data"]
        cls.account, cls.admin_id = me["user"]["account_id"], me["user"]["id"]
        # Account B with its admin, and a member of account A: written straight into the
        # database with the first admin's password hash.
        cls.b_account, b_admin, member = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        cls.db.query(
            f"INSERT INTO accounts (id, name, slug) VALUES ('{cls.b_account}', 'Other', 'other');"
            f"INSERT INTO users (id, account_id, email, name, password_hash, status)"
            f" SELECT '{b_admin}', '{cls.b_account}', '{B_EMAIL}', 'B admin', password_hash,"
            f"        'active' FROM users WHERE email = '{pn.ADMIN_EMAIL}';"
            f"INSERT INTO user_roles (user_id, role_id) VALUES ('{b_admin}', '{ADMIN_ROLE}');"
            f"INSERT INTO users (id, account_id, email, name, password_hash, status)"
            f" SELECT '{member}', account_id, '{M_EMAIL}', 'Member', password_hash,"
            f"        'active' FROM users WHERE email = '{pn.ADMIN_EMAIL}';"
            f"INSERT INTO user_roles (user_id, role_id) VALUES ('{member}', '{MEMBER_ROLE}')")
        cls.b = cls.s1.login(B_EMAIL, pn.ADMIN_PASSWORD)
        cls.member = cls.s1.login(M_EMAIL, pn.ADMIN_PASSWORD)
        cls.open = []

    @classmethod
    def tearDownClass(cls):
        codes = [cls.s1.stop(), cls.s2.stop()]
        cls.db.drop()
        assert codes == [0, 0], f"exit codes {codes}\n{cls.s1.log_text()}\n{cls.s2.log_text()}"

    def tearDown(self):
        for s in self.open:
            s.close()
        self.open.clear()

    def subscribe(self, srv, token, query="", **kw):
        s = SSE(srv.port, token, query, **kw)
        self.open.append(s)
        self.assertEqual(s.read_head(), 200, s.body)
        self.assertTrue(s.headers["content-type"].startswith("text/event-stream"))
        s.wait_for(lambda x: "connected" in x.comments, 5)
        self.assertIn("connected", s.comments)
        return s

    def greet(self, srv, token, n=1):
        """n greetings (each one audit row, so one audit event); the greeting ids."""
        ids = []
        for i in range(n):
            r = srv.request("POST", "/api/v1/hello/greetings", {"message": f"m{i}"}, token=token)
            self.assertEqual(r.status, 201, r)
            ids.append(r.doc["data"]["id"])
        return ids

    @staticmethod
    def greetings(s, actor):
        return [e for e in s.events if e["data"]["channel"] == "audit"
                and e["data"]["data"]["action"] == "hello.greetings.create"
                and e["data"]["data"]["user_id"] == actor]

    def test_cross_instance_delivery(self):
        sub = self.subscribe(self.s2, self.admin, "?channels=audit")
        self.greet(self.s1, self.admin)
        self.assertTrue(sub.wait_for(lambda x: self.greetings(x, self.admin_id)), sub.events)
        ev = self.greetings(sub, self.admin_id)[0]
        d = ev["data"]
        self.assertEqual(d["id"], ev["id"])
        self.assertEqual(d["channel"], "audit")
        self.assertEqual(d["type"], "audit_log.created")
        self.assertEqual(d["account_id"], self.account)
        self.assertEqual(d["permission"], "admin.audit_logs.read")
        self.assertEqual(d["data"]["result"], "success")
        # The row it describes exists.
        self.assertEqual(self.db.query(
            f"SELECT action FROM audit_logs WHERE id = '{d['data']['id']}'"),
            "hello.greetings.create")

    def test_row_written_in_a_transaction_published_after_commit(self):
        # A sign-in writes its audit row inside the transaction that also stores the refresh
        # token: the event follows once the request is over and the row is committed.
        sub = self.subscribe(self.s2, self.admin, "?channels=audit")
        self.s1.login(M_EMAIL, pn.ADMIN_PASSWORD)
        logins = lambda x: [e for e in x.events if e["data"]["data"]["action"] == "auth.login"]
        self.assertTrue(sub.wait_for(lambda x: logins(x)), sub.events)
        row = logins(sub)[0]["data"]["data"]
        self.assertEqual(row["result"], "success")
        self.assertEqual(self.db.query(f"SELECT action FROM audit_logs WHERE id = '{row['id']}'"),
                         "auth.login")

    def test_other_account_and_missing_permission_receive_nothing(self):
        a_sub = self.subscribe(self.s2, self.admin)
        b_sub = self.subscribe(self.s2, self.b)
        b_sub1 = self.subscribe(self.s1, self.b, "?channels=audit")
        m_sub = self.subscribe(self.s2, self.member)
        self.greet(self.s1, self.admin, 3)
        self.assertTrue(a_sub.wait_for(lambda x: len(self.greetings(x, self.admin_id)) == 3))
        for s in (b_sub, b_sub1, m_sub):
            s.pump(0.5)  # anything in flight has arrived by now (the admin's already did)
        self.assertEqual(b_sub.events, [])
        self.assertEqual(b_sub1.events, [])
        # The member lacks admin.audit_logs.read: no audit event. It does hold
        # hello.greetings.read, so the example plugin's own events for its account reach it.
        self.assertEqual([e for e in m_sub.events if e["data"]["channel"] == "audit"], [])
        self.assertEqual({e["data"]["channel"] for e in m_sub.events}, {"hello.greetings"})
        # Positive controls: B's own action reaches B, and not A.
        before = len(a_sub.events)
        m_before = len(m_sub.events)
        self.greet(self.s2, self.b)
        b_id = self.s1.request("GET", "/api/v1/auth/me", token=self.b).doc["data"]["user"]["id"]
        self.assertTrue(b_sub1.wait_for(lambda x: self.greetings(x, b_id)))
        self.assertTrue(b_sub.wait_for(lambda x: self.greetings(x, b_id)))
        a_sub.pump(0.5)
        self.assertEqual(len(a_sub.events), before)
        m_sub.pump(0.5)
        self.assertEqual(len(m_sub.events), m_before)
        # Asking by name for a channel one may not see is refused.
        s = SSE(self.s1.port, self.member, "?channels=audit")
        self.open.append(s)
        self.assertEqual(s.read_head(), 403, s.body)

    def test_refusals(self):
        for token, query, status in ((None, "", 401), (self.admin, "?channels=nope", 422),
                                     (self.admin, "?channels=Hello.x", 422),
                                     (self.admin, "?last_event_id=abc", 422)):
            s = SSE(self.s1.port, token, query)
            self.open.append(s)
            self.assertEqual(s.read_head(), status, (query, s.body))
            doc = json.loads(s.body)
            self.assertIs(doc["success"], False)
        s = SSE(self.s1.port, self.admin, "", headers={"Last-Event-ID": "1-x"})
        self.open.append(s)
        self.assertEqual(s.read_head(), 422, s.body)

    def test_last_event_id_resumes_without_gaps_or_duplicates(self):
        watcher = self.subscribe(self.s1, self.admin, "?channels=audit")  # connected throughout
        sub = self.subscribe(self.s2, self.admin, "?channels=audit")
        self.greet(self.s1, self.admin)
        self.assertTrue(sub.wait_for(lambda x: self.greetings(x, self.admin_id)))
        last = sub.events[-1]["id"]
        sub.close()
        # Missed while away, published on both instances.
        self.greet(self.s1, self.admin, 3)
        self.greet(self.s2, self.admin, 3)
        self.assertTrue(watcher.wait_for(lambda x: len(self.greetings(x, self.admin_id)) >= 7))
        # Resume on the other instance, once by header and once by query parameter.
        for srv, kw in ((self.s1, {"headers": {"Last-Event-ID": last}}),
                        (self.s2, {"query": f"?channels=audit&last_event_id={last}"})):
            query = kw.pop("query", "?channels=audit")
            again = self.subscribe(srv, self.admin, query, **kw)
            seen = [e["id"] for e in watcher.events]
            missed = seen[seen.index(last) + 1:]
            self.assertTrue(again.wait_for(lambda x: len(x.events) >= len(missed)))
            self.assertEqual([e["id"] for e in again.events], missed)
            # Then live, with nothing repeated.
            self.greet(self.s2, self.admin)
            self.assertTrue(again.wait_for(lambda x: len(x.events) == len(missed) + 1))
            self.assertTrue(watcher.wait_for(lambda x: x.events[-1]["id"] == again.events[-1]["id"]))
            again.pump(0.3)
            ids = [e["id"] for e in again.events]
            self.assertEqual(len(ids), len(set(ids)))
            self.assertEqual(ids, [e["id"] for e in watcher.events][seen.index(last) + 1:])

    def test_heartbeats(self):
        sub = self.subscribe(self.s1, self.member)
        self.assertTrue(sub.wait_for(lambda x: x.comments.count("heartbeat") >= 3, 5),
                        sub.comments)
        self.assertFalse(sub.ended)

    def test_streams_per_user_capped(self):
        subs = [self.subscribe(self.s1, self.member) for _ in range(4)]
        s = SSE(self.s1.port, self.member)
        self.open.append(s)
        self.assertEqual(s.read_head(), 429, s.body)
        self.assertEqual(s.headers.get("retry-after"), "5")
        # Another instance counts its own; another user is not affected.
        self.subscribe(self.s2, self.member)
        self.subscribe(self.s1, self.admin)
        # A closed stream frees its place (once the server noticed).
        subs[0].close()
        deadline = time.monotonic() + 5
        while True:
            s = SSE(self.s1.port, self.member)
            self.open.append(s)
            if s.read_head() == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(s.status, 200)

    def test_streams_per_instance_capped(self):
        s3 = pn.Server(self.db, CONFIG + "  max_streams: 2\n")
        try:
            self.subscribe(s3, self.admin)
            self.subscribe(s3, self.member)
            s = SSE(s3.port, self.b)
            self.open.append(s)
            self.assertEqual(s.read_head(), 503, s.body)
            self.assertEqual(s.headers.get("retry-after"), "10")
            self.assertIn(b"maximum of 2 event streams", s.body)
            # Ordinary requests still get through while the streams are held.
            self.assertEqual(s3.request("GET", "/api/v1/auth/me", token=self.b).status, 200)
        finally:
            for x in self.open:
                x.close()
            self.open.clear()
            self.assertEqual(s3.stop(), 0)

    def flood(self, srv, n, target):
        """n refused PATCHes: each writes an audit row whose target is `target`, so each
        publishes an audit event of about len(target) bytes."""
        conn = None
        try:
            for _ in range(n):
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15)
                conn.request("PATCH", f"/api/v1/users/{target}", body=b'{"name":"x"}',
                             headers={"Authorization": "Bearer " + self.admin,
                                      "Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                self.assertIn(r.status, (404, 422))
                if (r.getheader("Connection") or "").lower() == "close":
                    conn.close()
                    conn = None
        finally:
            if conn:
                conn.close()

    def test_slow_consumer_dropped_with_bounded_rss(self):
        target = "x" * 60000
        # Warm up: the same load without a subscriber, so pools and caches are grown first.
        self.flood(self.s1, 100, target)
        time.sleep(0.5)
        rss0 = rss_kib(self.s2.proc.pid)
        slow = SSE(self.s2.port, self.admin, "?channels=audit", rcvbuf=4096)
        self.open.append(slow)
        self.assertEqual(slow.read_head(), 200)
        time.sleep(0.3)
        # ~60 KiB per event: 500 of them offer the subscriber that never reads ~29 MiB; the
        # server may hold 128 KiB (events.max_pending) for it.
        self.flood(self.s1, 500, target)
        time.sleep(1)
        rss1 = rss_kib(self.s2.proc.pid)
        # Dropped: reading now ends at EOF after a bounded amount.
        # Bounded in time and bytes: a stream still open keeps sending heartbeats.
        got, eof = 0, False
        deadline = time.monotonic() + 10
        slow.sock.settimeout(2)
        while not eof and time.monotonic() < deadline and got < 64 * 1024 * 1024:
            try:
                c = slow.sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                c = b""
            eof = not c
            got += len(c)
        self.assertTrue(eof, "the slow subscriber's stream was not closed")
        self.assertLess(got, 2 * 1024 * 1024, "the server kept sending to a dropped stream")
        self.assertLess(rss1 - rss0, 10 * 1024, f"RSS grew from {rss0} to {rss1} KiB")
        self.assertIn("stream dropped", self.s2.log_text())
        self.assertEqual(self.s2.request("GET", "/health").status, 200)

    def test_zz_stop_ends_streams_at_once(self):
        s3 = pn.Server(self.db, CONFIG)
        try:
            sub = self.subscribe(s3, self.admin)
            t0 = time.monotonic()
            code = s3.stop()
            took = time.monotonic() - t0
            self.assertEqual(code, 0)
            self.assertLess(took, 5, "the stop waited for the open stream")
            self.assertTrue(sub.wait_for(lambda x: x.ended, 5))
        finally:
            s3.stop()


if __name__ == "__main__":
    pn.main()
