#!/usr/bin/env python3
"""bench/media: the files job plugin in the worker's local mode (powernode-worker --run) against
the tools the original shelled out to, on the same generated inputs in one run: wall time, CPU time and peak RSS per
file, median of BENCH_RUNS runs, with the ratios the issue aims at. Standard library only."""
import functools
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time

PN = os.environ["BENCH_WORKER"]
SO = os.environ["BENCH_FILES_SO"]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
NFILES = int(os.environ.get("BENCH_FILES", "20"))
STRICT = os.environ.get("BENCH_STRICT") == "1"
# Private memory (USS) of each row, from one more run sampling /proc/PID/smaps_rollup.
USS = os.environ.get("BENCH_USS", "1") == "1"
USS_EVERY = 0.005
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.environ.get("BENCH_MEDIA_DIR", os.path.join(ROOT, "var", "bench", "media"))
# /usr/local/bin/convert may be a wrapper script; time ImageMagick itself.
CONVERT = os.environ.get("BENCH_CONVERT") or next(
    (p for p in ("/usr/bin/convert-im6.q16", "/usr/bin/convert") if os.path.exists(p)),
    shutil.which("convert"))
SIZES = (600, 300, 150)
# The worker's job workdirs next to the inputs; no config or plugin list from the environment.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("PN_WORKER_")}
ENV["PN_WORKER_TMP_DIR"] = os.path.join(DATA, "tmp")


def sh(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def inputs():
    """12-megapixel JPEGs with camera EXIF, a 10 s 720p H.264/AAC MP4 and a 30 s MP3, made once
    and kept in DATA. The MP4/MP3 are copied NFILES times (same bytes, different names)."""
    d = os.path.join(DATA, "in-%d" % NFILES)
    done = os.path.join(d, ".done")
    jpgs = [os.path.join(d, "img%02d.jpg" % (i + 1)) for i in range(NFILES)]
    mp4s = [os.path.join(d, "video%02d.mp4" % (i + 1)) for i in range(NFILES)]
    mp3s = [os.path.join(d, "audio%02d.mp3" % (i + 1)) for i in range(NFILES)]
    if os.path.exists(done):
        return jpgs, mp4s, mp3s
    os.makedirs(d, exist_ok=True)
    print("bench/media: generating inputs in %s (once)" % d, flush=True)
    # Distinct frames with grain, so the JPEGs cost what photos cost to decode.
    sh("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
       "testsrc2=size=4000x3000:rate=1,noise=alls=12:allf=t", "-frames:v", str(NFILES),
       "-q:v", "3", "-pix_fmt", "yuvj420p", os.path.join(d, "img%02d.jpg"))
    sh("exiftool", "-q", "-overwrite_original", "-Make=BenchCam", "-Model=B12",
       "-LensModel=Bench 24-70mm", "-ISO=400", "-ExposureTime=0.01", "-FNumber=4",
       "-FocalLength=50", "-DateTimeOriginal=2024:06:01 10:00:00", "-GPSLatitude=52.37",
       "-GPSLatitudeRef=N", "-GPSLongitude=4.89", "-GPSLongitudeRef=E", *jpgs)
    v = os.path.join(d, "video.mp4")
    sh("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
       "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "10", "-c:v",
       "libx264", "-preset", "veryfast", "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac",
       "-ac", "2", "-shortest", v)
    a = os.path.join(d, "audio.mp3")
    sh("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
       "-t", "30", "-metadata", "title=Bench", "-metadata", "artist=Bench Artist", "-metadata",
       "album=Bench Album", "-metadata", "track=3", "-metadata", "date=2024", "-c:a", "libmp3lame",
       "-b:a", "192k", "-ac", "2", a)
    for src, dst in ((v, mp4s), (a, mp3s)):
        for p in dst:
            shutil.copyfile(src, p)
        os.remove(src)
    open(done, "w").close()
    return jpgs, mp4s, mp3s


def tree(pid):
    """pid and its descendants (the worker's isolated children, tools' helpers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def private_kib(pid):
    """Private_Clean + Private_Dirty of one process (what it alone costs), 0 if gone."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            return sum(int(line.split()[1]) for line in f
                       if line.startswith(("Private_Clean:", "Private_Dirty:")))
    except (OSError, ValueError, IndexError):
        return 0


def run(cmd, probe=False):
    """One process: wall seconds, CPU seconds (user+sys, the worker's isolated children
    included), and with probe its peak RSS in KiB (the largest of it and its children) and the
    largest private memory of any one process of its tree seen every USS_EVERY s (with USS),
    else 0, 0.
    Timed runs start the command itself: /usr/bin/time costs about 7 ms of its own start-up
    and waiting on this machine (an empty C program: 2.5 ms alone, 9.2 ms under time), a third
    of a 20-file metadata batch. The peak RSS comes from one more, untimed run under
    /usr/bin/time, not from our own wait4: Linux carries a process's peak RSS across exec, so a
    command forked from this Python process (tens of MiB after reading the inputs) would report
    at least Python's RSS; forked from time, it starts small."""
    rssf = os.path.join(DATA, "out", ".rss")
    argv = ["/usr/bin/time", "-f", "%M", "-o", rssf, *cmd] if probe else cmd
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    done, peak = threading.Event(), [0]

    def sampler():
        while not done.is_set():
            for q in tree(p.pid):
                peak[0] = max(peak[0], private_kib(q))
            done.wait(USS_EVERY)
    th = threading.Thread(target=sampler) if probe and USS else None
    if th:
        th.start()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    done.set()
    if th:
        th.join()
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("bench/media: %s exited %d: %s" % (" ".join(cmd[:4]), p.returncode,
                                                   err.decode(errors="replace")[:300]))
    rss = 0
    if probe:
        with open(rssf) as f:
            rss = int(f.read().split()[-1])
    return wall, ru.ru_utime + ru.ru_stime, rss, peak[0]


def measure(cmds, probe=False):
    """A list of commands run one after another: total wall, total CPU, max peak RSS, max
    sampled private memory."""
    w = c = r = u = 0
    for cmd in cmds:
        a, b, m, k = run(cmd, probe)
        w, c, r, u = w + a, c + b, max(r, m), max(u, k)
    return w, c, r, u


def median_of(fn):
    rs = [fn()[:2] for _ in range(RUNS)]
    return tuple(statistics.median(x[i] for x in rs) for i in range(2))


def fresh(name):
    d = os.path.join(DATA, "out", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


@functools.lru_cache(maxsize=None)
def real_sha256(path):
    """The input's SHA-256, read once per benchmark run (the inputs do not change)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def check_metadata(o):
    """A fast row must still be right: every file's document names its real SHA-256, size,
    dimensions and camera (the upload's checksums in SHA256SUMS are real ones)."""
    for root, _, names in os.walk(o):
        if "result.json" not in names:
            continue
        with open(os.path.join(root, "result.json")) as f:
            r = json.load(f)
        m = r["metadata_patch"]["metadata"]
        got = (m["sha256"], m["size"], m["mime_type"], m["image"]["width"], m["image"]["height"],
               m["exif"]["make"])
        want = (real_sha256(r["file"]), os.path.getsize(r["file"]), "image/jpeg", 4000, 3000, "BenchCam")
        if got != want:
            sys.exit("bench/media: wrong metadata for %s: %s, expected %s" % (r["file"], got, want))


def count(d):
    """Files written under d (the worker writes DIR/<file name>/ per file of a batch)."""
    return sum(len([n for n in names if not n.startswith(".")]) for _, _, names in os.walk(d))


# ---- the commands, each making what the job makes ----

def convert3(f, o):
    """Three calls per file, as the original did: each decodes the whole image."""
    b = os.path.join(o, os.path.basename(f))
    return [[CONVERT, f, "-auto-orient", "-resize", "%dx%d>" % (s, s), "-strip", "-quality",
             "82", "%s.%d.jpg" % (b, s)] for s in SIZES]


def convert_best(f, o):
    """ImageMagick at its best: one call, a JPEG size hint (libjpeg DCT scaling), the smaller
    sizes derived from the larger."""
    b = os.path.join(o, os.path.basename(f))
    return [[CONVERT, "-define", "jpeg:size=1200x1200", f, "-auto-orient", "-strip",
             "-thumbnail", "600x600>", "-quality", "82", "-write", b + ".600.jpg",
             "-thumbnail", "300x300>", "-write", b + ".300.jpg", "-thumbnail", "150x150>",
             b + ".150.jpg"]]


def vipsthumb3(files, o):
    """vipsthumbnail once per size; it takes many files per call."""
    return [["vipsthumbnail", "-s", str(s), "-o", os.path.join(o, "%%s.%d.jpg[Q=82,strip]" % s),
             *files] for s in SIZES]


def ffmpeg_poster(f, o, at=1.0):
    """The poster at 10 % of the 10 s video, scaled to the three boxes, like the job does."""
    b = os.path.join(o, os.path.basename(f))
    fc = "[0:v]split=3[a][b][c];" + ";".join(
        "[%s]scale=%d:%d:force_original_aspect_ratio=decrease[o%s]" % (n, s, s, n)
        for n, s in zip("abc", SIZES))
    cmd = ["ffmpeg", "-v", "error", "-y", "-ss", "%g" % at, "-i", f, "-filter_complex", fc]
    for n, s in zip("abc", SIZES):
        cmd += ["-map", "[o%s]" % n, "-frames:v", "1", "-q:v", "3", "%s.%d.jpg" % (b, s)]
    return [cmd]


def ffprobe(f):
    return [["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", f]]


def pn(job, files, o, isolated=False, sums=None):
    """One worker process for all files. Batches run --in-process (the processing itself, as the
    issue measures it); isolated=True gives every file its own limited child, as production
    runs each job. sums: a sha256sum file handed to the local server as the upload's checksums
    (in production the server computes them while the upload streams in, before any job)."""
    cmd = [PN, "--run", job, "--plugin", SO, "--out", o]
    for f in files:
        cmd += ["--file", f]
    if sums:
        cmd += ["--sha256sums", sums]
    return [cmd + ([] if isolated else ["--in-process"])]


def sha256sums(files):
    """The upload's checksums of the inputs, written once before any clock starts."""
    path = os.path.join(os.path.dirname(files[0]), "SHA256SUMS")
    if not os.path.exists(path):
        with open(path, "w") as f:
            subprocess.run(["sha256sum", *files], check=True, stdout=f)
    return path


def each(make, files, *a):
    return [c for f in files for c in make(f, *a)]


def main():
    jpgs, mp4s, mp3s = inputs()
    os.makedirs(ENV["PN_WORKER_TMP_DIR"], exist_ok=True)
    n = len(jpgs)
    print("bench/media: %d files each, median of %d runs; %s --run; convert %s" %
          (n, RUNS, PN, CONVERT), flush=True)
    rows = {}

    def case(key, label, build, expect=None, per=n):
        def once(probe=False):
            o = fresh(key)
            r = measure(build(o), probe)
            if expect is not None and count(o) != expect:
                sys.exit("bench/media: %s wrote %d files, expected %d" % (key, count(o), expect))
            if key.startswith("pnm"):
                check_metadata(o)
            return r
        w, c = median_of(once)
        # Peak RSS (and private memory) from one more run, not timed: /usr/bin/time and the
        # smaps sampling cost the machine time of their own.
        _, _, r, u = once(True)
        rows[key] = (label, w / per, c / per, r, u)
        print("  %-44s %9.1f ms %9.1f ms cpu %8.1f MiB %8.1f MiB private" %
              (label, 1000 * w / per, 1000 * c / per, r / 1024, u / 1024), flush=True)

    one = jpgs[:1]
    print("\nThumbnails (600/300/150) of a 12 Mpx JPEG, per file:   wall, CPU, peak RSS, "
          "peak private memory")
    case("pn_batch", "worker --run thumbnail, one process, %d files" % n,
         lambda o: pn("thumbnail", jpgs, o), 4 * n)
    case("pni_batch", "worker --run thumbnail, a child per file",
         lambda o: pn("thumbnail", jpgs, o, isolated=True), 4 * n)
    case("vt_batch", "vipsthumbnail x3 sizes over %d files" % n,
         lambda o: vipsthumb3(jpgs, o), 3 * n)
    case("imb_batch", "convert best single call, per file", lambda o: each(convert_best, jpgs, o),
         3 * n)
    case("im3_batch", "convert x3 calls, per file", lambda o: each(convert3, jpgs, o), 3 * n)
    print("  single file, whole process(es) (the worker: parent + isolated child):")
    case("pn_one", "worker --run thumbnail, 1 file", lambda o: pn("thumbnail", one, o, True), 4,
         1)
    case("vt_one", "vipsthumbnail x3, 1 file", lambda o: vipsthumb3(one, o), 3, 1)
    case("imb_one", "convert best single call, 1 file", lambda o: each(convert_best, one, o), 3, 1)
    case("im3_one", "convert x3 calls, 1 file", lambda o: each(convert3, one, o), 3, 1)

    print("\nMetadata of the JPEGs (EXIF), per file:")
    # As production runs it: the SHA-256 is the one the server computed during the upload (here
    # --sha256sums, made before the clock), the job reads the first 128 KiB of each file.
    sums = sha256sums(jpgs)
    case("pnm_batch", "worker --run metadata, one process, %d files" % n,
         lambda o: pn("metadata", jpgs, o, sums=sums), n)
    # Without the upload's checksums the local server hashes every file in the run, as the
    # upload would have: the upload's cost and the job's together.
    case("pnmh_batch", "  the same, hashing each file in the run",
         lambda o: pn("metadata", jpgs, o), n)
    case("et_batch", "exiftool -json -n, one call, %d files" % n,
         lambda o: [["exiftool", "-json", "-n", *jpgs]])
    # What the hashing costs on its own (OpenSSL's SHA-NI code): the upload pays it once.
    case("sha_batch", "openssl dgst -sha256, one call, %d files" % n,
         lambda o: [["openssl", "dgst", "-sha256", *jpgs]])
    case("pnm_one", "worker --run metadata, 1 file", lambda o: pn("metadata", one, o, True, sums),
         1, 1)
    case("et_one", "exiftool -json -n, 1 file", lambda o: [["exiftool", "-json", "-n", *one]],
         None, 1)

    print("\nVideo (720p H.264/AAC, 10 s): probe + poster in 3 sizes, per file:")
    case("pnv_batch", "worker --run video, one process, %d files" % n,
         lambda o: pn("video", mp4s, o), 4 * n)
    case("ffv_batch", "ffprobe + ffmpeg poster, per file",
         lambda o: [c for f in mp4s for c in ffprobe(f) + ffmpeg_poster(f, o)], 3 * n)
    case("pnv_one", "worker --run video, 1 file", lambda o: pn("video", mp4s[:1], o, True), 4,
         1)
    case("ffv_one", "ffprobe + ffmpeg poster, 1 file",
         lambda o: ffprobe(mp4s[0]) + ffmpeg_poster(mp4s[0], o), 3, 1)

    print("\nAudio (MP3, 30 s): probe with tags, per file:")
    case("pna_batch", "worker --run audio, one process, %d files" % n,
         lambda o: pn("audio", mp3s, o), n)
    case("ffa_batch", "ffprobe, per file", lambda o: [c for f in mp3s for c in ffprobe(f)])
    case("pna_one", "worker --run audio, 1 file", lambda o: pn("audio", mp3s[:1], o, True), 1,
         1)
    case("ffa_one", "ffprobe, 1 file", lambda o: ffprobe(mp3s[0]), None, 1)

    def ratio(a, b, i=1):
        return rows[b][i] / rows[a][i] if rows[a][i] > 0 else float("inf")

    aims = [
        ("thumbnails: x faster than 3 convert calls (batch)", ratio("pn_batch", "im3_batch"), 5),
        ("thumbnails: x faster than convert's best call (batch)",
         ratio("pn_batch", "imb_batch"), 1),
        ("thumbnails: convert's best peak RSS / ours", ratio("pn_batch", "imb_batch", 3), 3),
        ("thumbnails: 3 convert calls' peak RSS / ours", ratio("pn_batch", "im3_batch", 3), 3),
        ("thumbnails: convert's best peak RSS / ours (a child per file)",
         ratio("pni_batch", "imb_batch", 3), 3),
        ("thumbnails: convert's best private memory / ours (a child per file)",
         ratio("pni_batch", "imb_batch", 4) if USS else 0, None),
        ("thumbnails: x faster than 3 vipsthumbnail calls (batch)",
         ratio("pn_batch", "vt_batch"), 1.5),
        ("thumbnails: x faster than 3 vipsthumbnail calls (1 file)",
         ratio("pn_one", "vt_one"), 1.5),
        ("thumbnails: x faster than 3 convert calls (1 file)", ratio("pn_one", "im3_one"), 5),
        ("metadata: x faster than exiftool (batch)", ratio("pnm_batch", "et_batch"), 10),
        ("metadata: x faster than exiftool (1 file)", ratio("pnm_one", "et_one"), None),
        ("metadata: x faster than exiftool, hashing in the run (batch)",
         ratio("pnmh_batch", "et_batch"), None),
        ("metadata: SHA-256 alone, x faster than exiftool (batch)",
         ratio("sha_batch", "et_batch"), None),
        ("video: x faster than ffprobe + ffmpeg (batch)", ratio("pnv_batch", "ffv_batch"), 1),
        ("video: x faster than ffprobe + ffmpeg (1 file)", ratio("pnv_one", "ffv_one"), 1),
        ("audio: x faster than ffprobe (batch)", ratio("pna_batch", "ffa_batch"), 1),
        ("audio: x faster than ffprobe (1 file)", ratio("pna_one", "ffa_one"), None),
    ]
    print("\nRatios (wall time unless RSS; aim in brackets):")
    missed = 0
    for label, v, aim in aims:
        ok = aim is None or v >= aim
        missed += not ok
        print("  %-58s %6.2f  %s" % (label, v, "" if aim is None else
                                      "[>= %g] %s" % (aim, "ok" if ok else "MISSED")))
    os.makedirs(os.path.join(DATA, "results"), exist_ok=True)
    out = os.path.join(DATA, "results", time.strftime("%Y%m%d-%H%M%S") + ".json")
    with open(out, "w") as f:
        json.dump({"files": n, "runs": RUNS, "rows": {k: {"label": v[0], "wall_s": v[1],
                   "cpu_s": v[2], "peak_rss_kib": v[3], "peak_private_kib": v[4]}
                           for k, v in rows.items()},
                   "ratios": {a[0]: a[1] for a in aims}}, f, indent=2)
    print("\nsaved %s" % out)
    if STRICT and missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
