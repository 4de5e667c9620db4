#!/usr/bin/env python3
"""test_media_hostile (RELIABILITY C18/C20): every hostile file through every job of the files
plugin in the worker's local mode (`powernode-worker --run JOB --file F --out DIR`, the job's
isolated child included, as in production), one run per job in its own temporary job directory
(also the worker's tmp_dir, so the job's workdir is inside it), under
`strace -f -e trace=open,openat,openat2,connect,socket,execve`:
  - no crash (exit 0, or 1 with the job's own refusal: result.json ends in status "failed"
    with a message; a crash or limit hit in the isolated child is reported there and fails);
  - peak RSS of the job processes (wait4 ru_maxrss: the largest of worker and child) under the
    bound given (MiB);
  - no open of a path outside the job directory that a benign run of the same job does not
    make too (the dynamic loader and library start-up), except shared libraries under /lib or
    /usr/lib and the plugin's own backends (a hostile file may need the other backend: an MP4
    given to the metadata job loads FFmpeg); no connect, no socket, no exec;
  - libraries by job: a thumbnail never loads FFmpeg, audio never loads libvips, and no job
    loads ImageMagick, poppler, OpenSlide or any libvips module but heif;
  - a loopback canary listener named by generated HLS/concat files sees 0 connections;
  - a slow-probe file (a Matroska segment of unknown size over 3 GiB of sparse zeros, which
    the demuxer resyncs through byte by byte) stopped by the wall-clock deadline.
usage: hostile_run.py POWERNODE_WORKER FILES_SO HOSTILE_DIR GOOD_DIR RSS_MIB"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

PN, SO, BAD, GOOD, RSS_MIB = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
JOBS = ("thumbnail", "metadata", "video", "audio")
# Benign inputs per job; the baseline of a job is what its runs on all of them open (a JPEG
# needs no backend for either job, a PNG thumbnail or a GIF's metadata loads libvips, a
# video's metadata FFmpeg, each with its start-up).
BENIGN = {"thumbnail": ["jpeg_exif.jpg", "png_alpha.png"],
          "metadata": ["jpeg_exif.jpg", "gif_anim.gif", "video.mp4"],
          "video": ["video.mp4"], "audio": ["audio.mp3"]}
DEADLINE = 5.0  # av_deadline for these runs; a job must end within it plus start-up
# LeakSanitizer cannot run under ptrace; a small quarantine keeps an ASan build's RSS close to
# what the job itself holds, so the same bound applies to sanitized and release builds.
ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:quarantine_size_mb=8:malloc_context_size=4")
for k in ("PN_WORKER_CONFIG", "PN_WORKER_PLUGINS"):  # only --plugin SO, no config file
    ENV.pop(k, None)
failures = []
passed = 0


def check(ok, what):
    global passed
    if ok:
        passed += 1
    else:
        failures.append(what)
        print("FAIL: " + what, flush=True)


if not shutil.which("strace"):
    sys.exit("test_media_hostile: strace is not installed (apt-get install strace)")

OPEN = re.compile(r'^\d+\s+(?:open|openat|openat2)\((?:AT_FDCWD, |\d+, )?"((?:[^"\\]|\\.)*)"')


def run(job, src, name=None, extra=(), trace=True):
    """One job on a copy of src in a fresh job dir: (exit, wall s, peak KiB, stderr, opens
    outside the job dir, forbidden calls, result.json or None)."""
    jd = tempfile.mkdtemp(prefix="pn-job-")
    try:
        inp = os.path.join(jd, name or os.path.basename(src))
        if os.path.getsize(src) > (64 << 20):
            os.link(src, inp) if os.stat(src).st_dev == os.stat(jd).st_dev else \
                shutil.copyfile(src, inp)
        else:
            shutil.copyfile(src, inp)
        out = os.path.join(jd, "out")
        cmd = [PN, "--run", job, "--plugin", SO, "--set", "av_deadline=%g" % DEADLINE, *extra,
               "--out", out, "--file", inp]
        tr = os.path.join(jd, "strace.txt")
        if trace:
            cmd = ["strace", "-f", "-qq", "-e", "trace=open,openat,openat2,connect,socket,execve",
                   "-o", tr] + cmd
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=dict(ENV, PN_WORKER_TMP_DIR=jd), cwd=jd)
        err = p.stderr.read().decode(errors="replace")
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        code = os.waitstatus_to_exitcode(status)
        try:
            with open(os.path.join(out, "result.json")) as f:
                result = json.load(f)
        except (OSError, ValueError):
            result = None
        opens, bad = set(), []
        if trace:
            for line in open(tr, errors="replace"):
                m = OPEN.match(line)
                if m:
                    path = os.path.normpath(m.group(1))
                    if not (path == jd or path.startswith(jd + "/")):
                        opens.add(path)
                elif re.match(r"^\d+\s+(connect|socket)\(", line):
                    bad.append(line.strip())
                elif re.match(r"^\d+\s+execve\(", line) and PN not in line:
                    bad.append(line.strip())
        return code, wall, ru.ru_maxrss, err.strip(), opens, bad, result
    finally:
        shutil.rmtree(jd, ignore_errors=True)


SYSTEM = ("/etc/ld.so.cache", "/lib/", "/lib64/", "/usr/lib/", "/usr/share/", "/proc/",
          "/sys/devices/system/", "/dev/urandom", "/etc/gcrypt/", "/usr/local/lib/",
          "/etc/ImageMagick-6/",
          # files.so points VIPSHOME here so that vips_init's module scan finds nothing
          # (nothing can exist under /dev/null); it opens nothing but fails.
          "/dev/null/")

SO_PATH = os.path.normpath(os.path.abspath(SO))  # the job plugin itself, loaded by both
# Its backends (files-image.so, files-av.so), found next to its real path.
BACKENDS = os.path.join(os.path.dirname(os.path.realpath(SO)), "files") + "/"
LIBRARY = re.compile(r"^/(usr/)?lib(32|64)?/.*\.so(\.\d+)*$")
# Libraries a job must never load (ImageMagick, poppler, OpenSlide, libvips' other modules),
# and per job those it does not need.
NEVER = re.compile(r"libMagick|libpoppler|libopenslide|/vips-modules-[\d.]+/vips-(?!heif)")
AV_LIBS = re.compile(r"/libav(format|codec)\.so|/files-av\.so$")
VIPS_LIBS = re.compile(r"/libvips\.so|/files-image\.so$")
NOT_FOR = {"thumbnail": AV_LIBS, "metadata": AV_LIBS, "audio": VIPS_LIBS}  # on a .jpg/.mp3


def allowed_new(path):
    """A path a hostile run may open beyond its job's benign run: a library or a backend."""
    return bool(LIBRARY.match(path) or path.startswith(BACKENDS)) and not NEVER.search(path)


# What the process opens whatever the input: the baseline of each job on benign files.
baseline = {}
for job in JOBS:
    baseline[job] = set()
    for name in BENIGN[job]:
        code, wall, rss, err, opens, bad, res = run(job, os.path.join(GOOD, name))
        tag = "benign %s run on %s" % (job, name)
        check(code == 0, "%s exited %d: %s" % (tag, code, err[:200]))
        check(res is not None and res["outcome"] == "ok" and res["isolated"] and
              res["status_transitions"][-1]["status"] == "completed",
              "%s: result.json %s" % (tag, str(res)[:300]))
        check(not bad, "%s: %s" % (tag, bad[:3]))
        outside = sorted(p for p in opens if not p.startswith(SYSTEM) and p != SO_PATH and
                         not p.startswith(BACKENDS))
        check(not outside, "%s opened %s" % (tag, outside[:5]))
        never = sorted(p for p in opens if NEVER.search(p))
        check(not never, "%s loaded %s" % (tag, never[:5]))
        if job in NOT_FOR and (name.endswith(".jpg") or job == "audio"):
            extra = sorted(p for p in opens if NOT_FOR[job].search(p))
            check(not extra, "%s loaded %s" % (tag, extra[:5]))
        # A JPEG's thumbnails are made in files.so with libjpeg alone (media_jpeg.c) and its
        # metadata by our header reader (media_header.c): no backend.
        if job in ("thumbnail", "metadata") and name.endswith(".jpg"):
            extra = sorted(p for p in opens if VIPS_LIBS.search(p))
            check(not extra, "%s loaded %s" % (tag, extra[:5]))
        else:
            check(any(p.startswith(BACKENDS) for p in opens), "%s loaded no backend" % tag)
        baseline[job] |= opens
        print("baseline %-9s %-14s %5.2f s %6.1f MiB, %d system paths" %
              (job, name, wall, rss / 1024, len(opens)), flush=True)

# The canary: generated files that point at a loopback listener.
canary = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
canary.bind(("127.0.0.1", 0))
canary.listen(16)
canary.setblocking(False)
port = canary.getsockname()[1]
extra_dir = tempfile.mkdtemp(prefix="pn-hostile-")
url = "http://127.0.0.1:%d/c" % port
with open(os.path.join(extra_dir, "hls_canary.m3u8"), "w") as f:
    f.write("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n%s.ts\n#EXT-X-ENDLIST\n" % url)
with open(os.path.join(extra_dir, "concat_canary.mp4"), "w") as f:
    f.write("ffconcat version 1.0\nfile %s.mp4\nfile concat:/etc/passwd\n" % url)
with open(os.path.join(extra_dir, "hls_canary.mp3"), "w") as f:
    f.write("#EXTM3U\n#EXTINF:1.0,\nconcat:%s.ts|/etc/passwd\n#EXT-X-ENDLIST\n" % url)

files = [os.path.join(BAD, n) for n in sorted(os.listdir(BAD)) if not n.startswith(".")]
files += [os.path.join(extra_dir, n) for n in sorted(os.listdir(extra_dir))]
check(len(files) >= 28, "hostile corpus has %d files" % len(files))
worst = (0, "")
for f in files:
    for job in JOBS:
        code, wall, rss, err, opens, bad, res = run(job, f)
        tag = "%s on %s" % (job, os.path.basename(f))
        check(code in (0, 1), "%s: exit %d (crash?) %s" % (tag, code, err[-300:]))
        last = (res or {}).get("status_transitions") or [{}]
        if job != "metadata":
            # Refused by the job itself: the processing job is marked failed with the reason
            # (a crash, a limit or a timeout of the isolated child would leave it "processing").
            check(code == 1 and "failed" in err and res is not None and res["message"] and
                  last[-1].get("status") == "failed" and
                  last[-1].get("error_details", {}).get("message") == res["message"],
                  "%s: accepted, crashed or no message: %s %s" % (tag, err[-300:],
                                                                  str(res)[:300]))
        else:
            check(res is not None and last[-1].get("status") in ("completed", "failed"),
                  "%s: no final status: %s %s" % (tag, err[-300:], str(res)[:300]))
        check(wall < DEADLINE + 10, "%s: took %.1f s under strace" % (tag, wall))
        check(rss <= RSS_MIB * 1024, "%s: peak RSS %.1f MiB over %d" % (tag, rss / 1024,
                                                                         RSS_MIB))
        stray = sorted(p for p in opens - baseline[job] if not allowed_new(p))
        check(not stray, "%s: opened outside the job dir: %s" % (tag, stray[:5]))
        check(not bad, "%s: %s" % (tag, bad[:3]))
        worst = max(worst, (rss, tag))
try:
    conn, _ = canary.accept()
    check(False, "the canary on port %d was connected to" % port)
except BlockingIOError:
    check(True, "canary")
canary.close()
shutil.rmtree(extra_dir, ignore_errors=True)
print("hostile: %d files x %d jobs, peak RSS at most %.1f MiB (%s), bound %d MiB" %
      (len(files), len(JOBS), worst[0] / 1024, worst[1], RSS_MIB), flush=True)

# Slow probe: sparse, costs no disk; the deadline (not the file's end) stops it.
slow_dir = tempfile.mkdtemp(prefix="pn-slow-")
try:
    slow = os.path.join(slow_dir, "slow.mkv")
    # The EBML header of a real WebM, then a Segment of unknown size and nothing in it.
    real = open(os.path.join(GOOD, "video.webm"), "rb").read()
    seg = real.find(bytes.fromhex("18538067"))
    check(seg > 0, "video.webm has a Segment")
    with open(slow, "wb") as f:
        f.write(real[:seg + 4] + bytes.fromhex("01ffffffffffffff"))
        f.truncate(3 << 30)
    for job in ("video", "audio"):
        code, wall, rss, err, opens, bad, res = run(job, slow, trace=False,
                                                    extra=("--set", "av_deadline=2"))
        print("slow probe %s: %.2f s, exit %d: %s" % (job, wall, code, err), flush=True)
        check(code == 1 and "deadline" in err, "slow probe %s: not stopped by the deadline: %s"
              % (job, err))
        # + start-up of the worker and its isolated child (each loads libvips and FFmpeg)
        check(wall < 2 + 5, "slow probe %s: %.2f s, the deadline is 2 s" % (job, wall))
        check(rss <= RSS_MIB * 1024, "slow probe %s: peak RSS %.1f MiB" % (job, rss / 1024))
finally:
    shutil.rmtree(slow_dir, ignore_errors=True)

print("%d passed, %d failed" % (passed, len(failures)))
sys.exit(1 if failures else 0)
