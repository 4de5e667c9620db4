"""bench/files: 1 GiB up and down through the files API (local storage) next to nginx serving
the same file and curl writing it, in one run on loopback. Prints MB/s, the ratios and the
server's RSS growth during each transfer (see README.md). A benchmark, not a test: exit 0
unless something could not run (BENCH_STRICT=1 also exits 1 when an aim is missed)."""
import http.client
import json
import mmap
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import pn  # noqa: E402
import test_files_support as fs  # noqa: E402

MIB = 1 << 20
SIZE = int(os.environ.get("BENCH_SIZE_MIB", "1024")) * MIB
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CHUNK = 16 * MIB  # the plugin's default chunk_max_body
TIMEOUT = 600  # seconds for any one transfer


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Rss:
    """Samples VmRSS of a process every 10 ms while a transfer runs."""

    def __init__(self, pid):
        self.pid, self.peak, self.base = pid, 0, 0
        self.stop_ev = threading.Event()

    def read(self, key="VmRSS"):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def __enter__(self):
        self.base = self.peak = self.read()
        self.stop_ev.clear()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()
        return self

    def loop(self):
        while not self.stop_ev.wait(0.01):
            self.peak = max(self.peak, self.read())

    def __exit__(self, *a):
        self.stop_ev.set()
        self.t.join(5)
        self.peak = max(self.peak, self.read())

    @property
    def growth(self):
        return self.peak - self.base


def curl_get(url, out, headers=()):
    """curl GET into a file; returns seconds, checks the byte count."""
    cmd = ["curl", "-sS", "--fail", "-o", out, "-w", "%{size_download}", "--max-time", str(TIMEOUT)]
    for h in headers:
        cmd += ["-H", h]
    t0 = time.monotonic()
    p = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=TIMEOUT + 10)
    dt = time.monotonic() - t0
    if p.returncode != 0 or int(p.stdout or 0) != SIZE:
        raise RuntimeError(f"curl {url}: rc={p.returncode} got={p.stdout} {p.stderr}")
    return dt


def start_nginx(tmp, docroot):
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off; worker_processes 1; pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
  access_log {tmp}/nginx-access.log; sendfile on; tcp_nopush on;
  client_body_temp_path {tmp}/ngx-body; proxy_temp_path {tmp}/ngx-proxy;
  fastcgi_temp_path {tmp}/ngx-fcgi; uwsgi_temp_path {tmp}/ngx-uwsgi; scgi_temp_path {tmp}/ngx-scgi;
  server {{ listen 127.0.0.1:{port}; root {docroot}; }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("nginx did not start")


def tus_upload(s, src):
    """One file through the resumable protocol in CHUNK-sized PATCHes on one connection."""
    auth = {"Authorization": "Bearer " + s.token, "Tus-Resumable": "1.0.0"}
    conn = http.client.HTTPConnection("127.0.0.1", s.srv.port, timeout=TIMEOUT)
    t0 = time.monotonic()
    conn.request("POST", "/api/v1/files/uploads", b"", headers={
        **auth, "Upload-Length": str(SIZE), "Upload-Metadata": "filename YmVuY2guYmlu"})
    r = conn.getresponse()
    r.read()
    if r.status != 201:
        raise RuntimeError(f"tus create: {r.status}")
    loc = r.getheader("Location")
    off, fid = 0, None
    view = memoryview(src)
    while off < SIZE:
        n = min(CHUNK, SIZE - off)
        conn.request("PATCH", loc, view[off:off + n], headers={
            **auth, "Upload-Offset": str(off), "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(n)})
        r = conn.getresponse()
        body = r.read()
        if r.status != 204:
            raise RuntimeError(f"tus PATCH at {off}: {r.status} {body[:300]!r}")
        off += n
        fid = r.getheader("X-File-Id") or fid
    dt = time.monotonic() - t0
    conn.close()
    if fid is None:
        raise RuntimeError("no X-File-Id after the last chunk")
    return dt, fid


def main():
    for tool in ("nginx", "curl"):
        if shutil.which(tool) is None:
            sys.exit(f"bench/files: {tool} is missing")
    tmp = tempfile.mkdtemp(prefix="pn-bench-files-")
    os.chmod(tmp, 0o755)  # nginx workers may run as nobody
    docroot = os.path.join(tmp, "www")
    os.mkdir(docroot)
    os.chmod(docroot, 0o755)
    srcpath = os.path.join(docroot, "file.bin")
    ngx = s = None
    try:
        with open(srcpath, "wb") as f:  # incompressible bytes, written once
            block = os.urandom(4 * MIB)
            for i in range(SIZE // len(block)):
                f.write(bytes([i & 0xFF]) + block[1:])
            f.write(block[:SIZE % len(block)])
        os.chmod(srcpath, 0o644)
        ngx, nport = start_nginx(tmp, docroot)
        s = fs.FilesServer()
        pid = s.srv.proc.pid
        rss_idle = Rss(pid).read()
        fd = os.open(srcpath, os.O_RDONLY)
        src = mmap.mmap(fd, SIZE, prot=mmap.PROT_READ)
        os.close(fd)
        rawpath = os.path.join(s.root, "raw-write.bin")  # same file system as the storage root
        res = {k: [] for k in ("ngx", "dl", "raw", "up")}
        grow = {"dl": 0, "up": 0}
        for run in range(RUNS):
            # raw write: curl writing the bytes into the storage file system, then fsync (our
            # uploads fsync too)
            t = curl_get(f"http://127.0.0.1:{nport}/file.bin", rawpath)
            t0 = time.monotonic()
            wfd = os.open(rawpath, os.O_RDONLY)
            os.fsync(wfd)
            os.close(wfd)
            res["raw"].append(t + time.monotonic() - t0)
            os.unlink(rawpath)
            with Rss(pid) as m:
                dt, fid = tus_upload(s, src)
            res["up"].append(dt)
            grow["up"] = max(grow["up"], m.growth)
            res["ngx"].append(curl_get(f"http://127.0.0.1:{nport}/file.bin", "/dev/null"))
            with Rss(pid) as m:
                res["dl"].append(curl_get(f"http://127.0.0.1:{s.srv.port}/api/v1/files/{fid}/download",
                                          "/dev/null", [f"Authorization: Bearer {s.token}"]))
            grow["dl"] = max(grow["dl"], m.growth)
            r = s.call("DELETE", f"/api/v1/files/{fid}?permanent=true")
            if r.status not in (200, 204):
                raise RuntimeError(f"delete: {r}")
            print(f"run {run + 1}/{RUNS}: up {SIZE / MIB / dt:.0f} MB/s, "
                  f"down {SIZE / MIB / res['dl'][-1]:.0f} MB/s", file=sys.stderr)
        hwm = Rss(pid).read("VmHWM")
        src.close()
    finally:
        if s is not None:
            s.stop()
            shutil.rmtree(s.root, ignore_errors=True)
        if ngx is not None:
            ngx.terminate()
            ngx.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)

    def rate(k):
        return SIZE / MIB / statistics.median(res[k])

    down, ngxr, up, raw = rate("dl"), rate("ngx"), rate("up"), rate("raw")
    aims = [("download / nginx", down / ngxr, 0.7), ("upload / raw write", up / raw, 0.5)]
    print(f"bench/files: {SIZE // MIB} MiB, median of {RUNS} (MB = MiB)")
    print(f"  download  powernode {down:8.0f} MB/s   nginx     {ngxr:8.0f} MB/s")
    print(f"  upload    powernode {up:8.0f} MB/s   curl+fsync {raw:7.0f} MB/s  (tus, {CHUNK // MIB} MiB chunks)")
    ok = True
    for name, v, aim in aims:
        good = v >= aim
        ok &= good
        print(f"  {name:20s} {v:5.2f}  (aim >= {aim})  {'ok' if good else 'MISSED'}")
    for k, label in (("dl", "download"), ("up", "upload")):
        good = grow[k] < 64 * MIB
        ok &= good
        print(f"  RSS growth during {label:8s} {grow[k] / MIB:6.1f} MiB (aim < 64)  {'ok' if good else 'MISSED'}")
    print(f"  server RSS idle {rss_idle / MIB:.1f} MiB, peak (VmHWM) {hwm / MIB:.1f} MiB")
    print(json.dumps({"size": SIZE, "runs": RUNS, "download_mbs": down, "nginx_mbs": ngxr,
                      "upload_mbs": up, "raw_write_mbs": raw,
                      "rss_growth_download": grow["dl"], "rss_growth_upload": grow["up"],
                      "vmhwm": hwm}))
    if os.environ.get("BENCH_STRICT") == "1" and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
