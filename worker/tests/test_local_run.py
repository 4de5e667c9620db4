"""powernode-worker --run JOB --file PATH --out DIR: the local mode. Usage errors exit 2; an
unknown or ambiguous job exits 2 naming the classes; a maintenance job runs (plugins from
--plugin or from the config); any API call outside the local processing job and its file is
refused (exit 1, reason in result.json), with canary listeners standing in for the server and
Redis seeing no connection; an isolated class still runs in a child with its limits; the files
plugin's thumbnail job on a PNG writes three JPEG thumbnails and result.json (status
transitions, metadata patch, derivatives, outcome); job_parameters from --arg; several files;
the metadata job's SHA-256; a hostile file fails cleanly with exit 1.
Needs no Redis or server. Environment (ctest): PN_WORKER_BIN, PN_WORKER_JOBS (maintenance.so),
PN_WORKER_FILES_JOBS (files.so)."""
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

for _v in ("PN_WORKER_BIN", "PN_WORKER_JOBS", "PN_WORKER_FILES_JOBS"):
    if not os.environ.get(_v):
        print("FAIL: %s is not set (ctest sets it)" % _v, file=sys.stderr)
        sys.exit(1)
W = os.environ["PN_WORKER_BIN"]
MNT = os.environ["PN_WORKER_JOBS"]
FILES = os.environ["PN_WORKER_FILES_JOBS"]
LOCAL_JOB = "10ca1000-0000-4000-8000-000000000001"


def png(path, w, h, declared=None):
    """An RGB gradient PNG written with zlib; declared=(W, H) lies in the header instead."""
    raw = b"".join(b"\0" + b"".join(bytes((x * 255 // w, y * 255 // h, 128)) for x in range(w))
                   for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    dw, dh = declared or (w, h)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", dw, dh, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)
    return data


def noise_png(path, w, h):
    """An RGB PNG of random pixels: it does not compress, so it is about w*h*3 bytes."""
    raw = b"".join(b"\0" + os.urandom(w * 3) for _ in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)
    return data


class LocalRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pn-local-run-")
        # Stand-ins for the server and Redis: local mode must never connect to either.
        cls.canaries = []
        for _ in range(2):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen(8)
            s.setblocking(False)
            cls.canaries.append(s)
        api, red = (c.getsockname()[1] for c in cls.canaries)
        cls.env = {k: v for k, v in os.environ.items()
                   if not k.startswith("PN_WORKER_") and k not in ("REDIS_URL",)}
        cls.env.update(BACKEND_API_URL="http://127.0.0.1:%d" % api,
                       REDIS_URL="redis://127.0.0.1:%d/0" % red,
                       WORKER_SERVICE_TOKEN="local-run-test-secret-0123456789abcdef",
                       PN_WORKER_TMP_DIR=cls.tmp)
        cls.env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        cls.png = os.path.join(cls.tmp, "gradient.png")
        png(cls.png, 640, 480)
        cls.text = os.path.join(cls.tmp, "text.jpg")
        with open(cls.text, "w") as f:
            f.write("this is not a picture\n" * 50)
        cls.huge = os.path.join(cls.tmp, "huge.png")
        png(cls.huge, 4, 4, declared=(50000, 50000))

    @classmethod
    def tearDownClass(cls):
        for c in cls.canaries:
            try:
                c.accept()
                connected = True
            except BlockingIOError:
                connected = False
            c.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert not connected, "a canary standing in for the server or Redis was connected to"

    def run_w(self, *args, timeout=120, env=None):
        p = subprocess.run([W, *args], env=env or self.env, capture_output=True, text=True,
                           timeout=timeout, cwd=self.tmp)
        self.assertNotIn("ERROR: AddressSanitizer", p.stderr)
        self.assertNotIn("runtime error:", p.stderr)
        return p

    def out(self, name):
        d = os.path.join(self.tmp, "out-" + name)
        shutil.rmtree(d, ignore_errors=True)
        return d

    def result(self, d):
        with open(os.path.join(d, "result.json")) as f:
            return json.load(f)

    # ---- usage ----

    def test_usage_errors(self):
        f = self.png
        cases = [
            (["--run", "noop", "--plugin", MNT, "--out", self.out("u1")], "--file"),
            (["--run", "noop", "--plugin", MNT, "--file", f], "--out"),
            (["--file", f, "--out", self.out("u2")], "go with --run"),
            (["--run", "noop", "--plugin", MNT, "--file", f, "--out", self.out("u3"), "--bogus"],
             "unknown argument --bogus"),
            (["--run"], "needs a value"),
            (["--run", "noop", "--plugin", MNT, "--file", os.path.join(self.tmp, "missing"),
              "--out", self.out("u4")], "No such file"),
            (["--run", "noop", "--plugin", MNT, "--file", self.tmp, "--out", self.out("u5")],
             "not a readable regular file"),
            (["--run", "noop", "--plugin", MNT, "--file", f, "--out", f], "not a directory"),
            (["--run", "noop", "--plugin", MNT, "--file", f, "--out", self.out("u6"),
              "--args", "{"], "--args must be a JSON array"),
            (["--run", "Maintenance::Typed", "--plugin", MNT, "--file", f, "--out",
              self.out("u7"), "--args", '["x", "y"]'], "Maintenance::Typed"),
            (["--run", "noop", "--plugin", MNT, "--file", f, "--out", self.out("u8"),
              "--arg", "novalue"], "expected key=value"),
            (["--run", "noop", "--file", f, "--out", self.out("u9")], "no job plugins"),
            (["--run", "noop", "--plugin", os.path.join(self.tmp, "nope.so"), "--file", f,
              "--out", self.out("u10")], "nope.so"),
        ]
        for args, want in cases:
            p = self.run_w(*args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(want, p.stderr, args)

    def test_unknown_and_ambiguous_job(self):
        p = self.run_w("--run", "NoSuchJob", "--plugin", MNT, "--file", self.png,
                       "--out", self.out("unk"))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("unknown job NoSuchJob", p.stderr)
        self.assertIn("Maintenance::Noop", p.stderr)  # names what is loaded
        p = self.run_w("--run", "ab", "--plugin", MNT, "--file", self.png,
                       "--out", self.out("amb"))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("ambiguous", p.stderr)
        self.assertIn("Maintenance::AbortIsolated", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.out("amb"), "result.json")))

    # ---- maintenance jobs ----

    def test_noop_from_config_and_short_names(self):
        cfg = os.path.join(self.tmp, "worker.yaml")
        with open(cfg, "w") as f:
            f.write("plugins:\n  - %s\n" % MNT)
        for name in ("Maintenance::Noop", "noop", "NOOP"):
            d = self.out("noop")
            p = self.run_w("--run", name, "--config", cfg, "--file", self.png, "--out", d)
            self.assertEqual(p.returncode, 0, p.stderr)
            r = self.result(d)
            self.assertEqual((r["job_class"], r["outcome"], r["message"], r["isolated"]),
                             ("Maintenance::Noop", "ok", "", False))
            self.assertEqual((r["status_transitions"], r["derivatives"], r["api_calls"],
                              r["metadata_patch"]), ([], [], [], None))
            self.assertEqual(sorted(os.listdir(d)), ["result.json"])  # journal removed

    def test_other_api_calls_are_refused(self):
        d = self.out("api")
        p = self.run_w("--run", "ApiCall", "--plugin", MNT, "--file", self.png, "--out", d)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("GET /api/v1/worker/ping is not served", p.stderr)
        r = self.result(d)
        self.assertEqual(r["outcome"], "api_error")
        self.assertIn("no server and no network", r["message"])
        self.assertEqual([(c["method"], c["path"], c["status"]) for c in r["api_calls"]],
                         [("GET", "/api/v1/worker/ping", 0)])
        # A mutating call with an idempotency mark (kept in memory, not Redis) is refused too.
        d = self.out("rec")
        p = self.run_w("--run", "Maintenance::RecordJid", "--plugin", MNT, "--file", self.png,
                       "--out", d, "--args", '["ref"]')
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(self.result(d)["api_calls"][0]["method"], "POST")

    def test_isolated_class_keeps_its_limits(self):
        d = self.out("hog")
        p = self.run_w("--run", "HogIsolated", "--plugin", MNT, "--set", "test_hooks=true",
                       "--args", '["cpu"]', "--file", self.png, "--out", d, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        r = self.result(d)
        self.assertTrue(r["isolated"])
        self.assertIn("exceeded the CPU limit of 1 s (isolated child)", r["message"])
        self.assertIn("exceeded the CPU limit", p.stderr)
        # Test hooks are off unless --set turns them on (the plugin's config key).
        d = self.out("hog2")
        p = self.run_w("--run", "HogIsolated", "--plugin", MNT, "--args", '["cpu"]',
                       "--file", self.png, "--out", d)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("test hooks are disabled", self.result(d)["message"])

    # ---- the files plugin ----

    def test_thumbnails_and_result_json(self):
        d = self.out("thumb")
        p = self.run_w("--run", "thumbnail", "--plugin", FILES, "--plugin", MNT,
                       "--file", self.png, "--out", d)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = self.result(d)
        self.assertEqual((r["job_class"], r["outcome"], r["isolated"], r["args"]),
                         ("ThumbnailGenerationJob", "ok", True, [LOCAL_JOB]))
        st = r["status_transitions"]
        self.assertEqual([s["status"] for s in st], ["processing", "completed"])
        thumbs = {t["size"]: (t["width"], t["height"]) for t in st[1]["result_data"]["thumbnails"]}
        self.assertEqual((thumbs["large"], thumbs["medium"], thumbs["small"][0]),
                         ((600, 450), (300, 225), 150))
        self.assertIn(thumbs["small"][1], (112, 113))
        self.assertEqual(r["metadata_patch"], {"dimensions": {"width": 640, "height": 480}})
        names = sorted(x["file"] for x in r["derivatives"])
        self.assertEqual(names, ["thumbnail-large.jpg", "thumbnail-medium.jpg",
                                 "thumbnail-small.jpg"])
        for x in r["derivatives"]:
            with open(os.path.join(d, x["file"]), "rb") as f:
                data = f.read()
            self.assertEqual(data[:3], b"\xff\xd8\xff")
            self.assertEqual((len(data), x["content_type"], x["kind"]),
                             (x["bytes"], "image/jpeg", "thumbnail"))
        self.assertEqual(sorted(os.listdir(d)), ["result.json"] + names)
        # Nothing left in the worker's tmp_dir (the job's workdir is removed).
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith("pn-job-")], [])

    def test_job_parameters_and_several_files(self):
        d = self.out("multi")
        other = os.path.join(self.tmp, "second.png")
        png(other, 100, 200)
        # LeakSanitizer's exit-time scan crashes ("Tracer caught signal 11", a garbage DTLS
        # entry) in a process that loaded libvips through the backend's dlopen and ran it on
        # its own threads: a sanitizer runtime fault, not a leak. This one in-process run goes
        # without the leak scan (ASan and UBSan stay on); test_media checks the same code for
        # leaks in-process, and the other runs here check the isolated child's.
        env = dict(self.env, ASAN_OPTIONS=self.env.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
        p = self.run_w("--run", "ThumbnailGenerationJob", "--plugin", FILES, "--file", self.png,
                       "--file", other, "--out", d, "--arg", 'sizes=["small"]', "--in-process",
                       env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(os.listdir(d)), ["gradient.png", "second.png"])
        for n in ("gradient.png", "second.png"):
            sub = os.path.join(d, n)
            self.assertEqual(sorted(os.listdir(sub)), ["result.json", "thumbnail-small.jpg"])
            r = self.result(sub)
            self.assertFalse(r["isolated"])
            self.assertTrue(r["file"].endswith("/" + n))

    def test_metadata_sha256(self):
        d = self.out("meta")
        p = self.run_w("--run", "metadata", "--plugin", FILES, "--file", self.png, "--out", d)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = self.result(d)
        with open(self.png, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        meta = r["metadata_patch"]["metadata"]
        self.assertEqual((meta["sha256"], meta["size"], meta["mime_type"]),
                         (digest, os.path.getsize(self.png), "image/png"))
        self.assertEqual(r["derivatives"], [])

    def test_metadata_reads_the_head_and_takes_the_upload_checksum(self):
        # Larger than the 128 KiB head: the job fetches the head only and takes the SHA-256
        # from the file record (the upload's; here --sha256sums). The listed hash is not the
        # file's real one, so only the record can be where the document's came from.
        big = os.path.join(self.tmp, "noise.png")
        data = noise_png(big, 640, 480)
        self.assertGreater(len(data), 128 * 1024)
        sums = os.path.join(self.tmp, "SHA256SUMS")
        listed = "ab" * 32
        with open(sums, "w") as f:
            f.write("%s  %s\n" % ("0" * 64, self.png))
            f.write("%s  %s\n" % (listed.upper(), big))
        real = hashlib.sha256(data).hexdigest()
        for extra, want in ((["--sha256sums", sums], listed), ([], real)):
            d = self.out("meta-head")
            p = self.run_w("--run", "metadata", "--plugin", FILES, "--file", big, "--out", d,
                           *extra)
            self.assertEqual(p.returncode, 0, p.stderr)
            r = self.result(d)
            meta = r["metadata_patch"]["metadata"]
            self.assertEqual((meta["sha256"], meta["size"], meta["mime_type"]),
                             (want, len(data), "image/png"), extra)
            self.assertEqual((meta["image"]["width"], meta["image"]["height"]), (640, 480))
            self.assertEqual(r["metadata_patch"]["dimensions"], {"width": 640, "height": 480})
            # Without a listed checksum the local server hashes the file, as an upload does;
            # either way the job itself reads one 128 KiB range.
            got = [(c["method"], c["status"]) for c in r["api_calls"]
                   if c["path"].endswith("/download")]
            self.assertEqual(got, [("GET", 206)], r["api_calls"])

    def test_metadata_of_a_small_file_is_one_whole_head(self):
        # Smaller than the head: the head is the file, fetched once, hashed nowhere twice.
        d = self.out("meta-small")
        p = self.run_w("--run", "metadata", "--plugin", FILES, "--file", self.text, "--out", d)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = self.result(d)
        with open(self.text, "rb") as f:
            data = f.read()
        meta = r["metadata_patch"]["metadata"]
        self.assertEqual((meta["sha256"], meta["size"], meta["mime_type"]),
                         (hashlib.sha256(data).hexdigest(), len(data), "text/plain"))
        got = [c["status"] for c in r["api_calls"] if c["path"].endswith("/download")]
        self.assertEqual(got, [206], r["api_calls"])

    def test_hostile_files_fail_cleanly(self):
        for f, want in ((self.text, "not an image"), (self.huge, "")):
            d = self.out("bad")
            p = self.run_w("--run", "thumbnail", "--plugin", FILES, "--file", f, "--out", d)
            self.assertEqual(p.returncode, 1, p.stderr)
            r = self.result(d)
            self.assertEqual(r["outcome"], "dead")
            self.assertIn(want, r["message"])
            self.assertTrue(r["message"])
            self.assertIn(r["message"], p.stderr)
            st = r["status_transitions"]
            self.assertEqual([s["status"] for s in st], ["processing", "failed"])
            self.assertEqual(st[1]["error_details"]["message"], r["message"])
            self.assertEqual(r["derivatives"], [])
            self.assertEqual(sorted(os.listdir(d)), ["result.json"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
