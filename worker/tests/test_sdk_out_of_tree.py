"""The third-party path for job plugins: install the job SDK into a temporary prefix, build
worker/examples/hello-job out of tree with nothing but pkg-config, name it in a worker config
and run a job; the same source built for job ABI 2 is refused with one precise line; so are a
file that is not a job plugin and a missing file."""
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

import wtest
from wtest import job, push, wait_for


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{cmd} failed:\n{p.stdout}\n{p.stderr}")
    return p


class OutOfTree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pnw-sdk-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        build = wtest.need("PN_BUILD_DIR")
        run(["cmake", "--install", build, "--prefix", cls.prefix, "--component", "worker"])
        pcs = glob.glob(os.path.join(cls.prefix, "**", "powernode-job.pc"), recursive=True)
        if not pcs:
            raise AssertionError("powernode-job.pc was not installed")
        cls.env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]))
        cls.src = os.path.join(cls.tmp, "hello-job")
        # A copy, so nothing of the source tree is within reach of the build.
        shutil.copytree(os.path.join(wtest.need("PN_SOURCE_DIR"), "worker", "examples",
                                     "hello-job"), cls.src)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def build(self, out, cflags=""):
        os.makedirs(out, exist_ok=True)
        run(["make", "-C", self.src, "OUT=" + out], env=dict(self.env, CFLAGS="-O1 -g " + cflags))
        return os.path.join(out, "hello_job.so")

    def check(self, so):
        """powernode-worker --check: 0 and the class list, or 1 and the refusal."""
        w = wtest.Worker("redis://127.0.0.1:9/1", plugins=[so])
        return subprocess.run([wtest.worker_bin(), "--config", w.cfg, "--check"],
                              capture_output=True, text=True, timeout=60, env=w.env)

    def test_sdk_installed(self):
        self.assertTrue(os.path.exists(os.path.join(self.prefix, "include", "powernode",
                                                    "job.h")))
        p = run(["pkg-config", "--cflags", "--libs", "powernode-job"], env=self.env)
        self.assertNotIn(wtest.need("PN_SOURCE_DIR"), p.stdout)
        p = run(["pkg-config", "--variable=abi", "powernode-job"], env=self.env)
        self.assertEqual(p.stdout.strip(), "1")

    def test_build_and_run(self):
        so = self.build(os.path.join(self.tmp, "good"))
        r, url = wtest.shared_redis(9)
        w = wtest.Worker(url, plugins=[wtest.jobs_so(), so]).start()
        try:
            j = wtest.jid()
            push(r, [job("Example::Hello", ["out-of-tree"], j=j)])
            wait_for(lambda: r("EXISTS", f"pn:idem:Example::Hello:{j}") == 1, 10,
                     "the example job marked its jid processed")
            wait_for(lambda: "said hello to out-of-tree" in w.log_text(), 5, "its log line")
            self.assertIn(f"class=Example::Hello jid={j} attempt=1", w.log_text())
        finally:
            self.assertEqual(w.stop(), 0)
            w.check_sanitizers()

    def test_wrong_abi_refused_in_one_line(self):
        so = self.build(os.path.join(self.tmp, "abi2"), "-DPN_JOB_ABI=2")
        p = self.check(so)
        self.assertEqual(p.returncode, 1)
        lines = [x for x in p.stderr.splitlines() if "level=error" in x]
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn('job plugin "hello_job" (hello_job.so): built for job ABI 2, this worker '
                      'provides ABI 1; rebuild against powernode-job 1.x', lines[0])

    def test_unknown_files_refused(self):
        p = self.check(os.path.join(self.tmp, "nope.so"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("nope.so: file not found", p.stderr)
        # A real shared object that is not a job plugin (libjansson).
        lib = subprocess.run(["pkg-config", "--variable=libdir", "jansson"], capture_output=True,
                             text=True).stdout.strip()
        cand = glob.glob(os.path.join(lib, "libjansson.so*"))
        p = self.check(cand[0])
        self.assertEqual(p.returncode, 1)
        self.assertIn("not a Powernode job plugin (no pn_job_entry)", p.stderr)
        # An executable is not a loadable job plugin either.
        p = self.check(wtest.worker_bin())
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot open", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
