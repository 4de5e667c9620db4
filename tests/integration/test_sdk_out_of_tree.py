"""The third-party path: install the SDK into a temporary prefix, build examples/hello-plugin
out of tree with nothing but pkg-config, load it into a server and call its route; the same
source built for another ABI number is refused with one line."""
import os
import shutil
import subprocess
import tempfile
import unittest

import pn


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{cmd} failed:\n{p.stdout}\n{p.stderr}")
    return p


class OutOfTree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pn-sdk-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        run(["cmake", "--install", pn.build_dir(), "--prefix", cls.prefix])
        cls.src = os.path.join(cls.tmp, "hello-plugin")
        # A copy, so nothing of the source tree (no kernel header) is within reach.
        shutil.copytree(os.path.join(pn.source_dir(), "examples", "hello-plugin"), cls.src)
        libdir = [d for d in ("lib", "lib64", "lib/x86_64-linux-gnu")
                  if os.path.exists(os.path.join(cls.prefix, d, "pkgconfig",
                                                 "powernode-plugin.pc"))][0]
        cls.env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(cls.prefix, libdir, "pkgconfig"))
        cls.db = pn.Database()

    @classmethod
    def tearDownClass(cls):
        cls.db.drop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def build(self, outdir, extra_cflags=""):
        os.makedirs(outdir, exist_ok=True)
        env = dict(self.env, CFLAGS="-O1 -g " + extra_cflags)
        run(["make", "-C", self.src, "OUT=" + outdir], env=env)
        return os.path.join(outdir, "hello.so")

    def test_installed_sdk_is_complete(self):
        inc = os.path.join(self.prefix, "include", "powernode")
        for h in ("plugin.h", "host.h", "reply.h", "types.h", "ABI.md"):
            self.assertTrue(os.path.exists(os.path.join(inc, h)), h)
        p = run(["pkg-config", "--cflags", "--libs", "powernode-plugin"], env=self.env)
        incs = [os.path.realpath(f[2:]) for f in p.stdout.split() if f.startswith("-I")]
        self.assertIn(os.path.realpath(os.path.dirname(inc)), incs, p.stdout)
        self.assertNotIn(pn.source_dir(), p.stdout)

    def test_build_load_and_call(self):
        so = self.build(os.path.join(self.tmp, "good"))
        # The plugin's migrations are found through the installed data folder layout.
        data = os.path.join(self.tmp, "data")
        os.makedirs(os.path.join(data, "hello"), exist_ok=True)
        shutil.copytree(os.path.join(self.src, "sql"), os.path.join(data, "hello", "sql"))
        empty = os.path.join(self.tmp, "noplugins")
        os.makedirs(empty, exist_ok=True)
        srv = pn.Server(self.db, "plugins:\n  hello:\n    prefix: Hi\n", plugins_paths=[so],
                        env={"POWERNODE_PATHS_PLUGINS": empty, "POWERNODE_PATHS_PLUGIN_DATA": data})
        try:
            srv.create_admin()
            tok = srv.login()
            r = srv.request("POST", "/api/v1/hello/greetings", {"message": "there"}, token=tok)
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.doc["data"]["message"], "Hi, there")
            r = srv.request("GET", "/api/v1/hello/greetings/" + r.doc["data"]["id"], token=tok)
            self.assertEqual(r.status, 200, r)
        finally:
            self.assertEqual(srv.stop(), 0, srv.log_text())

    def test_wrong_abi_is_refused_in_one_line(self):
        so = self.build(os.path.join(self.tmp, "abi2"), "-DPN_PLUGIN_ABI=2")
        empty = os.path.join(self.tmp, "noplugins2")
        os.makedirs(empty, exist_ok=True)
        srv = pn.Server(self.db, "", plugins_paths=[so], expect_start=False,
                        env={"POWERNODE_PATHS_PLUGINS": empty})
        code, out = srv.run_once("--check-config")
        self.assertNotEqual(code, 0)
        lines = [l for l in out.splitlines() if "hello" in l and "ABI" in l]
        self.assertEqual(lines, ['powernode-server: plugin "hello" (hello.so): built for plugin '
                                 'ABI 2, this server provides ABI 1; rebuild against '
                                 'powernode-plugin 1.x'], out)


if __name__ == "__main__":
    pn.main()
