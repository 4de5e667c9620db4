"""Helpers for test_queues*.py (not a test itself): a small RESP client for the test Redis
(standard library only) on a queue database of the tests' own, and Sidekiq payloads."""
import json
import os
import secrets
import socket
import time
import urllib.parse

import pn

# The queues tests own this database index of PN_TEST_REDIS_URL's server and flush it.
QUEUE_DB = int(os.environ.get("PN_TEST_QUEUES_DB", "12"))


class Redis:
    def __init__(self, db=QUEUE_DB):
        u = urllib.parse.urlsplit(pn.need("PN_TEST_REDIS_URL"))
        if u.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise RuntimeError("PN_TEST_REDIS_URL must be a loopback address")
        self.host, self.port, self.db = u.hostname, u.port or 6379, db
        self.url = f"redis://{self.host}:{self.port}/{db}"
        self.sock = socket.create_connection((self.host, self.port), timeout=10)
        self.buf = b""
        self.cmd("SELECT", str(db))

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError("redis error: " + rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError(f"unexpected reply {line!r}")

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._reply()

    def flush(self):
        """Empties only our own database index."""
        assert self.db not in (0, 1), "never flush the shared databases"
        self.cmd("FLUSHDB")


def jid():
    return secrets.token_hex(12)


def payload(cls="Maintenance::Noop", args=None, queue="default", enqueued_at=None, **extra):
    now = time.time()
    p = {"class": cls, "args": args if args is not None else [], "jid": extra.pop("jid", jid()),
         "queue": queue, "retry": True, "created_at": now,
         "enqueued_at": now if enqueued_at is None else enqueued_at}
    p.update(extra)
    return p


def dumps(p):
    return json.dumps(p, separators=(",", ":"))
