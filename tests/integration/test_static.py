"""Web UI hosting: content types, ETag / If-None-Match, precompressed .gz, the SPA fallback to
index.html for client routes, 404 for missing assets and API paths, traversal refused."""
import gzip
import os
import shutil
import tempfile
import unittest

import pn


class StaticUI(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ui = tempfile.mkdtemp(prefix="pn-ui-")
        os.makedirs(os.path.join(cls.ui, "assets"))
        with open(os.path.join(cls.ui, "index.html"), "w") as f:
            f.write("<!doctype html><title>Powernode</title><div id=root></div>")
        cls.js = b"console.log('powernode');\n" * 50
        with open(os.path.join(cls.ui, "assets", "app.js"), "wb") as f:
            f.write(cls.js)
        with open(os.path.join(cls.ui, "assets", "app.js.gz"), "wb") as f:
            f.write(gzip.compress(cls.js))
        with open(os.path.join(cls.ui, "assets", "logo.svg"), "w") as f:
            f.write("<svg xmlns='http://www.w3.org/2000/svg'/>")
        with open(os.path.join(cls.ui, "..secret"), "w") as f:
            f.write("no")
        cls.db = pn.Database()
        cls.srv = pn.Server(cls.db, "", env={"POWERNODE_PATHS_UI": cls.ui})

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.db.drop()
        shutil.rmtree(cls.ui, ignore_errors=True)

    def test_index_and_types(self):
        r = self.srv.request("GET", "/")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/html"))
        self.assertIn(b"Powernode", r.body)
        self.assertIn("default-src 'self'", r.headers["content-security-policy"])
        r = self.srv.request("GET", "/assets/app.js")
        self.assertTrue(r.headers["content-type"].startswith("text/javascript"))
        self.assertEqual(r.body, self.js)
        self.assertIn("immutable", r.headers["cache-control"])
        self.assertEqual(self.srv.request("GET", "/assets/logo.svg").headers["content-type"],
                         "image/svg+xml")

    def test_etag_and_304(self):
        r = self.srv.request("GET", "/assets/app.js")
        etag = r.headers["etag"]
        r2 = self.srv.request("GET", "/assets/app.js", headers={"If-None-Match": etag})
        self.assertEqual(r2.status, 304)
        self.assertEqual(r2.body, b"")
        r3 = self.srv.request("GET", "/assets/app.js", headers={"If-None-Match": '"other"'})
        self.assertEqual(r3.status, 200)

    def test_gzip_when_accepted(self):
        r = self.srv.request("GET", "/assets/app.js", headers={"Accept-Encoding": "gzip, br"})
        self.assertEqual(r.headers.get("content-encoding"), "gzip")
        self.assertEqual(gzip.decompress(r.body), self.js)
        self.assertIn("Accept-Encoding", r.headers["vary"])
        r = self.srv.request("GET", "/assets/app.js", headers={"Accept-Encoding": "identity"})
        self.assertNotIn("content-encoding", r.headers)

    def test_spa_fallback_and_missing_assets(self):
        r = self.srv.request("GET", "/files/123/versions")
        self.assertEqual(r.status, 200)
        self.assertIn(b"Powernode", r.body)
        pn.assert_envelope(self, self.srv.request("GET", "/assets/missing.js"), 404)
        pn.assert_envelope(self, self.srv.request("GET", "/api/v1/missing"), 404)

    def test_traversal_and_dotfiles_refused(self):
        for path in [b"/../../../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd",
                     b"/assets/..%2f..%2f..%2fetc%2fpasswd", b"/..secret", b"/assets/%2e%2e",
                     b"/assets\\..\\..\\etc\\passwd"]:
            resp, _ = self.srv.raw(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                                   read_all="one")
            self.assertTrue(resp.startswith(b"HTTP/1.1 404") or resp.startswith(b"HTTP/1.1 400"),
                            (path, resp[:200]))
            self.assertNotIn(b"root:", resp)
            self.assertNotIn(b"\r\n\r\nno", resp)


if __name__ == "__main__":
    pn.main()
