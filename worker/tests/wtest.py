"""Helpers for the worker's integration tests (Python standard library only): a tiny Redis
client, a private redis-server, a worker process wrapper, Sidekiq-format jobs, and the API
stand-in (api_stub.py) started in-process.

Environment: PN_TEST_REDIS_URL (required: a Redis whose database DB this test may flush),
PN_WORKER_BIN, PN_WORKER_JOBS (set by ctest)."""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import api_stub  # noqa: E402

SECRET = "worker-test-secret-0123456789-abcdefghijklmnop"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def need(name):
    v = os.environ.get(name)
    if not v:
        fail(f"{name} is not set. The worker integration tests need a real Redis, e.g. "
             f"PN_TEST_REDIS_URL=redis://127.0.0.1:56999/0 (scripts/test.sh sets it); "
             f"PN_WORKER_BIN and PN_WORKER_JOBS come from ctest.")
    return v


def redis_addr():
    u = urllib.parse.urlparse(need("PN_TEST_REDIS_URL"))
    if u.scheme != "redis":
        fail("PN_TEST_REDIS_URL must be redis://host:port/db for these tests")
    return u.hostname or "127.0.0.1", u.port or 6379, u.password


def worker_bin():
    return need("PN_WORKER_BIN")


def jobs_so():
    return need("PN_WORKER_JOBS")


class Redis:
    """Just enough RESP2 for tests."""

    def __init__(self, host, port, db=0, password=None, timeout=10):
        self.addr = (host, port)
        self.db, self.password, self.timeout = db, password, timeout
        self.sock = None
        self.buf = b""

    def connect(self):
        self.sock = socket.create_connection(self.addr, timeout=self.timeout)
        self.buf = b""
        if self.password:
            self._call("AUTH", self.password)
        if self.db:
            self._call("SELECT", self.db)

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock = None

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("redis closed the connection")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError("bad RESP")

    def _call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return self._read()

    def __call__(self, *args):
        if not self.sock:
            self.connect()
        try:
            return self._call(*args)
        except (ConnectionError, OSError):
            self.close()
            raise

    def pipeline(self, cmds):
        if not self.sock:
            self.connect()
        out = []
        for args in cmds:
            out.append(b"*%d\r\n" % len(args))
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return [self._read() for _ in cmds]


def shared_redis(db):
    """Database db of the Redis in PN_TEST_REDIS_URL, flushed."""
    host, port, pw = redis_addr()
    r = Redis(host, port, db, pw)
    try:
        r("FLUSHDB")
    except OSError as e:
        fail(f"cannot reach the Redis of PN_TEST_REDIS_URL ({host}:{port}): {e}")
    return r, f"redis://{':' + pw + '@' if pw else ''}{host}:{port}/{db}"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class PrivateRedis:
    """A redis-server of our own (for tests that kill it)."""

    def __init__(self, appendonly=False, save=""):
        self.dir = tempfile.mkdtemp(prefix="pnw-redis-")
        self.port = free_port()
        self.appendonly = appendonly
        self.save = save  # RDB save points, e.g. Debian's "3600 1 300 100 60 10000"
        self.proc = None
        self.start()

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                "--save", self.save, "--appendonly", "yes" if self.appendonly else "no",
                "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"]
        with open(os.path.join(self.dir, "log"), "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        r = Redis("127.0.0.1", self.port)
        for _ in range(100):
            try:
                if r("PING") == "PONG":  # not LOADING
                    r.close()
                    return
            except (OSError, RuntimeError):
                r.close()
            time.sleep(0.05)
        fail("private redis-server did not start")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db=0):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db=1):
        return Redis("127.0.0.1", self.port, db)


def jid():
    return secrets.token_hex(12)


def job(cls, args, queue="default", retry=None, j=None):
    p = {"retry": True if retry is None else retry, "queue": queue, "class": cls, "args": args,
         "jid": j or jid(), "created_at": time.time(), "enqueued_at": time.time()}
    return json.dumps(p, separators=(",", ":"))


def push(r, payloads, queue="default"):
    """LPUSH in batches, like Sidekiq's client (SADD queues + LPUSH queue:<q>)."""
    r("SADD", "queues", queue)
    for i in range(0, len(payloads), 1000):
        r("LPUSH", "queue:" + queue, *payloads[i:i + 1000])


class Worker:
    """A powernode-worker process with a generated config."""

    def __init__(self, redis_url, extra="", concurrency=4, queues=None, plugins=None,
                 env=None, name="w", hb=(0.5, 2), server_url=None, log_level="info", tmp=None,
                 server_opts=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="pnw-worker-")
        self.cfg = os.path.join(self.tmp, f"{name}.yaml")
        self.logpath = os.path.join(self.tmp, f"{name}.log")
        queues = queues or {"default": 1}
        plugins = plugins or [jobs_so()]
        lines = [f"name: {name}", f"concurrency: {concurrency}", "queues:"]
        lines += [f"  {q}: {w}" for q, w in queues.items()]
        lines += ["plugins:"] + [f"  - {p}" for p in plugins]
        lines += ["redis:", f"  url: {redis_url}", f"  queue_url: {redis_url}",
                  "heartbeat:", f"  interval: {hb[0]}", f"  ttl: {hb[1]}",
                  "poll_interval: 0.2", f"log_level: {log_level}", "server:",
                  f"  url: {server_url or 'http://127.0.0.1:9'}", "  backoff: 0.05"]
        lines += [f"  {k}: {v}" for k, v in (server_opts or {}).items()]
        lines += [
                  "job_plugins:", "  maintenance:", "    test_hooks: 'true'"]
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n" + extra)
        self.env = dict(os.environ, **{"WORKER_SERVICE_TOKEN": SECRET, **(env or {})})
        for k in ("REDIS_URL", "REDIS_QUEUE_URL", "BACKEND_API_URL"):
            self.env.pop(k, None)
        self.proc = None
        self.starts = 0

    def start(self, wait_identity=None):
        with open(self.logpath, "ab") as log:
            self.proc = subprocess.Popen([worker_bin(), "--config", self.cfg], stdout=log,
                                         stderr=subprocess.STDOUT, env=self.env)
        self.starts += 1
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.log_text().count("tag=lifecycle started") >= self.starts:
                return self
            if self.proc.poll() is not None:
                raise AssertionError("worker exited at start:\n" + self.log_text())
            time.sleep(0.05)
        raise AssertionError("worker did not start:\n" + self.log_text())

    def identity(self):
        for line in reversed(self.log_text().splitlines()):
            if "tag=lifecycle started identity=" in line:
                return line.split("identity=")[1].split()[0]
        return None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=60):
        return self.proc.wait(timeout)

    def stop(self, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return -9
        return self.proc.returncode if self.proc else None

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)

    def log_text(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def check_sanitizers(self, allow=()):
        """Fails on any sanitizer report, except lines containing one of allow (tests that
        drive an isolated child into its memory limit expect the allocator's report)."""
        t = self.log_text()
        for line in t.splitlines():
            if any(b in line for b in ("ERROR: AddressSanitizer", "runtime error:",
                                       "ERROR: LeakSanitizer")) and \
                    not any(a in line for a in allow):
                raise AssertionError(f"sanitizer report in the worker log:\n{t[-4000:]}")


def finish(worker, api=None, allow=()):
    """A test class's teardown: stop the worker (and the API stand-in), then fail on a
    sanitizer report or a non-zero exit."""
    rc = worker.stop()
    if api:
        api.shutdown()
    worker.check_sanitizers(allow=allow)
    assert rc == 0, f"worker exit {rc}\n{worker.log_text()[-3000:]}"


def dead_by_jid(r, j):
    """The dead-set entry of job j, or None."""
    for x in r("ZRANGE", "dead", 0, -1):
        d = json.loads(x)
        if d["jid"] == j:
            return d
    return None


def wait_for(cond, timeout, what, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def start_api():
    return api_stub.start(SECRET)
