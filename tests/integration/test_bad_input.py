"""Bad input over real sockets (RELIABILITY C4-C6, C26): malformed request lines, oversized
heads and bodies, smuggling framings, bad JSON, wrong content types and slow clients. Each gets
its documented status in the error envelope, ambiguous framing closes the connection, and the
server keeps serving everyone else."""
import json
import socket
import threading
import time
import unittest

import pn

CANARY = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"


def status_of(resp):
    try:
        return int(resp.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def body_of(resp):
    return resp.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in resp else b""


class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()
        cls.srv = pn.Server(cls.db, "http:\n  head_timeout: 2\n  body_timeout: 2\n"
                                    "  max_connections: 400\n")
        cls.srv.create_admin()
        cls.token = cls.srv.login()

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.db.drop()
        assert code == 0, f"exit {code}\n{cls.srv.log_text()}"

    def assert_alive(self):
        r = self.srv.request("GET", "/health")
        self.assertEqual(r.status, 200)

    def expect(self, payload, status, closed=None):
        resp, was_closed = self.srv.raw(payload, timeout=5,
                                        read_all=True if closed else "one")
        self.assertEqual(status_of(resp), status, (payload[:120], resp[:300]))
        if status >= 400:
            doc = json.loads(body_of(resp))
            self.assertIs(doc["success"], False)
            self.assertIsInstance(doc["details"], list)
        if closed is not None:
            self.assertEqual(was_closed, closed, (payload[:120], resp[:300]))
        self.assert_alive()
        return resp

    def test_malformed_request_lines(self):
        for line in [b"GET\r\n\r\n", b"GET / HTTP/1.1 extra\r\n\r\n", b"GET  / HTTP/1.1\r\n\r\n",
                     b"G@T / HTTP/1.1\r\n\r\n", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
                     b"\x00\x01\x02\r\n\r\n", b"GET /\x00 HTTP/1.1\r\n\r\n",
                     b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                     b"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n"]:
            resp, _ = self.srv.raw(line, timeout=5)
            st = status_of(resp)
            self.assertIsNotNone(st, (line, resp))
            self.assertTrue(400 <= st < 600 and st != 500, (line, resp[:200]))
        self.assert_alive()

    def test_smuggling_framings_refused_and_closed(self):
        corpus = [
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
            b"Content-Length: 5\r\n\r\nabcde",
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 5\r\n\r\nabcde",
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity"
            b"\r\n\r\n0\r\n\r\n",
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n"
            b"0\r\n\r\n",
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n",
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999"
            b"999\r\n\r\n",
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"fffffffffffffffffff\r\n",
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
        ]
        for payload in corpus:
            resp, closed = self.srv.raw(payload + CANARY, timeout=5)
            st = status_of(resp)
            self.assertIsNotNone(st, payload)
            self.assertTrue(400 <= st <= 501 and st != 500, (payload, resp[:200]))
            # The canary must not be answered on the same connection: the server closed it.
            self.assertEqual(resp.count(b"HTTP/1.1 "), 1, (payload, resp[:400]))
            self.assertTrue(closed, payload)
            self.assert_alive()

    def test_header_limits(self):
        big = b"X-Big: " + b"a" * (20 * 1024) + b"\r\n"
        self.expect(b"GET /health HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n", 431)
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(101))
        self.expect(b"GET /health HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n", 431)
        block = b"".join(b"X-B%d: %s\r\n" % (i, b"b" * 1000) for i in range(64))
        self.expect(b"GET /health HTTP/1.1\r\nHost: x\r\n" + block + b"\r\n", 431)
        self.expect(b"GET /" + b"u" * (16 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414)
        ok = b"X-Ok: " + b"o" * (9 * 1024) + b"\r\n"
        self.expect(b"GET /health HTTP/1.1\r\nHost: x\r\n" + ok + b"\r\n", 200)

    def test_body_over_route_limit_is_413_before_reading(self):
        # hello's create route caps bodies at 16 KiB; announce 10 MiB and send nothing.
        payload = (b"POST /api/v1/hello/greetings HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   b"application/json\r\nContent-Length: 10485760\r\nAuthorization: Bearer "
                   + self.token.encode() + b"\r\n\r\n")
        t0 = time.monotonic()
        self.expect(payload, 413, closed=True)
        self.assertLess(time.monotonic() - t0, 3)

    def test_bad_json_bodies(self):
        h = {"Content-Type": "application/json"}
        for body in [b"{", b"{\"message\": \"a\"} trailing", b"\xff\xfe", b"{\"a\":1,\"a\":2}",
                     b"[" * 1000 + b"]" * 1000, b"{\"message\":\"\x00\"}"]:
            r = self.srv.request("POST", "/api/v1/hello/greetings", body=body, headers=h,
                                 token=self.token)
            pn.assert_envelope(self, r, 400)
        self.assert_alive()

    def test_wrong_content_type_is_415(self):
        r = self.srv.request("POST", "/api/v1/hello/greetings", body=b"message=hi",
                             headers={"Content-Type": "application/x-www-form-urlencoded"},
                             token=self.token)
        pn.assert_envelope(self, r, 415)

    def test_missing_body_is_422(self):
        r = self.srv.request("POST", "/api/v1/hello/greetings", token=self.token)
        pn.assert_envelope(self, r, 422)

    def test_slow_header_clients_are_cut_at_the_head_deadline(self):
        n, socks = 60, []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
            s.sendall(b"GET /health HTTP/1.1\r\n")
            socks.append(s)
        stop = time.monotonic() + 6
        results = []

        def drip(s):
            # One byte a second: an inactivity timeout alone would never fire.
            try:
                while time.monotonic() < stop:
                    s.sendall(b"X")
                    time.sleep(1)
            except OSError:
                pass

        threads = [threading.Thread(target=drip, args=(s,)) for s in socks]
        for t in threads:
            t.start()
        for _ in range(10):
            results.append(self.srv.request("GET", "/health", timeout=5).status)
        for t in threads:
            t.join(10)
        cut = 0
        for s in socks:
            s.settimeout(1)
            try:
                data = s.recv(4096)
                if data.startswith(b"HTTP/1.1 408") or data == b"":
                    cut += 1
            except OSError:
                cut += 1
            s.close()
        self.assertEqual(results, [200] * 10)
        self.assertEqual(cut, n)

    def test_static_traversal_refused(self):
        for path in [b"/../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd", b"/..%2f..%2fetc/passwd",
                     b"/.git/config", b"/a/%00/b"]:
            resp, _ = self.srv.raw(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                                   read_all="one")
            self.assertIn(status_of(resp), (400, 404), (path, resp[:200]))
            self.assertNotIn(b"root:", resp)


if __name__ == "__main__":
    pn.main()
