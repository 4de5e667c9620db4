"""powernode-worker --run with files.so: what the job's processes load. A thumbnail of a plain
JPEG is made with libjpeg alone (media_jpeg.c): neither the worker nor its isolated child maps
libvips or files/files-image.so. A video's poster is resized and encoded the same way: no libvips
either. The controls: a PNG thumbnail and a truncated JPEG (left to libvips, which refuses it
with its message) do load the image backend, so the check sees what it claims to.
The dynamic loader reports every object it loads, per process, through LD_DEBUG=files.
Needs convert and ffmpeg. Environment (ctest): PN_WORKER_BIN, PN_WORKER_FILES_JOBS (files.so)."""
import glob
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

for _v in ("PN_WORKER_BIN", "PN_WORKER_FILES_JOBS"):
    if not os.environ.get(_v):
        print("FAIL: %s is not set (ctest sets it)" % _v, file=sys.stderr)
        sys.exit(1)
for _t in ("convert", "ffmpeg"):
    if not shutil.which(_t):
        print("FAIL: %s is needed (imagemagick, ffmpeg)" % _t, file=sys.stderr)
        sys.exit(1)
W = os.environ["PN_WORKER_BIN"]
FILES = os.environ["PN_WORKER_FILES_JOBS"]


class Loaded(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pn-jpeg-no-vips-")
        cls.jpg = os.path.join(cls.tmp, "photo.jpg")
        subprocess.run(["convert", "-size", "1600x1200", "gradient:navy-orange", "-quality", "90",
                        cls.jpg], check=True)
        with open(cls.jpg, "rb") as f:
            data = f.read()
        cls.cut = os.path.join(cls.tmp, "cut.jpg")
        with open(cls.cut, "wb") as f:
            f.write(data[:len(data) // 2])
        cls.png = os.path.join(cls.tmp, "image.png")

        def chunk(t, d):
            return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
        w, h = 300, 200
        raw = b"".join(b"\0" + b"".join(bytes((x * 255 // w, y * 255 // h, 128)) for x in range(w))
                       for y in range(h))
        with open(cls.png, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n"
                    + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
        cls.mp4 = os.path.join(cls.tmp, "video.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc=size=640x360:rate=25", "-t", "2", "-c:v", "libx264", "-pix_fmt",
                        "yuv420p", cls.mp4], check=True)
        cls.env = {k: v for k, v in os.environ.items() if not k.startswith("PN_WORKER_")}
        cls.env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        cls.env["PN_WORKER_TMP_DIR"] = cls.tmp

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_job(self, job, path):
        """Run the job on path; (exit code, stderr, {pid: loader report}) per process that
        loaded files.so (the worker and its isolated child)."""
        d = tempfile.mkdtemp(dir=self.tmp)
        env = dict(self.env, LD_DEBUG="files", LD_DEBUG_OUTPUT=os.path.join(d, "ld"))
        p = subprocess.run([W, "--run", job, "--plugin", FILES, "--file", path, "--out",
                            os.path.join(d, "out")], env=env, capture_output=True, text=True,
                           timeout=120)
        reports = {}
        for f in glob.glob(os.path.join(d, "ld.*")):
            with open(f, errors="replace") as fh:
                text = fh.read()
            if os.path.basename(FILES) in text:
                reports[f] = text
        return p.returncode, p.stderr, reports

    def check(self, job, path, want_code, image_backend, av_backend=False):
        code, err, reports = self.run_job(job, path)
        self.assertEqual(code, want_code, err[-500:])
        # The worker and its isolated child, each loading the plugin.
        self.assertGreaterEqual(len(reports), 2, "no isolated child seen: %s" % list(reports))
        text = "".join(reports.values())
        loaded_vips = "libvips.so" in text or "files-image.so" in text
        self.assertEqual(loaded_vips, image_backend,
                         "%s on %s: libvips %s" % (job, os.path.basename(path),
                                                   "loaded" if loaded_vips else "not loaded"))
        self.assertEqual("files-av.so" in text, av_backend)
        return err

    def test_jpeg_thumbnail_without_libvips(self):
        self.check("thumbnail", self.jpg, 0, image_backend=False)

    def test_video_poster_without_libvips(self):
        self.check("video", self.mp4, 0, image_backend=False, av_backend=True)

    def test_png_loads_the_image_backend(self):
        self.check("thumbnail", self.png, 0, image_backend=True)

    def test_truncated_jpeg_goes_to_libvips(self):
        err = self.check("thumbnail", self.cut, 1, image_backend=True)
        self.assertIn("cannot decode the image", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
