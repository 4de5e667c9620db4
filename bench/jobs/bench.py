"""bench/jobs driver: drains N no-op jobs and M one-HTTP-call jobs with powernode-worker and with
Sidekiq 6.4 at the same concurrency, on one private Redis, and prints jobs/s, peak RSS and
the ratios (median of BENCH_RUNS runs). Standard library only. See bench/jobs/README.md."""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "worker", "tests"))
from wtest import Redis, free_port  # noqa: E402

CONC = int(os.environ.get("BENCH_CONCURRENCY", 10))
N_NOOP = int(os.environ.get("BENCH_NOOP_JOBS", 20000))
N_HTTP = int(os.environ.get("BENCH_HTTP_JOBS", 5000))
RUNS = int(os.environ.get("BENCH_RUNS", 3))
WORKER = os.environ["BENCH_WORKER_BIN"]
JOBS_SO = os.environ["BENCH_WORKER_JOBS"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Procs:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="pn-bench-jobs-")
        os.chmod(self.tmp, 0o755)
        self.procs = []

    def spawn(self, args, name, env=None):
        with open(os.path.join(self.tmp, name + ".log"), "ab") as out:
            p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env,
                                 start_new_session=True)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=30):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def cleanup(self):
        for p in self.procs:
            self.stop(p, timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)


def wait_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def mem_kb(pid):
    """Peak RSS (VmHWM) and the private anonymous part now (RssAnon): shared library pages
    count in RSS but not in RssAnon."""
    try:
        with open(f"/proc/{pid}/status") as f:
            t = f.read()
        return tuple(int(re.search(rf"{k}:\s+(\d+) kB", t).group(1)) for k in ("VmHWM", "RssAnon"))
    except (OSError, AttributeError):
        return 0, 0


def payloads(cls, n):
    """The jobs' Sidekiq payloads in LPUSH batches of 2,000, built before the clock starts: the
    producer is the same Python for both workers, and making 20,000 JSON documents in Python
    takes a good part of the time our worker needs to run them."""
    now = time.time()
    return [[json.dumps({"retry": True, "queue": "default", "class": cls,
                         "args": ["/api/v1/worker/ping", k] if "Http" in cls or
                         "ApiCall" in cls else [k],
                         "jid": secrets.token_hex(12), "created_at": now,
                         "enqueued_at": now}, separators=(",", ":"))
             for k in range(i, min(n, i + 2000))]
            for i in range(0, n, 2000)]


def push(r, batches):
    r("SADD", "queues", "default")
    for batch in batches:
        r("LPUSH", "queue:default", *batch)


def drained(r):
    if r("LLEN", "queue:default") != 0:
        return False
    return not any(r("LLEN", k) for k in r("KEYS", "pn:working:*"))


def run_one(P, r, impl, kind, port, http_url):
    r("FLUSHDB")
    env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{port}/1",
               BENCH_HTTP_URL=http_url, WORKER_SERVICE_TOKEN="bench-secret-" + "x" * 32)
    if impl == "powernode":
        cfg = os.path.join(P.tmp, "worker.yaml")
        with open(cfg, "w") as f:
            f.write(f"concurrency: {CONC}\nqueues: [default]\nplugins:\n  - {JOBS_SO}\n"
                    f"redis:\n  url: redis://127.0.0.1:{port}/0\n"
                    f"server:\n  url: {http_url.rsplit('/api', 1)[0]}\n"
                    "log_level: warn\nrunaway:\n  max_runs: 32\n"
                    "job_plugins:\n  maintenance:\n    ping_path: /api/v1/worker/ping\n" +
                    os.environ.get("BENCH_WORKER_YAML", ""))
        p = P.spawn([WORKER, "--config", cfg], f"{impl}-{kind}", env)
        cls = "Maintenance::Noop" if kind == "noop" else "Maintenance::ApiCall"
        ready = lambda: r("SCARD", "processes") == 1  # noqa: E731
    else:
        p = P.spawn(["sidekiq", "-r", os.path.join(HERE, "sidekiq_jobs.rb"), "-c", str(CONC),
                     "-q", "default", "-t", "5"], f"{impl}-{kind}", env)
        cls = "BenchNoop" if kind == "noop" else "BenchHttp"
        ready = lambda: r("SCARD", "processes") == 1  # noqa: E731
    deadline = time.time() + 30
    while not ready():
        if p.poll() is not None or time.time() > deadline:
            raise SystemExit(f"{impl} did not start; see {P.tmp}/{impl}-{kind}.log")
        time.sleep(0.05)
    time.sleep(0.3)
    n = N_NOOP if kind == "noop" else N_HTTP
    batches = payloads(cls, n)
    t0 = time.time()
    push(r, batches)
    deadline = t0 + 300
    while not drained(r):
        if time.time() > deadline:
            raise SystemExit(f"{impl} {kind}: not drained in 300 s")
        time.sleep(0.005)
    dt = time.time() - t0
    rss, anon = mem_kb(p.pid)
    P.stop(p)
    dead = r("ZCARD", "dead") + r("ZCARD", "retry")
    if dead:
        raise SystemExit(f"{impl} {kind}: {dead} jobs failed; see {P.tmp}")
    return n / dt, rss / 1024, anon / 1024


def main():
    P = Procs()
    try:
        port = free_port()
        P.spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", P.tmp, "--maxmemory-policy", "noeviction"],
                "redis")
        wait_port(port)
        hport = free_port()
        conf = os.path.join(P.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"worker_processes 1;\ndaemon off;\npid {P.tmp}/nginx.pid;\n"
                    f"error_log {P.tmp}/nginx-error.log;\nevents {{ worker_connections 1024; }}\n"
                    f"http {{ access_log off; client_body_temp_path {P.tmp};\n"
                    f"  server {{ listen 127.0.0.1:{hport}; keepalive_requests 1000000;\n"
                    "    location / { default_type application/json;\n"
                    "      return 200 '{\"data\":{\"pong\":true}}'; } } }\n")
        P.spawn(["nginx", "-c", conf, "-p", P.tmp], "nginx")
        wait_port(hport)
        http_url = f"http://127.0.0.1:{hport}/api/v1/worker/ping"
        r = Redis("127.0.0.1", port, 1)
        results = {}
        for kind in ("noop", "http"):
            for impl in os.environ.get("BENCH_IMPLS", "sidekiq,powernode").split(","):
                runs = []
                for i in range(RUNS):
                    jps, rss, anon = run_one(P, r, impl, kind, port, http_url)
                    log(f"  {impl:9} {kind:4} run {i + 1}: {jps:9.0f} jobs/s  peak RSS "
                        f"{rss:6.1f} MiB  anon {anon:6.1f} MiB")
                    runs.append((jps, rss, anon))
                results[(impl, kind)] = tuple(statistics.median(x[k] for x in runs)
                                              for k in range(3))
        print(f"\nbench/jobs: concurrency {CONC}, {N_NOOP} no-op and {N_HTTP} HTTP jobs, "
              f"median of {RUNS} runs, one private Redis, reliable fetch on (powernode)")
        print(f"{'':22}{'sidekiq 6.4':>14}{'powernode':>14}{'ratio':>9}")
        for kind, label in (("noop", "no-op jobs/s"), ("http", "HTTP jobs/s")):
            s, p = results[("sidekiq", kind)][0], results[("powernode", kind)][0]
            print(f"{label:22}{s:14.0f}{p:14.0f}{p / s:8.1f}x")
        for kind in ("noop", "http"):
            s, p = results[("sidekiq", kind)][1], results[("powernode", kind)][1]
            print(f"{'peak RSS MiB (' + kind + ')':22}{s:14.1f}{p:14.1f}{p / s:8.2f}x")
        for kind in ("noop", "http"):
            s, p = results[("sidekiq", kind)][2], results[("powernode", kind)][2]
            print(f"{'anon RSS MiB (' + kind + ')':22}{s:14.1f}{p:14.1f}{p / s:8.2f}x")
        goals = [results[("powernode", "noop")][0] >= 5 * results[("sidekiq", "noop")][0],
                 results[("powernode", "http")][0] >= 3 * results[("sidekiq", "http")][0],
                 all(results[("powernode", k)][1] <= results[("sidekiq", k)][1] / 5
                     for k in ("noop", "http"))]
        print(f"goals (>=5x no-op, >=3x HTTP, <=1/5 memory): "
              f"{' '.join('met' if g else 'MISSED' for g in goals)}")
        if os.environ.get("BENCH_STRICT") == "1" and not all(goals):
            sys.exit(1)
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            P.cleanup()


if __name__ == "__main__":
    main()
