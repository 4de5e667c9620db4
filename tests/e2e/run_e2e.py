"""Run one e2e spec of the web UI against a real server: a fresh database, the server with the
storage and files plugins serving frontend/dist, an admin, and (when the users routes exist) a
member with a restricted role; for the specs in WORKER_SPECS also a real powernode-worker with
the files job plugin beside it (same queue Redis, the server's service-token secret,
BACKEND_API_URL of the server), so uploads get their thumbnails. Then
`node tests/e2e/<spec>.mjs <base-url>` drives Debian's chromium through playwright-core.
Fails when the spec fails, the server or the worker exits non-zero, or something is missing.

Usage: python3 run_e2e.py <spec>     (spec: shell, files, queues)
Environment: as the integration tests (PN_TEST_DATABASE_URL, PN_TEST_REDIS_URL, PN_BUILD_DIR,
PN_SOURCE_DIR); the job queue database is DB $PN_TEST_E2E_QUEUES_DB (default 11) of the test
Redis, flushed before and after; screenshots go to $PN_BUILD_DIR/e2e/<spec>/ (or $PN_E2E_OUT_DIR/<spec>/).
The worker is $PN_WORKER_BIN (default $PN_BUILD_DIR/bin/powernode-worker) with the job plugin
$PN_WORKER_FILES_JOBS (default $PN_BUILD_DIR/worker/jobs/files.so).
"""
import os
import json
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import pn  # noqa: E402

QUEUES_DB = int(os.environ.get("PN_TEST_E2E_QUEUES_DB", "11"))
MEMBER_EMAIL = "member@example.test"
MEMBER_PASSWORD = "member password for e2e 7"
SPEC_TIMEOUT = 600
# Specs that need file processing (thumbnails) get a worker (PN_E2E_WORKER=1: any spec); the
# queues spec must not have one (its seeded jobs would be consumed).
WORKER_SPECS = {"files"}
# pn.base_env gives the server this service-token secret (auth.service_secret).
SERVICE_SECRET = "w" * 40


def fail(msg):
    print("e2e: " + msg, file=sys.stderr)
    sys.exit(1)


def preflight(spec_path, ui):
    if not os.path.isfile(spec_path):
        fail(f"no spec {spec_path}")
    if not os.path.isfile(os.path.join(ui, "index.html")):
        fail(f"{ui}/index.html is missing: build the UI first (cd frontend && npm ci && npm run build)")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        fail("tests/e2e/node_modules is missing: run `npm ci` in tests/e2e")
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        fail(f"{chromium} not found: apt-get install -y chromium")
    if shutil.which("node") is None:
        fail("node is not installed")


def create_member(srv, token):
    """A member whose role allows files and the own audit log, nothing administrative.
    Returns False when the server has no users routes yet."""
    r = srv.request("GET", "/api/v1/roles", token=token)
    if r.status == 404:
        return False
    if r.status != 200:
        fail(f"GET /api/v1/roles: {r}")
    perms = ["auth.me.read", "auth.self.manage", "files.files.read", "files.files.create",
             "files.files.download", "audit.logs.read"]
    registry = srv.request("GET", "/api/v1/permissions", token=token)
    if registry.status == 200:
        known = {p["name"] for c in registry.doc["data"] for p in c["permissions"]}
        perms = [p for p in perms if p in known]
    r = srv.request("POST", "/api/v1/roles", {"name": "e2e-restricted", "description":
                                               "Files and own activity only",
                                               "permissions": perms}, token=token)
    if r.status not in (200, 201):
        fail(f"create role: {r}")
    role_id = r.doc["data"]["id"]
    r = srv.request("POST", "/api/v1/users", {"email": MEMBER_EMAIL, "name": "E2E Member",
                                               "password": MEMBER_PASSWORD, "status": "active",
                                               "roles": [role_id]}, token=token)
    if r.status not in (200, 201):
        fail(f"create member: {r}")
    return True


def queue_url():
    """The job queue database of the e2e server: its own Redis DB on the test Redis."""
    p = urllib.parse.urlsplit(pn.need("PN_TEST_REDIS_URL"))
    return urllib.parse.urlunsplit((p.scheme, p.netloc, f"/{QUEUES_DB}", "", ""))


def redis(url, *args):
    out = subprocess.run(["redis-cli", "-u", url, *args], capture_output=True, text=True,
                         timeout=30)
    if out.returncode != 0 or out.stdout.startswith("ERR"):
        fail(f"redis-cli {args[0]}: {out.stdout}{out.stderr}")
    return out.stdout.strip()


def seed_queues(url):
    """Sidekiq-format jobs: one dead, one retry, one scheduled, two waiting in 'default'."""
    now = time.time()
    def job(jid, cls, **extra):
        j = {"class": cls, "queue": "default", "args": [jid[:4], 42], "jid": jid, "retry": 3,
             "created_at": now - 600, "enqueued_at": now - 600}
        j.update(extra)
        return json.dumps(j)
    redis(url, "ZADD", "dead", str(now - 60), job("d" * 24, "E2eDeadJob", retry_count=3,
          error_class="RuntimeError", error_message="boom in e2e", failed_at=now - 60))
    redis(url, "ZADD", "retry", str(now + 3600), job("e" * 24, "E2eRetryJob", retry_count=1,
          error_class="IOError", error_message="try again", failed_at=now - 30))
    redis(url, "ZADD", "schedule", str(now + 7200), job("f" * 24, "E2eScheduledJob"))
    redis(url, "SADD", "queues", "default")
    for jid in ("a" * 24, "b" * 24):
        redis(url, "LPUSH", "queue:default", job(jid, "E2eWaitingJob"))


class Worker:
    """powernode-worker with the files job plugin, serving file_processing for one server."""

    def __init__(self, base_url, queue_url, workdir):
        build = pn.build_dir()
        self.bin = os.environ.get("PN_WORKER_BIN") or os.path.join(build, "bin", "powernode-worker")
        so = os.environ.get("PN_WORKER_FILES_JOBS") or os.path.join(build, "worker", "jobs", "files.so")
        for path in (self.bin, so):
            if not os.path.exists(path):
                fail(f"{path} is missing: build powernode-worker and job_files in {build} "
                     "(configure with -DPN_WITH_WORKER=ON)")
        jobs = os.path.join(workdir, "jobs")
        os.makedirs(jobs, exist_ok=True)
        cfg = os.path.join(workdir, "worker.yaml")
        with open(cfg, "w") as f:
            f.write("\n".join([
                "name: e2e-worker", "concurrency: 2", "queues:", "  file_processing: 1",
                "plugins:", f"  - {so}", "heartbeat:", "  interval: 1", "  ttl: 5",
                "poll_interval: 0.5", "log_level: info", "server:", "  backoff: 0.1",
                f"tmp_dir: {jobs}", ""]))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PN_WORKER_")}
        env.update({"WORKER_SERVICE_TOKEN": SERVICE_SECRET, "BACKEND_API_URL": base_url,
                    "REDIS_URL": queue_url, "REDIS_QUEUE_URL": queue_url})
        self.logpath = os.path.join(workdir, "worker.log")
        with open(self.logpath, "ab") as log:
            self.proc = subprocess.Popen([self.bin, "--config", cfg], stdout=log,
                                         stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "tag=lifecycle started" in self.log_text():
                return
            if self.proc.poll() is not None:
                fail(f"the worker exited at start ({self.proc.returncode}):\n{self.log_text()[-4000:]}")
            time.sleep(0.05)
        self.proc.kill()
        self.proc.wait(timeout=10)
        fail(f"the worker did not start within 30 s:\n{self.log_text()[-4000:]}")

    def log_text(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """SIGTERM, then the exit code (killed after 30 s: then it is a failure)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                return -9
        return self.proc.returncode


def main():
    if len(sys.argv) != 2:
        fail("usage: run_e2e.py <spec>")
    spec = sys.argv[1]
    src = pn.source_dir()
    ui = os.environ.get("PN_E2E_UI", os.path.join(src, "frontend", "dist"))
    spec_path = os.path.join(HERE, f"{spec}.spec.mjs")
    preflight(spec_path, ui)
    out = os.path.join(os.environ.get("PN_E2E_OUT_DIR") or os.path.join(pn.build_dir(), "e2e"), spec)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out, exist_ok=True)

    qurl = queue_url()
    redis(qurl, "FLUSHDB")
    if spec == "queues":
        seed_queues(qurl)
    db = pn.Database()
    root = tempfile.mkdtemp(prefix="pn-e2e-files-")
    yaml = ("plugins:\n  storage:\n    local_root: %s\n  files:\n    signing_key: %s\n"
            % (root, "s" * 40))
    env = {"POWERNODE_PATHS_UI": ui,
           "POWERNODE_REDIS_QUEUE_URL": qurl,
           # Two-factor secrets are sealed with it; without it the server refuses TOTP set-up.
           "POWERNODE_MASTER_KEY": secrets.token_hex(32),
           "POWERNODE_AUTH_RATE_LIMIT_IP_PER_MINUTE": "100000",
           "POWERNODE_AUTH_RATE_LIMIT_USER_PER_MINUTE": "100000",
           "POWERNODE_HTTP_THREADS": "8", "POWERNODE_DATABASE_POOL_SIZE": "8"}
    srv = None
    worker = None
    try:
        srv = pn.Server(db, yaml, env=env)
        srv.create_admin()
        token = srv.login()
        has_member = create_member(srv, token)
        base = f"http://127.0.0.1:{srv.port}"
        if spec in WORKER_SPECS or os.environ.get("PN_E2E_WORKER") == "1":
            worker = Worker(base, qurl, root + "-worker")
            print(f"e2e: worker pid {worker.proc.pid} serving file_processing", flush=True)
        child_env = dict(os.environ)
        child_env.update({"E2E_OUT_DIR": out, "E2E_ADMIN_EMAIL": pn.ADMIN_EMAIL,
                          "E2E_ADMIN_PASSWORD": pn.ADMIN_PASSWORD,
                          "E2E_WORKER": "1" if worker else "",
                          # The spec may stop the worker (SIGTERM) once it no longer needs it.
                          "E2E_WORKER_PID": str(worker.proc.pid) if worker else ""})
        if has_member:
            child_env.update({"E2E_MEMBER_EMAIL": MEMBER_EMAIL,
                              "E2E_MEMBER_PASSWORD": MEMBER_PASSWORD})
        else:
            print("e2e: the server has no users routes yet; the member scenarios are skipped")
        print(f"e2e: {spec} against {base}, screenshots in {out}", flush=True)
        p = subprocess.run(["node", spec_path, base], cwd=HERE, env=child_env,
                           timeout=SPEC_TIMEOUT)
        wcode = 0
        if worker is not None:
            stopped_w, worker = worker, None
            wcode = stopped_w.stop()
            if p.returncode != 0 or wcode != 0:
                print("---- worker log (tail)\n" + stopped_w.log_text()[-6000:], file=sys.stderr)
        stopped, srv = srv, None
        code = stopped.stop()
        if p.returncode != 0 or code != 0:
            print("---- server log (tail)\n" + stopped.log_text()[-6000:], file=sys.stderr)
        if p.returncode != 0:
            fail(f"spec {spec} failed (exit {p.returncode})")
        if code != 0:
            fail(f"server exited {code} (see its log above)")
        if wcode != 0:
            fail(f"worker exited {wcode} (see its log above)")
        print(f"e2e: {spec} passed")
    finally:
        if worker is not None:
            worker.stop()
            print(worker.log_text()[-4000:], file=sys.stderr)
        if srv is not None:
            srv.stop()
            print(srv.log_text()[-4000:], file=sys.stderr)
        db.drop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(root + "-worker", ignore_errors=True)
        redis(qurl, "FLUSHDB")


if __name__ == "__main__":
    main()
