"""End to end over the real stack: powernode-server with the storage and files plugins, and
powernode-worker with the files job plugin, sharing one queue database. An uploaded JPEG gets
its thumbnails and metadata through the worker's raw download/upload calls; a text file named
.jpg ends with its processing job failed with a message, and the worker keeps running; a JPEG
larger than the metadata job's 128 KiB head gets its facts and EXIF from the server's 206 answer
and its SHA-256 from the upload.

Needs PN_TEST_DATABASE_URL, PN_TEST_REDIS_URL (database PN_TEST_MEDIA_DB, default 13, is
flushed), PN_BUILD_DIR, PN_SOURCE_DIR (ctest sets the last two), and `vips` (or `convert`).
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import wtest  # noqa: E402

sys.path.insert(0, os.path.join(wtest.need("PN_SOURCE_DIR"), "tests", "integration"))
import pn  # noqa: E402
import test_files_support as fsup  # noqa: E402

QUEUE_DB = int(os.environ.get("PN_TEST_MEDIA_DB", "13"))
WAIT_S = 60


def make_jpeg(path):
    """A 1200x800 red JPEG made by vips (or ImageMagick's convert)."""
    if shutil.which("vips"):
        tmp = path + ".v"
        subprocess.run(["vips", "black", tmp, "1200", "800", "--bands", "3"], check=True,
                       capture_output=True, timeout=30)
        subprocess.run(["vips", "linear", tmp, path, "1 1 1", "255 0 0", "--uchar"], check=True,
                       capture_output=True, timeout=30)
        os.unlink(tmp)
    elif shutil.which("convert"):
        subprocess.run(["convert", "-size", "1200x800", "xc:red", path], check=True,
                       capture_output=True, timeout=30)
    else:
        wtest.fail("neither vips nor convert is installed: cannot make the test JPEG")
    with open(path, "rb") as f:
        data = f.read()
    assert data[:3] == b"\xff\xd8\xff", "generated file is not a JPEG"
    return data


def jpeg_size(data):
    """(width, height) from a JPEG's first SOF marker, or None."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker, seg = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return (int.from_bytes(data[i + 7:i + 9], "big"),
                    int.from_bytes(data[i + 5:i + 7], "big"))
        i += 2 + seg
    return None


class MediaEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        build = wtest.need("PN_BUILD_DIR")
        cls.worker_bin = os.environ.get("PN_WORKER_BIN") or os.path.join(
            build, "bin", "powernode-worker")
        cls.files_so = os.environ.get("PN_WORKER_FILES_JOBS") or os.path.join(
            build, "worker", "jobs", "files.so")
        for p in (cls.worker_bin, cls.files_so, os.path.join(build, "plugins", "files.so"),
                  os.path.join(build, "plugins", "storage.so")):
            if not os.path.exists(p):
                wtest.fail(f"{p} is missing: build powernode-worker, job_files, plugin_files "
                           f"and plugin_storage in {build}")
        host, port, pw = wtest.redis_addr()
        cls.r = wtest.Redis(host, port, QUEUE_DB, pw)
        cls.r("FLUSHDB")
        cls.queue_url = f"redis://{':' + pw + '@' if pw else ''}{host}:{port}/{QUEUE_DB}"
        cls.fs = fsup.FilesServer(env={"POWERNODE_REDIS_QUEUE_URL": cls.queue_url})
        cls.dir = tempfile.mkdtemp(prefix="pnw-media-e2e-")
        cls.worker = None
        try:
            cls.start_worker()
        except BaseException:
            cls.fs.stop()
            raise

    @classmethod
    def start_worker(cls):
        jobs_tmp = os.path.join(cls.dir, "jobs")
        os.mkdir(jobs_tmp)
        cfg = os.path.join(cls.dir, "worker.yaml")
        with open(cfg, "w") as f:
            f.write("\n".join([
                "name: media-e2e", "concurrency: 2", "queues:", "  file_processing: 1",
                "plugins:", f"  - {cls.files_so}",
                "redis:", "  url: redis://127.0.0.1:9/0", "heartbeat:", "  interval: 0.5",
                "  ttl: 2", "poll_interval: 0.2", "log_level: info", "server:",
                "  url: http://127.0.0.1:9", "  backoff: 0.05", f"tmp_dir: {jobs_tmp}", ""]))
        cls.jobs_tmp = jobs_tmp
        # The platform-wide variables win over the file (as in production).
        env = dict(os.environ, WORKER_SERVICE_TOKEN=fsup.auth.SERVICE_SECRET,
                   BACKEND_API_URL=f"http://127.0.0.1:{cls.fs.srv.port}",
                   REDIS_URL=cls.queue_url, REDIS_QUEUE_URL=cls.queue_url)
        cls.logpath = os.path.join(cls.dir, "worker.log")
        with open(cls.logpath, "ab") as log:
            cls.worker = subprocess.Popen([cls.worker_bin, "--config", cfg], stdout=log,
                                          stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "tag=lifecycle started" in cls.log():
                return
            if cls.worker.poll() is not None:
                raise AssertionError("worker exited at start:\n" + cls.log())
            time.sleep(0.05)
        cls.worker.kill()
        raise AssertionError("worker did not start:\n" + cls.log())

    @classmethod
    def log(cls):
        try:
            with open(cls.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    @classmethod
    def tearDownClass(cls):
        code = None
        if cls.worker and cls.worker.poll() is None:
            cls.worker.send_signal(signal.SIGTERM)
            try:
                code = cls.worker.wait(30)
            except subprocess.TimeoutExpired:
                cls.worker.kill()
                cls.worker.wait(10)
        srv_code = cls.fs.stop()
        cls.r("FLUSHDB")
        cls.r.close()
        if code != 0 or srv_code != 0:
            raise AssertionError(f"unclean stop: worker {code}, server {srv_code}\n" + cls.log())
        shutil.rmtree(cls.dir, ignore_errors=True)

    # ---- helpers ----

    def jobs_of(self, file_id):
        rows = self.fs.q(
            "SELECT json_agg(json_build_object('id', id, 'type', job_type, 'status', status,"
            " 'error', error_details, 'result', result_data)) FROM file_processing_jobs"
            f" WHERE file_object_id = '{file_id}'")
        return json.loads(rows) if rows else []

    def wait_jobs_done(self, file_id):
        deadline = time.monotonic() + WAIT_S
        jobs = []
        while time.monotonic() < deadline:
            jobs = self.jobs_of(file_id)
            if jobs and all(j["status"] in ("completed", "failed") for j in jobs):
                return jobs
            self.assertIsNone(self.worker.poll(), "worker died:\n" + self.log())
            time.sleep(0.2)
        self.fail(f"processing of {file_id} not finished in {WAIT_S} s: {jobs}\n"
                  + self.log()[-6000:])

    def service_get(self, path):
        return self.fs.call("GET", path, token=self.fs.service_token())

    # ---- tests (run in name order) ----

    def test_1_jpeg_gets_thumbnails_and_metadata(self):
        data = make_jpeg(os.path.join(self.dir, "x.jpg"))
        f = self.fs.upload(data, "red photo.jpg")
        fid = f["id"]
        jobs = self.wait_jobs_done(fid)
        types = sorted(j["type"] for j in jobs)
        self.assertEqual(types, ["metadata_extract", "thumbnail"], jobs)
        for j in jobs:
            self.assertEqual(j["status"], "completed", j)

        # The original as the owner sees it: metadata, dimensions, processing state.
        r = self.fs.call("GET", f"/api/v1/files/{fid}")
        self.assertEqual(r.status, 200, r)
        d = r.doc["data"]
        d = d.get("file", d)
        self.assertEqual(d.get("processing_status"), "completed", d)
        meta = d.get("metadata") or {}
        self.assertEqual(meta.get("mime_type"), "image/jpeg", meta)
        img = meta.get("image") or {}
        self.assertEqual((img.get("width"), img.get("height")), (1200, 800), meta)
        self.assertEqual(img.get("format"), "jpeg", meta)
        self.assertEqual(meta.get("size"), len(data), meta)
        # The upload's checksum (the job takes it from the file record rather than hashing the
        # content a second time), and the real one.
        self.assertEqual(meta.get("sha256"), hashlib.sha256(data).hexdigest(), meta)
        self.assertEqual(meta.get("sha256"), d.get("checksum_sha256"), d)
        dims = d.get("dimensions") or {}
        self.assertEqual((dims.get("width"), dims.get("height")), (1200, 800), d)

        # The derivatives: three thumbnails, each a JPEG no larger than its box.
        r = self.fs.call("GET", f"/api/v1/files?parent_id={fid}&include_derivatives=true")
        self.assertEqual(r.status, 200, r)
        derivs = r.doc["data"]["files"]
        self.assertEqual(len(derivs), 3, derivs)
        boxes = {"large": 600, "medium": 300, "small": 150}
        seen = set()
        for dv in derivs:
            self.assertEqual(dv.get("derivative_kind"), "thumbnail", dv)
            size = dv["filename"].split(".")[0].removeprefix("thumbnail-")
            self.assertIn(size, boxes, dv)
            seen.add(size)
            got = self.fs.call("GET", f"/api/v1/files/{dv['id']}/download")
            self.assertEqual(got.status, 200, got)
            self.assertEqual(got.body[:3], b"\xff\xd8\xff", dv)
            self.assertEqual(len(got.body), dv["file_size"], dv)
            # 3:2 into a square box, never enlarged.
            self.assertEqual(jpeg_size(got.body), (boxes[size], boxes[size] * 2 // 3), dv)
        self.assertEqual(seen, set(boxes))
        # The attempts' working directories were removed.
        self.assertEqual(os.listdir(self.jobs_tmp), [])

    def test_2_broken_file_fails_with_a_message(self):
        # A text file named .jpg: the server sniffs text/plain, so it only gets the metadata
        # job (no thumbnail job), which completes and says what the file really is.
        f = self.fs.upload(b"this is plain text, not a picture\n" * 20, "text.jpg")
        jobs = self.wait_jobs_done(f["id"])
        self.assertEqual([(j["type"], j["status"]) for j in jobs],
                         [("metadata_extract", "completed")], jobs)
        self.assertEqual(jobs[0]["result"].get("mime_type"), "text/plain", jobs)
        # JPEG magic then text: sniffed as an image, so a thumbnail job, which must fail.
        f = self.fs.upload(b"\xff\xd8\xff\xe0" + b"not really a picture\n" * 40, "broken.jpg")
        fid = f["id"]
        jobs = self.wait_jobs_done(fid)
        failed = [j for j in jobs if j["status"] == "failed"]
        self.assertIn("thumbnail", [j["type"] for j in failed], jobs)
        for j in failed:
            msg = (j["error"] or {}).get("message")
            self.assertIsInstance(msg, str, j)
            self.assertTrue(msg.strip(), j)
            # Also visible to the worker-side route.
            r = self.service_get(f"/api/v1/worker/processing_jobs/{j['id']}")
            self.assertEqual(r.status, 200, r)
            self.assertIn("failed", json.dumps(r.doc["data"]), r)
        r = self.fs.call("GET", f"/api/v1/files/{fid}")
        self.assertEqual(r.status, 200, r)
        # Bad input is not retried: no retry entries, the job went to the dead set. The worker
        # files the job after it reported the failure, so give it a (bounded) moment.
        deadline = time.monotonic() + 15
        dead = []
        while time.monotonic() < deadline:
            dead = [json.loads(x) for x in self.r("ZRANGE", "dead", 0, -1)]
            if any(d["class"] == "ThumbnailGenerationJob" for d in dead):
                break
            time.sleep(0.2)
        self.assertEqual(self.r("ZCARD", "retry"), 0)
        self.assertIn("ThumbnailGenerationJob", [d["class"] for d in dead], dead)
        self.assertTrue(all(d.get("error_message") for d in dead), dead)
        self.assertIsNone(self.worker.poll(), "worker died:\n" + self.log())
        # And it still works after that.
        data = make_jpeg(os.path.join(self.dir, "y.jpg"))
        g = self.fs.upload(data, "second.jpg")
        jobs = self.wait_jobs_done(g["id"])
        self.assertTrue(all(j["status"] == "completed" for j in jobs), jobs)

    def test_3_large_jpeg_metadata_from_its_head(self):
        # Larger than the 128 KiB the metadata job fetches first: its facts come from the real
        # server's 206 answer to a Range request cut inside the file, its SHA-256 from the
        # record; the camera fields come from the EXIF inside that head.
        if not (shutil.which("vips") and shutil.which("exiftool")):
            wtest.fail("vips and exiftool are needed to make the large test JPEG")
        path = os.path.join(self.dir, "noise.jpg")
        subprocess.run(["vips", "gaussnoise", path + "[Q=95]", "1600", "1200"], check=True,
                       capture_output=True, timeout=60)
        subprocess.run(["exiftool", "-q", "-overwrite_original", "-Make=HeadCam",
                        "-Model=H1", "-ISO=200", path], check=True, capture_output=True,
                       timeout=60)
        with open(path, "rb") as f:
            data = f.read()
        self.assertGreater(len(data), 128 * 1024)
        head_key = "MetadataExtractionJob.files.metadata_head_only"
        before = int(self.r("HGET", "pn:counters", head_key) or 0)
        fid = self.fs.upload(data, "noise.jpg")["id"]
        jobs = self.wait_jobs_done(fid)
        self.assertTrue(all(j["status"] == "completed" for j in jobs), jobs)
        # The worker's own count says the document came from the head alone, and no metadata
        # job of this test run needed a whole file (every earlier file fitted in the head).
        wtest.wait_for(lambda: int(self.r("HGET", "pn:counters", head_key) or 0) > before, 15,
                       "the head-only counter published")
        self.assertIsNone(self.r("HGET", "pn:counters",
                                 "MetadataExtractionJob.files.metadata_whole_file"))
        r = self.fs.call("GET", f"/api/v1/files/{fid}")
        self.assertEqual(r.status, 200, r)
        d = r.doc["data"]
        d = d.get("file", d)
        meta = d.get("metadata") or {}
        self.assertEqual((meta.get("size"), meta.get("sha256"), meta.get("mime_type")),
                         (len(data), hashlib.sha256(data).hexdigest(), "image/jpeg"), meta)
        img, exif = meta.get("image") or {}, meta.get("exif") or {}
        self.assertEqual((img.get("width"), img.get("height"), img.get("bands")),
                         (1600, 1200, 1), meta)
        self.assertEqual((exif.get("make"), exif.get("model"), exif.get("iso")),
                         ("HeadCam", "H1", 200), meta)


if __name__ == "__main__":
    unittest.main(verbosity=2)
