"""The files and storage plugins over real HTTP, on who reaches what: cross-account
administration (?account_id= with admin.files.* / admin.storage.*, a member refused with 403,
a malformed id 422, a foreign id without the query still 404), share password throttling per
client address behind a trusted proxy (http.trusted_proxies), and what counts as a download
(attachments and share downloads do; inline previews, ranges, HEAD and derivatives do not)."""
import unittest
import uuid

import pn
import test_files_support as fs

PROXY_CLIENT = "203.0.113.77"  # a documentation address: never the test's own


class FilesAccess(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = fs.FilesServer(
            "    share_password_attempts: 100\n    share_password_attempts_ip: 3\n"
            "    share_password_window: 120\n",
            env={"POWERNODE_HTTP_TRUSTED_PROXIES": "127.0.0.1"})
        cls.a = cls.s.token
        cls.a_account = cls.s.account
        # Account B with an administrator of its own (made in the database, as the API makes
        # users only in the caller's account), and what B keeps.
        cls.b, cls.b_account = cls.s.other_account_admin("b-admin@other.example.test")
        cls.b_file = cls.s.upload(b"B's bytes\n" * 10, "b-report.txt", token=cls.b)
        cls.b_trashed = cls.s.upload(b"B's old bytes", "b-old.txt", token=cls.b)
        r = cls.s.call("DELETE", f"/api/v1/files/{cls.b_trashed['id']}", token=cls.b)
        assert r.status == 200, r
        r = cls.s.call("GET", "/api/v1/storage", token=cls.b)
        assert r.status == 200, r
        cls.b_storage = r.doc["data"]["default_storage"]
        # A member of account A with every ordinary files and storage permission, no admin.*.
        cls.member = cls.s.user_with("a-member@example.test", [
            "files.files.read", "files.files.delete", "files.files.download",
            "storage.configs.read", "storage.configs.update"])
        for k in ("pn:files:sharepw:ip:" + PROXY_CLIENT, "pn:files:sharepw:ip:127.0.0.1"):
            fs.redis_cmd("DEL", k)

    @classmethod
    def tearDownClass(cls):
        log = cls.s.srv.log_text()
        code = cls.s.stop()
        assert code == 0, f"server exit code {code}\n{log}"
        assert " status=5" not in log, log

    def call(self, *a, **kw):
        return self.s.call(*a, **kw)

    def ok(self, method, path, body=None, token=None, status=200):
        r = self.call(method, path, body, token=token)
        self.assertEqual(r.status, status, r)
        return r.doc["data"] if r.doc else r

    # ---- cross-account administration ----

    def test_admin_reads_another_account_only_when_asked(self):
        q = f"account_id={self.b_account}"
        fid = self.b_file["id"]
        b_live = set(self.s.q(f"SELECT id FROM file_objects WHERE account_id = '{self.b_account}'"
                              f" AND deleted_at IS NULL AND parent_file_id IS NULL").split())
        self.assertIn(fid, b_live)
        d = self.ok("GET", f"/api/v1/files?{q}")
        self.assertEqual({f["id"] for f in d["files"]}, b_live)
        self.assertEqual(self.ok("GET", f"/api/v1/files/{fid}?{q}")["id"], fid)
        self.assertEqual(len(self.ok("GET", f"/api/v1/files/{fid}/versions?{q}")), 1)
        self.assertEqual(self.ok("GET", f"/api/v1/files/{fid}/shares?{q}"), [])
        trash = self.ok("GET", f"/api/v1/files/trash?{q}")
        self.assertEqual([f["id"] for f in trash["files"]], [self.b_trashed["id"]])
        stats = self.ok("GET", f"/api/v1/files/stats?{q}")
        self.assertEqual(stats["total_files"], len(b_live))
        self.assertEqual(stats["used_bytes"], int(self.s.q(
            f"SELECT used_bytes FROM files_account_usage WHERE account_id = '{self.b_account}'")))
        self.assertGreater(stats["used_bytes"], 0)
        # the account's own rows are not mixed in, and the own account may be named
        own = self.ok("GET", f"/api/v1/files?account_id={self.a_account}")
        self.assertNotIn(fid, [f["id"] for f in own["files"]])
        # without the query a foreign id stays a 404, even for an administrator
        for p in (f"/api/v1/files/{fid}", f"/api/v1/files/{fid}/versions",
                  f"/api/v1/files/{fid}/shares", f"/api/v1/storage/{self.b_storage}"):
            pn.assert_envelope(self, self.call("GET", p), 404)
        # the query names the account, not a wildcard: another account's id is still 404
        a_file = self.s.upload(b"A's", "a.txt")
        pn.assert_envelope(self, self.call("GET", f"/api/v1/files/{a_file['id']}?{q}"), 404)
        # storage configurations and their usage
        st = self.ok("GET", f"/api/v1/storage?{q}")
        self.assertEqual([x["id"] for x in st["storages"]], [self.b_storage])
        self.assertEqual(st["default_storage"], self.b_storage)
        one = self.ok("GET", f"/api/v1/storage/{self.b_storage}?{q}")
        self.assertEqual(one["id"], self.b_storage)
        self.assertEqual(one["used_bytes"], stats["used_bytes"])
        self.assertNotIn("account_id", one)
        # a read of an account without storages creates none there
        empty = str(uuid.uuid4())
        self.assertEqual(self.ok("GET", f"/api/v1/storage?account_id={empty}")["storages"], [])
        self.assertEqual(self.s.q(
            f"SELECT count(*) FROM file_storages WHERE account_id = '{empty}'"), "0")

    def test_member_is_refused_and_bad_ids_are_422(self):
        q = f"account_id={self.b_account}"
        fid = self.b_file["id"]
        for p, perm in ((f"/api/v1/files?{q}", "admin.files.read"),
                        (f"/api/v1/files/{fid}?{q}", "admin.files.read"),
                        (f"/api/v1/files/trash?{q}", "admin.files.read"),
                        (f"/api/v1/files/stats?{q}", "admin.files.read"),
                        (f"/api/v1/files/{fid}/versions?{q}", "admin.files.read"),
                        (f"/api/v1/storage?{q}", "admin.storage.read"),
                        (f"/api/v1/storage/{self.b_storage}?{q}", "admin.storage.read")):
            with self.subTest(path=p):
                r = self.call("GET", p, token=self.member)
                pn.assert_envelope(self, r, 403)
                self.assertIn(f"permission {perm} is required to read another account",
                              r.doc["error"])
        r = self.call("DELETE", f"/api/v1/files/{fid}?{q}", token=self.member)
        pn.assert_envelope(self, r, 403)
        self.assertIn("admin.files.manage", r.doc["error"])
        r = self.call("PATCH", f"/api/v1/storage/{self.b_storage}?{q}", {"quota_bytes": 5},
                      token=self.member)
        pn.assert_envelope(self, r, 403)
        self.assertIn("admin.storage.manage", r.doc["error"])
        # the member's own account is fine to name
        self.ok("GET", f"/api/v1/files?account_id={self.a_account}", token=self.member)
        self.ok("GET", f"/api/v1/storage?account_id={self.a_account}", token=self.member)
        for bad in ("nope", "1234", self.b_account + "0", "%27%20OR%201%3D1--"):
            for p in ("/api/v1/files", "/api/v1/files/trash", "/api/v1/storage",
                      f"/api/v1/files/{fid}"):
                with self.subTest(bad=bad, path=p):
                    r = self.call("GET", f"{p}?account_id={bad}")
                    pn.assert_envelope(self, r, 422)
                    self.assertEqual(r.doc["details"][0]["field"], "account_id")
        # nothing of B's changed
        self.assertEqual(self.call("GET", f"/api/v1/files/{fid}/download", token=self.b).status,
                         200)

    def test_admin_manages_another_account(self):
        q = f"account_id={self.b_account}"
        f = self.s.upload(b"moderate me", "moderate.txt", token=self.b)
        self.ok("DELETE", f"/api/v1/files/{f['id']}?{q}")
        self.assertNotEqual(self.s.q(
            f"SELECT deleted_at FROM file_objects WHERE id = '{f['id']}'"), "")
        self.ok("POST", f"/api/v1/files/{f['id']}/restore?{q}")
        self.assertEqual(self.s.q(
            f"SELECT deleted_at IS NULL FROM file_objects WHERE id = '{f['id']}'"), "t")
        # permanent deletion stays with the account (its blobs, its storages)
        r = self.call("DELETE", f"/api/v1/files/{f['id']}?{q}&permanent=true")
        pn.assert_envelope(self, r, 422)
        self.assertEqual(self.s.q(f"SELECT count(*) FROM file_objects WHERE id = '{f['id']}'"), "1")
        # the storage's name, quota and status, never its configuration or default
        st = self.ok("PATCH", f"/api/v1/storage/{self.b_storage}?{q}",
                     {"quota_bytes": 10_000_000, "name": "capped by A"})
        self.assertEqual((st["quota_bytes"], st["name"]), (10_000_000, "capped by A"))
        for body in ({"configuration": {"root": "/tmp"}}, {"is_default": True}):
            pn.assert_envelope(self, self.call("PATCH", f"/api/v1/storage/{self.b_storage}?{q}",
                                               body), 422)
        self.assertEqual(self.ok("GET", f"/api/v1/storage/{self.b_storage}",
                                 token=self.b)["quota_bytes"], 10_000_000)
        self.ok("PATCH", f"/api/v1/storage/{self.b_storage}?{q}", {"quota_bytes": None})

    # ---- share passwords per client address ----

    def test_share_password_throttle_follows_the_forwarded_client(self):
        f = self.s.upload(b"secret", "s.txt")
        sh = self.ok("POST", f"/api/v1/files/{f['id']}/shares", {"password": "right password 1"},
                     status=201)
        fwd = {"X-Forwarded-For": PROXY_CLIENT, "X-Share-Password": "wrong password"}
        codes = [self.call("GET", sh["url"], token="", headers=fwd).status for _ in range(4)]
        self.assertEqual(codes, [401, 401, 401, 429])
        self.assertIn(b"$1\r\n4\r\n", fs.redis_cmd("GET", "pn:files:sharepw:ip:" + PROXY_CLIENT))
        # that client is throttled even with the right password; the proxy itself (and so
        # every other client behind it) is not
        r = self.call("GET", sh["url"], token="",
                      headers={"X-Forwarded-For": PROXY_CLIENT,
                               "X-Share-Password": "right password 1"})
        self.assertEqual(r.status, 429, r)
        r = self.call("GET", sh["url"], token="",
                      headers={"X-Forwarded-For": "198.51.100.9",
                               "X-Share-Password": "right password 1"})
        self.assertEqual((r.status, r.body), (200, b"secret"))
        self.assertIn(b"$-1", fs.redis_cmd("GET", "pn:files:sharepw:ip:127.0.0.1"))

    # ---- what counts as a download ----

    def count(self, fid):
        return int(self.s.q(f"SELECT download_count FROM file_objects WHERE id = '{fid}'"))

    def test_previews_do_not_count_as_downloads(self):
        f = self.s.upload(b"<p>page</p>" * 10, "page.txt")
        fid = f["id"]
        dl = f"/api/v1/files/{fid}/download"
        self.assertEqual(self.call("GET", dl + "?disposition=inline").status, 200)
        self.assertEqual(self.call("GET", dl, headers={"Range": "bytes=0-3"}).status, 206)
        self.assertEqual(self.call("HEAD", dl).status, 200)
        self.assertEqual(self.call("GET", f"/api/v1/files/{fid}/versions/"
                                   f"{f['current_version_id']}/download").status, 200)
        self.assertEqual(self.count(fid), 0)
        self.assertEqual(self.call("GET", dl).status, 200)
        self.assertEqual(self.call("GET", dl + "?disposition=attachment").status, 200)
        self.assertEqual(self.count(fid), 2)
        # an active type asked for inline is served as an attachment but was still a preview
        svg = self.s.upload(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "i.svg")
        r = self.call("GET", f"/api/v1/files/{svg['id']}/download?disposition=inline")
        self.assertTrue(r.headers["content-disposition"].startswith("attachment"), r.headers)
        self.assertEqual(self.count(svg["id"]), 0)
        # a share download counts on the file and on the share
        sh = self.ok("POST", f"/api/v1/files/{fid}/shares", {}, status=201)
        self.assertEqual(self.call("GET", sh["url"], token="").status, 200)
        self.assertEqual(self.count(fid), 3)
        self.assertEqual(self.ok("GET", f"/api/v1/files/{fid}/shares")[0]["download_count"], 1)
        # a derivative (thumbnail) fetched by the UI never counts
        svc = self.s.service_token()
        r = self.call("POST", f"/api/v1/worker/files/{fid}/derivatives?kind=thumbnail",
                      b"\x89PNG\r\n\x1a\n" + b"\0" * 32, token=svc,
                      headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(r.status, 201, r)
        thumb = r.doc["data"]["id"]
        self.assertEqual(self.call("GET", f"/api/v1/files/{thumb}/download").status, 200)
        self.assertEqual(self.count(thumb), 0)


if __name__ == "__main__":
    pn.main()
