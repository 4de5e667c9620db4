"""The isolation rule: powernode-worker, every job plugin and what they open with dlopen (the
files plugin's backends, libcurl, libcrypto) must not link libpq (readelf -d NEEDED entries, direct or
through any dependency ldd resolves) and no worker source includes libpq headers."""
import glob
import os
import re
import subprocess
import sys


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def needed(path):
    p = subprocess.run(["readelf", "-d", path], capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"readelf -d {path}: {p.stderr.strip()}")
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", p.stdout)


def main():
    bin_ = os.environ.get("PN_WORKER_BIN")
    jobs = os.environ.get("PN_WORKER_JOBS")
    build = os.environ.get("PN_BUILD_DIR")
    src = os.environ.get("PN_SOURCE_DIR")
    if not (bin_ and jobs and build and src):
        fail("PN_WORKER_BIN, PN_WORKER_JOBS, PN_BUILD_DIR and PN_SOURCE_DIR must be set (ctest "
             "sets them)")
    jobdir = os.path.dirname(jobs)
    files = [bin_] + sorted(set(glob.glob(os.path.join(jobdir, "*.so")) +
                                glob.glob(os.path.join(jobdir, "*", "*.so")) +
                                glob.glob(os.path.join(build, "worker", "fixtures", "*.so"))))
    # libcurl and libcrypto are opened on first use (worker/src/curlload.h, cryptoload.h), so
    # ldd of the worker no longer shows them: check the libraries the loader would find by
    # those names.
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    for soname in ("libcurl.so.4", "libcrypto.so.3"):
        found = re.findall(r"^\s*" + re.escape(soname) + r" \([^)]*\) => (\S+)$", cache, re.M)
        if not found:
            fail(f"{soname} is not in the loader cache (ldconfig -p): the worker needs it")
        files.append(found[0])
    checked = 0
    for f in files:
        n = needed(f)
        if not n:
            fail(f"{f}: no NEEDED entries at all; is this the right file?")
        bad = [x for x in n if "libpq" in x]
        if bad:
            fail(f"{f} links {bad}")
        # Indirect: anything the loader would pull in.
        p = subprocess.run(["ldd", f], capture_output=True, text=True)
        if "libpq" in p.stdout:
            fail(f"{f} pulls in libpq through a dependency:\n{p.stdout}")
        print(f"ok {f}: NEEDED {', '.join(n)}")
        checked += 1
    if checked < 2:
        fail("expected the worker and at least one job plugin")
    for path in glob.glob(os.path.join(src, "worker", "**", "*.[ch]"), recursive=True):
        with open(path, errors="replace") as fh:
            for i, line in enumerate(fh, 1):
                if re.match(r"\s*#\s*include\s*[<\"](libpq|postgres|pg_)", line):
                    fail(f"{path}:{i} includes a PostgreSQL header: {line.strip()}")
    print(f"{checked} passed, 0 failed")


main()
