"""The files plugin over real HTTP against the real storage plugin (local provider):
uploads (multipart, raw), list filters, show, update, trash and restore, permanent delete,
downloads (Range, ETag, Disposition, nosniff, sandbox CSP), versions, tags, shares (limits,
expiry, revocation, password throttling), signed URLs, processing jobs and worker routes,
quota races, killed and failed uploads, traversal in filenames, another account (404
everywhere) and missing permissions (403)."""
import concurrent.futures
import hashlib
import json
import os
import re
import socket
import time
import unittest
import uuid

import pn
import test_files_support as fs

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


class Files(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = fs.FilesServer(
            "    share_password_attempts: 3\n    share_password_attempts_ip: 5\n"
            "    share_password_window: 120\n    trash_days: 7\n")
        cls.t = cls.s.token
        # the per-address password counter of an earlier run must not count here
        fs.redis_cmd("DEL", "pn:files:sharepw:ip:127.0.0.1")

    @classmethod
    def tearDownClass(cls):
        code = cls.s.stop()
        assert code == 0, f"server exit code {code}\n{cls.s.srv.log_text()}"

    def call(self, *a, **kw):
        return self.s.call(*a, **kw)

    def ok(self, method, path, body=None, status=200, **kw):
        r = self.call(method, path, body, **kw)
        self.assertEqual(r.status, status, r)
        return r.doc["data"] if r.doc else r

    def check_consistent(self):
        """Counters equal the bytes of stored versions plus live reservations; every version
        row has its blob and every blob under files/ has a row."""
        acct, st = self.s.usage()
        reserved = int(self.s.q(f"SELECT COALESCE(sum(upload_length), 0) FROM file_uploads"
                                f" WHERE account_id = '{self.s.account}'"))
        stored = self.s.stored_bytes()
        self.assertEqual(acct, stored + reserved)
        self.assertEqual(st, stored + reserved)
        keys = set(self.s.q("SELECT storage_key FROM file_versions").split())
        blobs = {b for b in self.s.blobs() if "/files/" in b}
        self.assertEqual({b.split("/", 1)[1] for b in blobs}, keys)

    # ---- upload, show, list ----

    def test_upload_multipart_and_show(self):
        data = b"hello world\n" * 100
        f = self.s.upload(data, "greeting.txt", fields={"description": "hi", "tags": "Alpha,beta",
                                                        "category": "import"})
        self.assertRegex(f["id"], fs.UUID_RE)
        self.assertEqual(f["filename"], "greeting.txt")
        self.assertEqual(f["file_size"], len(data))
        self.assertEqual(f["content_type"], "text/plain; charset=utf-8")
        self.assertEqual(f["checksum_sha256"], fs.sha256(data))
        self.assertEqual(f["tags"], ["alpha", "beta"])
        self.assertEqual(f["category"], "import")
        show = self.ok("GET", f"/api/v1/files/{f['id']}")
        self.assertEqual(len(show["versions"]), 1)
        key = self.s.q(f"SELECT storage_key FROM file_versions WHERE file_object_id = '{f['id']}'")
        self.assertRegex(key, rf"^acct/{self.s.account}/files/{f['id']}/{fs.UUID_RE}$")
        self.check_consistent()

    def test_raw_upload_name_from_query_and_disposition(self):
        f = self.s.upload_raw(b"%PDF-1.4 raw", "?filename=report.pdf")
        self.assertEqual(f["filename"], "report.pdf")
        self.assertEqual(f["content_type"], "application/pdf")
        f = self.s.upload_raw(b"abc", headers={
            "Content-Disposition": "attachment; filename=\"x.bin\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"})
        self.assertEqual(f["filename"], "r\u00e9sum\u00e9.txt")
        # the declared type is never trusted: PNG bytes sent as text are a PNG
        f = self.s.upload_raw(PNG, "?filename=fake.txt", headers={"Content-Type": "text/plain"})
        self.assertEqual(f["content_type"], "image/png")
        self.assertEqual(f["file_type"], "image")

    def test_bad_multipart_and_options(self):
        r = self.call("POST", "/api/v1/files/upload", b"--x\r\nnope",
                      headers={"Content-Type": "multipart/form-data; boundary=x"})
        pn.assert_envelope(self, r, 400)
        body, ct = fs.multipart({}, {"a": "b"})
        pn.assert_envelope(self, self.call("POST", "/api/v1/files/upload", body,
                                           headers={"Content-Type": ct}), 422)
        body, ct = fs.multipart({"file": ("a", b"x")}, {"visibility": "everyone"})
        pn.assert_envelope(self, self.call("POST", "/api/v1/files/upload", body,
                                           headers={"Content-Type": ct}), 422)
        pn.assert_envelope(self, self.call("POST", "/api/v1/files/upload", b"x",
                                           headers={"Content-Type": "multipart/form-data"}), 415)
        self.check_consistent()

    def test_list_filters_sort_pages(self):
        tag = "t" + uuid.uuid4().hex[:8]
        ids = []
        for i, size in enumerate((10, 2000, 30000)):
            ids.append(self.s.upload(b"z" * size, f"list-{tag}-{i}.txt",
                                     fields={"tags": tag, "category": "workflow_output"})["id"])
        d = self.ok("GET", f"/api/v1/files?tag={tag}&sort=file_size&order=asc")
        self.assertEqual([f["id"] for f in d["files"]], ids)
        self.assertEqual(d["pagination"]["total_count"], 3)
        d = self.ok("GET", f"/api/v1/files?tag={tag}&size_min=100&size_max=5000")
        self.assertEqual([f["id"] for f in d["files"]], [ids[1]])
        d = self.ok("GET", f"/api/v1/files?q=list-{tag}-2")
        self.assertEqual([f["id"] for f in d["files"]], [ids[2]])
        d = self.ok("GET", f"/api/v1/files?q=%25&tag={tag}")  # a literal % matches nothing
        self.assertEqual(d["files"], [])
        d = self.ok("GET", f"/api/v1/files?tag={tag}&per_page=2&page=2&sort=filename")
        self.assertEqual([f["id"] for f in d["files"]], [ids[2]])
        self.assertEqual(d["pagination"]["total_pages"], 2)
        d = self.ok("GET", f"/api/v1/files?tag={tag}&category=user_upload")
        self.assertEqual(d["files"], [])
        d = self.ok("GET", f"/api/v1/files?tag={tag}&created_from=2000-01-01T00:00:00Z"
                           f"&created_to=2999-01-01T00:00:00Z&visibility=private")
        self.assertEqual(len(d["files"]), 3)
        for bad in ("sort=id;drop", "per_page=1000", "page=0", "size_min=-1", "order=sideways"):
            pn.assert_envelope(self, self.call("GET", "/api/v1/files?" + bad), 422)
        tags = self.ok("GET", "/api/v1/files/tags")
        self.assertIn(tag, [t["name"] for t in tags])
        self.assertEqual([t for t in tags if t["name"] == tag][0]["files_count"], 3)
        stats = self.ok("GET", "/api/v1/files/stats")
        self.assertGreaterEqual(stats["total_files"], 3)

    def test_update_metadata(self):
        f = self.s.upload(b"u", "old.txt")
        d = self.ok("PATCH", f"/api/v1/files/{f['id']}",
                    {"filename": "../new\u202e.txt", "description": "d", "visibility": "shared",
                     "metadata": {"k": 1}})
        self.assertEqual(d["filename"], "new_.txt")
        self.assertEqual(d["visibility"], "shared")
        self.assertEqual(d["metadata"], {"k": 1})
        pn.assert_envelope(self, self.call("PATCH", f"/api/v1/files/{f['id']}",
                                           {"storage_key": "x"}), 422)
        pn.assert_envelope(self, self.call("PATCH", f"/api/v1/files/{f['id']}",
                                           {"visibility": "world"}), 422)

    # ---- downloads ----

    def test_download_range_etag_disposition(self):
        data = bytes(range(256)) * 40
        f = self.s.upload(data, "caf\u00e9 \"q\".bin")
        path = f"/api/v1/files/{f['id']}/download"
        r = self.call("GET", path)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, data)
        self.assertEqual(r.headers["content-type"], "application/octet-stream")
        self.assertEqual(r.headers["x-content-type-options"], "nosniff")
        self.assertEqual(r.headers["accept-ranges"], "bytes")
        self.assertEqual(r.headers["content-disposition"],
                         "attachment; filename=\"caf__ _q_.bin\"; "
                         "filename*=UTF-8''caf%C3%A9%20_q_.bin")
        self.assertIn("sandbox", r.headers["content-security-policy"])
        etag = r.headers["etag"]
        self.assertEqual(etag, '"%s"' % f["current_version_id"])
        r = self.call("GET", path, headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        r = self.call("GET", path, headers={"Range": "bytes=100-199"})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.body, data[100:200])
        self.assertEqual(r.headers["content-range"], f"bytes 100-199/{len(data)}")
        r = self.call("GET", path, headers={"Range": "bytes=-10"})
        self.assertEqual((r.status, r.body), (206, data[-10:]))
        r = self.call("GET", path, headers={"Range": f"bytes={len(data)}-"})
        pn.assert_envelope(self, r, 416)
        self.assertEqual(r.headers["content-range"], f"bytes */{len(data)}")
        r = self.call("GET", path, headers={"Range": "bytes=0-1,5-6"})  # multi: whole file
        self.assertEqual((r.status, r.body), (200, data))
        r = self.call("GET", path, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
        self.assertEqual((r.status, len(r.body)), (200, len(data)))
        r = self.call("HEAD", path)
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(int(r.headers["content-length"]), len(data))
        r = self.call("GET", path + "?disposition=inline")
        self.assertTrue(r.headers["content-disposition"].startswith("inline;"))

    def test_active_content_is_always_an_attachment(self):
        for body, ctype in ((b"<!doctype html><script>alert(1)</script>", "text/html"),
                            (b"<svg xmlns='http://www.w3.org/2000/svg'><script>1</script></svg>",
                             "image/svg+xml"),
                            (b"<?xml version='1.0'?><x/>", "application/xml")):
            f = self.s.upload(body, "page.html")
            self.assertTrue(f["content_type"].startswith(ctype), f)
            r = self.call("GET", f"/api/v1/files/{f['id']}/download?disposition=inline")
            self.assertTrue(r.headers["content-disposition"].startswith("attachment;"), r.headers)
            self.assertIn("sandbox", r.headers["content-security-policy"])
            self.assertIn("default-src 'none'", r.headers["content-security-policy"])
            self.assertEqual(r.headers["x-content-type-options"], "nosniff")

    def test_signed_url(self):
        data = b"signed bytes"
        f = self.s.upload(data, "s.txt")
        d = self.ok("GET", f"/api/v1/files/{f['id']}/signed_url?expires_in=60")
        r = self.call("GET", d["url"], token="")
        self.assertEqual((r.status, r.body), (200, data))
        bad = re.sub(r"signature=(.)", lambda m: "signature=" + ("0" if m.group(1) != "0" else "1"),
                     d["url"])
        pn.assert_envelope(self, self.call("GET", bad, token=""), 403)
        other = self.s.upload(b"other", "o.txt")
        moved = d["url"].replace(f["id"], other["id"])
        pn.assert_envelope(self, self.call("GET", moved, token=""), 403)
        longer = re.sub(r"expires=(\d+)", lambda m: "expires=%d" % (int(m.group(1)) + 1000),
                        d["url"])
        pn.assert_envelope(self, self.call("GET", longer, token=""), 403)
        pn.assert_envelope(self, self.call("GET", d["url"].replace("attachment", "inline"),
                                           token=""), 403)
        d = self.ok("GET", f"/api/v1/files/{f['id']}/signed_url?expires_in=1")
        time.sleep(2.2)
        pn.assert_envelope(self, self.call("GET", d["url"], token=""), 410)
        pn.assert_envelope(self, self.call("GET", f"/api/v1/files/{f['id']}/signed_url"
                                                  "?expires_in=99999999"), 422)

    # ---- versions ----

    def test_versions_upload_download_restore(self):
        f = self.s.upload(b"version one", "v.txt")
        body, ct = fs.multipart({"file": ("ignored.txt", b"version two!")},
                                {"change_description": "second"})
        r = self.call("POST", f"/api/v1/files/{f['id']}/versions", body,
                      headers={"Content-Type": ct})
        self.assertEqual(r.status, 201, r)
        v2 = r.doc["data"]
        self.assertEqual(v2["version"], 2)
        self.assertEqual(v2["filename"], "v.txt")
        self.assertEqual(v2["file_size"], len(b"version two!"))
        vs = self.ok("GET", f"/api/v1/files/{f['id']}/versions")
        self.assertEqual([v["version_number"] for v in vs], [2, 1])
        self.assertEqual([v["is_current"] for v in vs], [True, False])
        v1id = vs[1]["id"]
        r = self.call("GET", f"/api/v1/files/{f['id']}/versions/{v1id}/download")
        self.assertEqual(r.body, b"version one")
        self.assertEqual(self.call("GET", f"/api/v1/files/{f['id']}/download").body,
                         b"version two!")
        d = self.ok("POST", f"/api/v1/files/{f['id']}/versions/{v1id}/restore")
        self.assertEqual((d["version"], d["current_version_id"]), (1, v1id))
        self.assertEqual(self.call("GET", f"/api/v1/files/{f['id']}/download").body,
                         b"version one")
        pn.assert_envelope(self, self.call("POST", f"/api/v1/files/{f['id']}/versions/"
                                                   f"{uuid.uuid4()}/restore"), 404)
        self.check_consistent()

    # ---- tags ----

    def test_tags_add_remove_find(self):
        f = self.s.upload(b"tags", "t.txt")
        tag = "x" + uuid.uuid4().hex[:6]
        d = self.ok("POST", f"/api/v1/files/{f['id']}/tags", {"tags": [tag.upper(), " other "]})
        self.assertEqual(d["tags"], sorted([tag, "other"]))
        self.ok("POST", f"/api/v1/files/{f['id']}/tags", {"tags": [tag]})  # idempotent
        found = self.ok("GET", f"/api/v1/files?tag={tag}")["files"]
        self.assertEqual([x["id"] for x in found], [f["id"]])
        d = self.ok("DELETE", f"/api/v1/files/{f['id']}/tags", {"tags": [tag]})
        self.assertEqual(d["tags"], ["other"])
        self.assertEqual(self.ok("GET", f"/api/v1/files?tag={tag}")["files"], [])
        pn.assert_envelope(self, self.call("POST", f"/api/v1/files/{f['id']}/tags",
                                           {"tags": ["a,b"]}), 422)

    # ---- trash ----

    def test_trash_restore_purge_and_sweeper(self):
        before_blobs = self.s.blobs()
        f = self.s.upload(b"trash me", "trash.txt")
        fid = f["id"]
        d = self.ok("DELETE", f"/api/v1/files/{fid}")
        self.assertEqual(d, {"deleted": True, "permanent": False})
        pn.assert_envelope(self, self.call("GET", f"/api/v1/files/{fid}"), 404)
        pn.assert_envelope(self, self.call("GET", f"/api/v1/files/{fid}/download"), 404)
        self.assertNotIn(fid, [x["id"] for x in self.ok("GET", "/api/v1/files?per_page=100")["files"]])
        self.assertIn(fid, [x["id"] for x in self.ok("GET", "/api/v1/files/trash?per_page=100")["files"]])
        self.ok("POST", f"/api/v1/files/{fid}/restore")
        self.assertEqual(self.call("GET", f"/api/v1/files/{fid}/download").body, b"trash me")
        pn.assert_envelope(self, self.call("POST", f"/api/v1/files/{fid}/restore"), 409)
        # permanent delete: row, versions and blob go, bytes are given back
        self.ok("DELETE", f"/api/v1/files/{fid}?permanent=true")
        self.assertEqual(self.s.q(f"SELECT count(*) FROM file_versions WHERE file_object_id = '{fid}'"), "0")
        self.assertEqual(self.s.blobs(), before_blobs)
        self.check_consistent()
        # the sweeper purges trash older than trash_days, and only that
        old = self.s.upload(b"old trash", "old.txt")["id"]
        new = self.s.upload(b"new trash", "new.txt")["id"]
        self.ok("DELETE", f"/api/v1/files/{old}")
        self.ok("DELETE", f"/api/v1/files/{new}")
        self.s.q(f"UPDATE file_objects SET deleted_at = now() - interval '8 days' WHERE id = '{old}'")
        d = self.ok("POST", "/api/v1/worker/files/sweep", token=self.s.service_token())
        self.assertGreaterEqual(d["purged_files"], 1)
        self.assertEqual(self.s.q(f"SELECT count(*) FROM file_objects WHERE id = '{old}'"), "0")
        self.assertEqual(self.s.q(f"SELECT count(*) FROM file_objects WHERE id = '{new}'"), "1")
        # emptying the trash purges the rest
        d = self.ok("DELETE", "/api/v1/files/trash")
        self.assertGreaterEqual(d["purged"], 1)
        self.assertEqual(self.s.q("SELECT count(*) FROM file_objects WHERE deleted_at IS NOT NULL"
                                  f" AND account_id = '{self.s.account}'"), "0")
        self.check_consistent()

    # ---- shares ----

    def test_share_download_limit_expiry_revocation(self):
        data = b"shared content"
        f = self.s.upload(data, "share.txt")
        sh = self.ok("POST", f"/api/v1/files/{f['id']}/shares", {"max_downloads": 2}, status=201)
        self.assertEqual(len(sh["token"]), 43)
        self.assertNotIn("password_hash", sh)
        url = sh["url"]
        for _ in range(2):
            r = self.call("GET", url, token="")
            self.assertEqual((r.status, r.body), (200, data))
            self.assertTrue(r.headers["content-disposition"].startswith("attachment;"))
        pn.assert_envelope(self, self.call("GET", url, token=""), 410)
        # concurrent downloads never pass the limit
        sh = self.ok("POST", f"/api/v1/files/{f['id']}/shares", {"max_downloads": 5}, status=201)
        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            st = list(ex.map(lambda _: self.call("GET", sh["url"], token="").status, range(20)))
        self.assertEqual(st.count(200), 5, st)
        self.assertEqual(st.count(410), 15, st)
        self.assertEqual(self.s.q(f"SELECT download_count FROM file_shares WHERE id = '{sh['id']}'"), "5")
        # expired
        sh = self.ok("POST", f"/api/v1/files/{f['id']}/shares", {"expires_in": 3600}, status=201)
        self.assertEqual(self.call("GET", sh["url"], token="").status, 200)
        self.s.q(f"UPDATE file_shares SET expires_at = now() - interval '1 second' WHERE id = '{sh['id']}'")
        pn.assert_envelope(self, self.call("GET", sh["url"], token=""), 410)
        pn.assert_envelope(self, self.call("POST", f"/api/v1/files/{f['id']}/shares",
                                           {"expires_at": "2001-01-01T00:00:00Z"}), 422)
        # revoked
        sh = self.ok("POST", f"/api/v1/files/{f['id']}/shares", {}, status=201)
        self.assertEqual(self.call("DELETE", f"/api/v1/files/{f['id']}/shares/{sh['id']}").status, 204)
        pn.assert_envelope(self, self.call("GET", sh["url"], token=""), 410)
        shares = self.ok("GET", f"/api/v1/files/{f['id']}/shares")
        self.assertTrue(all("token" not in x and "password_hash" not in x for x in shares))
        self.assertIn("revoked", [x["status"] for x in shares])
        # unknown or malformed tokens
        pn.assert_envelope(self, self.call("GET", "/api/v1/public/shares/" + "A" * 43, token=""), 404)
        pn.assert_envelope(self, self.call("GET", "/api/v1/public/shares/..%2f..%2fetc", token=""), 404)
        # a trashed file's shares stop working
        sh = self.ok("POST", f"/api/v1/files/{f['id']}/shares", {}, status=201)
        self.ok("DELETE", f"/api/v1/files/{f['id']}")
        pn.assert_envelope(self, self.call("GET", sh["url"], token=""), 404)
        self.ok("POST", f"/api/v1/files/{f['id']}/restore")

    def test_share_password_throttled_per_share_and_per_address(self):
        fs.redis_cmd("DEL", "pn:files:sharepw:ip:127.0.0.1")
        f = self.s.upload(b"secret", "pw.txt")
        a = self.ok("POST", f"/api/v1/files/{f['id']}/shares", {"password": "right password"}, status=201)
        b = self.ok("POST", f"/api/v1/files/{f['id']}/shares", {"password": "right password"}, status=201)
        self.assertTrue(a["password_protected"])
        h = self.s.q(f"SELECT password_hash FROM file_shares WHERE id = '{a['id']}'")
        self.assertTrue(h.startswith("$argon2id$"), h)
        pn.assert_envelope(self, self.call("GET", a["url"], token=""), 401)  # none given: not counted
        r = self.call("POST", a["url"], {"password": "right password"}, token="")
        self.assertEqual((r.status, r.body), (200, b"secret"))  # attempt 1 (share a, ip 1)
        for _ in range(2):  # attempts 2, 3
            pn.assert_envelope(self, self.call("GET", a["url"], token="",
                                               headers={"X-Share-Password": "wrong"}), 401)
        # over the share's limit: refused before the hash, even with the right password
        r = self.call("GET", a["url"], token="", headers={"X-Share-Password": "right password"})
        pn.assert_envelope(self, r, 429)
        self.assertEqual(r.headers["retry-after"], "120")
        # share b is fresh, but the address has used its 5 attempts after two more (the
        # refused attempt on a stopped at the share's counter)
        for _ in range(2):
            pn.assert_envelope(self, self.call("GET", b["url"], token="",
                                               headers={"X-Share-Password": "wrong"}), 401)
        pn.assert_envelope(self, self.call("GET", b["url"], token="",
                                           headers={"X-Share-Password": "right password"}), 429)
        fs.redis_cmd("DEL", "pn:files:sharepw:ip:127.0.0.1")

    # ---- events ----

    def open_events(self):
        """A raw SSE subscription to files.files, in place before this returns."""
        sock = socket.create_connection(("127.0.0.1", self.s.srv.port), timeout=10)
        sock.sendall((f"GET /api/v1/events?channels=files.files HTTP/1.1\r\nHost: t\r\n"
                      f"Accept: text/event-stream\r\nAuthorization: Bearer {self.t}\r\n\r\n"
                      ).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            c = sock.recv(65536)
            self.assertTrue(c, buf)
            buf += c
        self.assertTrue(buf.startswith(b"HTTP/1.1 200"), buf[:200])
        time.sleep(0.3)  # the subscription is in place before anything is published
        return sock, buf

    @staticmethod
    def read_events(sock, buf, done, seconds=10):
        """Read until done(buf) or the bounded wait ends; the bytes so far."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not done(buf):
            try:
                c = sock.recv(65536)
            except socket.timeout:
                break
            if not c:
                break
            buf += c
        return buf

    def test_upload_and_delete_publish_events(self):
        sock, buf = self.open_events()
        try:
            f = self.s.upload(b"evented", "ev.txt")
            self.ok("DELETE", f"/api/v1/files/{f['id']}")
            buf = self.read_events(sock, buf, lambda b: b"file.uploaded" in b and
                                   b"file.deleted" in b and b.count(f["id"].encode()) >= 2)
            self.assertIn(b"file.uploaded", buf)
            self.assertIn(b"file.deleted", buf)
            self.assertGreaterEqual(buf.count(f["id"].encode()), 2)
        finally:
            sock.close()

    def test_processing_publishes_progress_and_the_end(self):
        svc = self.s.service_token()
        sock, buf = self.open_events()
        try:
            f = self.s.upload(PNG, "processed.png")
            jids = self.s.q(f"SELECT id FROM file_processing_jobs"
                            f" WHERE file_object_id = '{f['id']}' ORDER BY job_type").split()
            self.assertEqual(len(jids), 2)
            for jid in jids:
                for st in ("processing", "completed"):
                    self.ok("PATCH", f"/api/v1/worker/processing_jobs/{jid}", {"status": st},
                            token=svc)
            buf = self.read_events(sock, buf, lambda b: b"file.processed" in b)
            events = [json.loads(line[6:]) for line in buf.decode("utf-8", "replace").split("\n")
                      if line.startswith("data: ")]
            mine = [e["data"] for e in events if e.get("data", {}).get("id") == f["id"]]
            progress = [(e["job_status"], e["processing_status"]) for e in mine
                        if "job_status" in e]
            self.assertEqual(len(progress), 4, mine)
            self.assertEqual(progress[-1], ("completed", "completed"))
            done = [e for e in events if e.get("type") == "file.processed"]
            self.assertEqual(len(done), 1, events)
            self.assertEqual(done[0]["data"], {"id": f["id"], "processing_status": "completed"})
        finally:
            sock.close()

    # ---- processing jobs and worker routes ----

    def test_processing_jobs_and_worker_routes(self):
        svc = self.s.service_token()
        f = self.s.upload(PNG, "pic.png")
        jobs = self.s.q(f"SELECT job_type || ':' || job_class || ':' || status || ':' ||"
                        f" (enqueued_at IS NOT NULL) FROM file_processing_jobs"
                        f" WHERE file_object_id = '{f['id']}' ORDER BY job_type").split()
        self.assertEqual(jobs, ["metadata_extract:MetadataExtractionJob:pending:true",
                                "thumbnail:ThumbnailGenerationJob:pending:true"])
        jid = self.s.q(f"SELECT id FROM file_processing_jobs WHERE file_object_id = '{f['id']}'"
                       f" AND job_type = 'thumbnail'")
        j = self.ok("GET", f"/api/v1/worker/processing_jobs/{jid}", token=svc)
        self.assertEqual((j["status"], j["file_object"]["id"]), ("pending", f["id"]))
        path = f"/api/v1/worker/processing_jobs/{jid}"
        pn.assert_envelope(self, self.call("PATCH", path, {"status": "completed"}, token=svc), 409)
        self.assertEqual(self.ok("PATCH", path, {"status": "processing"}, token=svc)["status"], "processing")
        self.assertEqual(self.ok("PATCH", path, {"status": "processing"}, token=svc)["status"], "processing")
        d = self.ok("PATCH", path, {"status": "completed", "result_data": {"n": 3}}, token=svc)
        self.assertEqual((d["status"], d["result_data"]), ("completed", {"n": 3}))
        d = self.ok("PATCH", path, {"status": "completed", "result_data": {"n": 4}}, token=svc)
        self.assertEqual(d["result_data"], {"n": 3})  # a repeat changes nothing
        pn.assert_envelope(self, self.call("PATCH", path, {"status": "processing"}, token=svc), 409)
        pn.assert_envelope(self, self.call("PATCH", path, {"status": "failed"}, token=svc), 409)
        pn.assert_envelope(self, self.call("PATCH", path, {"status": "done"}, token=svc), 422)
        self.assertEqual(self.ok("GET", f"/api/v1/files/{f['id']}")["processing_status"], "processing")
        # worker reads the file and its bytes, merges metadata, stores a derivative
        w = self.ok("GET", f"/api/v1/worker/files/{f['id']}", token=svc)
        self.assertNotIn("storage_key", w)
        r = self.call("GET", f"/api/v1/worker/files/{f['id']}/download", token=svc)
        self.assertEqual(r.body, PNG)
        d = self.ok("PATCH", f"/api/v1/worker/files/{f['id']}",
                    {"dimensions": {"width": 1}, "metadata": {"a": 1}}, token=svc)
        self.assertEqual(d["dimensions"], {"width": 1})
        d = self.ok("PATCH", f"/api/v1/worker/files/{f['id']}", {"dimensions": {"height": 2}},
                    token=svc)
        self.assertEqual(d["dimensions"], {"width": 1, "height": 2})
        r = self.call("POST", f"/api/v1/worker/files/{f['id']}/derivatives?kind=thumbnail&name=small.jpg",
                      b"\xff\xd8\xff\xe0thumb", token=svc, headers={"Content-Type": "image/jpeg"})
        self.assertEqual(r.status, 201, r)
        der = r.doc["data"]
        self.assertEqual((der["parent_file_id"], der["derivative_kind"]), (f["id"], "thumbnail"))
        self.assertEqual(der["content_type"], "image/jpeg")
        self.assertEqual(self.s.q(f"SELECT count(*) FROM file_processing_jobs WHERE file_object_id = '{der['id']}'"), "0")
        kids = self.ok("GET", f"/api/v1/files?parent_id={f['id']}&include_derivatives=true")["files"]
        self.assertEqual([k["id"] for k in kids], [der["id"]])
        self.assertNotIn(der["id"], [x["id"] for x in self.ok("GET", "/api/v1/files?per_page=100")["files"]])
        # the reconciler re-pushes a pending job whose push is old
        mid = self.s.q(f"SELECT id FROM file_processing_jobs WHERE file_object_id = '{f['id']}'"
                       f" AND job_type = 'metadata_extract'")
        self.s.q(f"UPDATE file_processing_jobs SET enqueued_at = now() - interval '2 hours' WHERE id = '{mid}'")
        d = self.ok("POST", "/api/v1/worker/files/sweep", token=svc)
        self.assertGreaterEqual(d["jobs_requeued"], 1)
        self.assertEqual(self.s.q(f"SELECT enqueued_at > now() - interval '1 minute'"
                                  f" FROM file_processing_jobs WHERE id = '{mid}'"), "t")
        # a permanent delete takes the derivative with it
        self.ok("DELETE", f"/api/v1/files/{f['id']}?permanent=true")
        self.assertEqual(self.s.q(f"SELECT count(*) FROM file_objects WHERE id = '{der['id']}'"), "0")
        self.check_consistent()

    def test_worker_routes_refuse_user_tokens_and_user_routes_refuse_service(self):
        f = self.s.upload(b"w", "w.txt")
        jid = self.s.q(f"SELECT id FROM file_processing_jobs WHERE file_object_id = '{f['id']}' LIMIT 1")
        for method, path, body in (
                ("GET", f"/api/v1/worker/files/{f['id']}", None),
                ("GET", f"/api/v1/worker/files/{f['id']}/download", None),
                ("PATCH", f"/api/v1/worker/files/{f['id']}", {"metadata": {}}),
                ("POST", f"/api/v1/worker/files/{f['id']}/derivatives?kind=x", b"x"),
                ("GET", f"/api/v1/worker/processing_jobs/{jid}", None),
                ("PATCH", f"/api/v1/worker/processing_jobs/{jid}", {"status": "processing"}),
                ("POST", "/api/v1/worker/files/sweep", None)):
            r = self.call(method, path, body)
            self.assertIn(r.status, (401, 403), (method, path, r))
            r = self.call(method, path, body, token="")
            self.assertEqual(r.status, 401, (method, path, r))
        self.assertEqual(self.s.q(f"SELECT status FROM file_processing_jobs WHERE id = '{jid}'"), "pending")
        r = self.call("GET", f"/api/v1/files/{f['id']}", token=self.s.service_token())
        self.assertIn(r.status, (401, 403), r)

    # ---- traversal, killed and failed uploads ----

    def test_traversal_in_filenames_never_reaches_keys(self):
        names = [b"../../../../etc/passwd", b"..\\..\\boot.ini", b"/etc/shadow", b"a/../../b",
                 b"%2e%2e%2f%2e%2e%2fx", b"\xc0\xae\xc0\xae/\xc0\xae\xc0\xae/overlong", b"..",
                 b"sym/../../link", b'quo\\"te\\..\\x']
        before = self.s.blobs()
        for n in names:
            f = self.s.upload(b"x", n)
            self.assertNotIn("/", f["filename"])
            self.assertNotIn("\\", f["filename"])
            self.assertNotIn("\0", f["filename"])
            self.assertFalse(f["filename"].startswith("."), f["filename"])
            key = self.s.q(f"SELECT storage_key FROM file_versions WHERE file_object_id = '{f['id']}'")
            self.assertRegex(key, rf"^acct/{self.s.account}/files/{f['id']}/{fs.UUID_RE}$")
        r = self.s.upload_raw(b"y", "?filename=" + "..%2F..%2Fetc%2Fpasswd")
        self.assertEqual(r["filename"], "passwd")
        r = self.s.upload_raw(b"y", "?filename=a%00b", status=None)  # NUL: cut or refused
        if isinstance(r, dict):
            self.assertNotIn("\0", r["filename"])
        else:
            self.assertLess(r.status, 500, r)
        body = (b"--B\r\nContent-Disposition: form-data; name=\"file\"; "
                b"filename*=UTF-8''..%2F..%2F%2Fetc%2Fpasswd%C0%AE\r\n\r\nz\r\n--B--")
        r = self.call("POST", "/api/v1/files/upload", body,
                      headers={"Content-Type": "multipart/form-data; boundary=B"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.doc["data"]["filename"], "passwd__")  # each bad byte is one _
        new = self.s.blobs() - before
        for b in new:
            self.assertRegex(b, rf"^{self.s.account}/acct/{self.s.account}/files/{fs.UUID_RE}/{fs.UUID_RE}$")
        self.assertFalse(os.path.exists("/etc/passwd.pn"))
        self.check_consistent()

    def test_killed_upload_leaves_nothing(self):
        self.check_consistent()
        counts, blobs, usage = self.s.counts(), self.s.blobs(), self.s.usage()
        body, ct = fs.multipart({"file": ("k.bin", b"k" * (1 << 20))}, {})
        head = (f"POST /api/v1/files/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.t}\r\n"
                f"Content-Type: {ct}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        sock = socket.create_connection(("127.0.0.1", self.s.srv.port), timeout=5)
        sock.sendall(head + body[:len(body) // 2])
        time.sleep(0.3)
        sock.close()
        time.sleep(0.5)
        self.assertEqual(self.s.counts(), counts)
        self.assertEqual(self.s.blobs(), blobs)
        self.assertEqual(self.s.usage(), usage)
        self.assertEqual(self.call("GET", "/api/v1/files?per_page=1").status, 200)  # still serving

    def test_storage_failure_leaves_no_row_and_releases_quota(self):
        self.s.upload(b"make sure the account's folder exists", "first.txt")
        counts, usage = self.s.counts(), self.s.usage()
        # A plain file where the provider needs a folder: every write under files/ fails.
        files_dir = os.path.join(self.s.root, self.s.account, "acct", self.s.account, "files")
        moved = files_dir + ".moved"
        os.rename(files_dir, moved)
        open(files_dir, "w").close()
        try:
            r = self.call("POST", "/api/v1/files/upload?filename=f.txt", b"z" * 5000,
                          headers={"Content-Type": "application/octet-stream"})
            self.assertGreaterEqual(r.status, 400, r)
            self.assertIsNotNone(r.doc, r)
        finally:
            os.unlink(files_dir)
            os.rename(moved, files_dir)
        self.assertEqual(self.s.counts(), counts)
        self.assertEqual(self.s.usage(), usage)
        self.check_consistent()

    # ---- quota ----

    def test_quota_race_storage(self):
        self.check_consistent()
        _, used = self.s.usage()
        self.s.q(f"UPDATE file_storages SET quota_bytes = used_bytes + {10 * (1 << 20)}"
                 f" WHERE account_id = '{self.s.account}'")
        before = self.s.stored_bytes()
        blob = os.urandom(1 << 20)
        try:
            with concurrent.futures.ThreadPoolExecutor(50) as ex:
                res = list(ex.map(lambda i: self.s.upload(blob, f"q{i}.bin", status=None),
                                  range(50)))
        finally:
            self.s.q(f"UPDATE file_storages SET quota_bytes = NULL WHERE account_id = '{self.s.account}'")
        ok = [r for r in res if isinstance(r, dict)]
        refused = [r for r in res if not isinstance(r, dict)]
        self.assertEqual(len(ok), 10, [getattr(r, "status", r) for r in refused][:5])
        for r in refused:
            pn.assert_envelope(self, r, 422)
        self.assertEqual(self.s.stored_bytes() - before, 10 * (1 << 20))
        self.check_consistent()

    # ---- permissions and tenancy ----

    def test_member_without_share_permission_gets_403(self):
        member = self.s.user_with("noshare@example.test",
                                  ["files.files.read", "files.files.create", "files.files.download"])
        f = self.s.upload(b"m", "m.txt", token=member)
        pn.assert_envelope(self, self.call("POST", f"/api/v1/files/{f['id']}/shares", {},
                                           token=member), 403)
        pn.assert_envelope(self, self.call("POST", f"/api/v1/files/{f['id']}/tags",
                                           {"tags": ["a"]}, token=member), 403)
        pn.assert_envelope(self, self.call("DELETE", f"/api/v1/files/{f['id']}", token=member), 403)
        r = self.call("POST", "/api/v1/files/uploads", b"", token=member,
                      headers={"Tus-Resumable": "1.0.0", "Upload-Length": "1",
                               "Upload-Metadata": "file_id " + __import__("base64").b64encode(
                                   f["id"].encode()).decode()})
        pn.assert_envelope(self, r, 403)  # a new version needs files.versions.create
        self.assertEqual(self.call("GET", f"/api/v1/files/{f['id']}/download", token=member).body, b"m")

    def test_other_account_gets_404_everywhere(self):
        other, _ = self.s.other_account_admin()
        f = self.s.upload(b"mine", "mine.txt")
        fid = f["id"]
        vid = f["current_version_id"]
        sh = self.ok("POST", f"/api/v1/files/{fid}/shares", {}, status=201)
        r = self.call("POST", "/api/v1/files/uploads", b"",
                      headers={"Tus-Resumable": "1.0.0", "Upload-Length": "10"})
        up = r.headers["location"]
        body, ct = fs.multipart({"file": ("x", b"x")}, {})
        for method, path, b, h in (
                ("GET", f"/api/v1/files/{fid}", None, None),
                ("PATCH", f"/api/v1/files/{fid}", {"description": "x"}, None),
                ("DELETE", f"/api/v1/files/{fid}", None, None),
                ("DELETE", f"/api/v1/files/{fid}?permanent=true", None, None),
                ("POST", f"/api/v1/files/{fid}/restore", None, None),
                ("GET", f"/api/v1/files/{fid}/download", None, None),
                ("GET", f"/api/v1/files/{fid}/signed_url", None, None),
                ("GET", f"/api/v1/files/{fid}/versions", None, None),
                ("POST", f"/api/v1/files/{fid}/versions", body, {"Content-Type": ct}),
                ("GET", f"/api/v1/files/{fid}/versions/{vid}/download", None, None),
                ("POST", f"/api/v1/files/{fid}/versions/{vid}/restore", None, None),
                ("POST", f"/api/v1/files/{fid}/tags", {"tags": ["a"]}, None),
                ("DELETE", f"/api/v1/files/{fid}/tags", {"tags": ["a"]}, None),
                ("GET", f"/api/v1/files/{fid}/shares", None, None),
                ("POST", f"/api/v1/files/{fid}/shares", {}, None),
                ("DELETE", f"/api/v1/files/{fid}/shares/{sh['id']}", None, None),
                ("GET", up, None, None),
                ("HEAD", up, None, None),
                ("PATCH", up, b"abc", {"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                                       "Content-Type": "application/offset+octet-stream"}),
                ("DELETE", up, None, {"Tus-Resumable": "1.0.0"})):
            r = self.call(method, path, b, token=other, headers=h)
            self.assertEqual(r.status, 404, (method, path, r))
        # nothing changed, and lists do not show it
        self.assertEqual(self.call("GET", f"/api/v1/files/{fid}/download").body, b"mine")
        self.assertEqual(self.call("GET", up).status, 200)
        for p in ("/api/v1/files", "/api/v1/files/trash"):
            self.assertEqual(self.ok("GET", p, token=other)["files"], [])
        self.assertEqual(self.ok("GET", "/api/v1/files/tags", token=other), [])
        self.assertEqual(self.call("GET", sh["url"], token="").status, 200)
        self.call("DELETE", up, headers={"Tus-Resumable": "1.0.0"})


if __name__ == "__main__":
    pn.main()
