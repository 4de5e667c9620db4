"""Resumable uploads (tus 1.0.0) and the account quota over real HTTP: protocol errors,
discovery headers, offsets and conflicts, termination, expiry swept by the worker route, a
new version through tus, an empty upload, chunks written in place on local disk (one staging
file, published as the same inode), a 200 MiB upload interrupted mid-chunk and resumed
(2 GiB with PN_TEST_FILES_LONG=1), and 50 parallel uploads racing for 10 MiB of account quota.
"""
import base64
import concurrent.futures
import hashlib
import os
import random
import socket
import time
import unittest

import pn
import test_files_support as fs

MIB = 1 << 20
CHUNK = 16 * MIB


def meta(**kv):
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in kv.items())


class Tus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = fs.FilesServer(env={"POWERNODE_HTTP_BODY_TIMEOUT": "5"})

    @classmethod
    def tearDownClass(cls):
        code = cls.s.stop()
        assert code == 0, f"server exit code {code}\n{cls.s.srv.log_text()}"

    def call(self, *a, **kw):
        return self.s.call(*a, **kw)

    def create(self, length, status=201, **m):
        h = {"Tus-Resumable": "1.0.0", "Upload-Length": str(length)}
        if m:
            h["Upload-Metadata"] = meta(**m)
        r = self.call("POST", "/api/v1/files/uploads", b"", headers=h)
        self.assertEqual(r.status, status, r)
        return r

    def patch(self, loc, offset, data, timeout=120):
        return self.call("PATCH", loc, data, timeout=timeout, headers={
            "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"})

    def head(self, loc):
        return self.call("HEAD", loc, headers={"Tus-Resumable": "1.0.0"})

    def consistent(self):
        acct, st = self.s.usage()
        reserved = int(self.s.q("SELECT COALESCE(sum(upload_length), 0) FROM file_uploads"))
        self.assertEqual(acct, self.s.stored_bytes() + reserved)
        self.assertEqual(st, self.s.stored_bytes() + reserved)

    def staging(self):
        return {b for b in self.s.blobs() if "/uploads/" in b}

    def test_protocol_errors_and_discovery(self):
        r = self.call("POST", "/api/v1/files/uploads", b"", headers={"Upload-Length": "5"})
        pn.assert_envelope(self, r, 412)
        self.assertEqual(r.headers["tus-version"], "1.0.0")
        pn.assert_envelope(self, self.call("POST", "/api/v1/files/uploads", b"",
                                           headers={"Tus-Resumable": "1.0.0"}), 400)
        pn.assert_envelope(self, self.create(10 ** 15, status=413), 413)
        r = self.call("POST", "/api/v1/files/uploads", b"", headers={
            "Tus-Resumable": "1.0.0", "Upload-Length": "5", "Upload-Metadata": "filename !!!"})
        pn.assert_envelope(self, r, 400)
        r = self.create(5, filename="../../x.txt")
        for h in ("tus-resumable", "tus-version", "tus-extension", "tus-max-size", "upload-expires"):
            self.assertIn(h, r.headers)
        self.assertEqual(r.headers["tus-extension"], "creation,termination,expiration")
        self.assertEqual(r.headers["upload-offset"], "0")
        loc = r.headers["location"]
        self.assertRegex(loc, rf"^/api/v1/files/uploads/{fs.UUID_RE}$")
        h = self.head(loc)
        self.assertEqual((h.status, h.body), (200, b""))
        self.assertEqual((h.headers["upload-offset"], h.headers["upload-length"]), ("0", "5"))
        self.assertEqual(h.headers["tus-resumable"], "1.0.0")
        self.assertEqual(h.headers["cache-control"], "no-store")
        r = self.call("PATCH", loc, b"ab", headers={"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                                                     "Content-Type": "text/plain"})
        pn.assert_envelope(self, r, 415)
        pn.assert_envelope(self, self.patch(loc, 1, b"ab"), 409)
        pn.assert_envelope(self, self.patch(loc, 0, b"abcdef"), 413)
        r = self.patch(loc, 0, b"ab")
        self.assertEqual((r.status, r.headers["upload-offset"]), (204, "2"))
        pn.assert_envelope(self, self.patch(loc, 0, b"ab"), 409)  # a replayed chunk
        r = self.patch(loc, 2, b"cde")
        self.assertEqual(r.status, 204, r)
        fid = r.headers["x-file-id"]
        f = self.call("GET", f"/api/v1/files/{fid}").doc["data"]
        self.assertEqual((f["filename"], f["file_size"]), ("x.txt", 5))
        self.assertEqual(self.call("GET", f"/api/v1/files/{fid}/download").body, b"abcde")
        self.assertEqual(self.head(loc).status, 404)  # finished uploads are gone
        self.assertEqual(self.staging(), set())
        self.consistent()

    def test_empty_upload_completes_at_creation(self):
        r = self.create(0, filename="empty.txt")
        fid = r.headers["x-file-id"]
        f = self.call("GET", f"/api/v1/files/{fid}").doc["data"]
        self.assertEqual(f["file_size"], 0)
        self.assertEqual(self.call("GET", f"/api/v1/files/{fid}/download").body, b"")

    def test_termination_releases_everything(self):
        before = self.s.usage()
        r = self.create(3 * MIB, filename="t.bin")
        loc = r.headers["location"]
        self.assertEqual(self.s.usage()[0], before[0] + 3 * MIB)  # reserved at creation
        self.assertEqual(self.patch(loc, 0, b"a" * MIB).status, 204)
        self.assertEqual(len(self.staging()), 1)
        r = self.call("DELETE", loc, headers={"Tus-Resumable": "1.0.0"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.s.usage(), before)
        self.assertEqual(self.staging(), set())
        self.assertEqual(self.head(loc).status, 404)
        self.consistent()

    def test_expired_upload_is_swept(self):
        before = self.s.usage()
        loc = self.create(2 * MIB, filename="e.bin").headers["location"]
        self.assertEqual(self.patch(loc, 0, b"e" * MIB).status, 204)
        uid = loc.rsplit("/", 1)[1]
        self.s.q(f"UPDATE file_uploads SET expires_at = now() - interval '1 second' WHERE id = '{uid}'")
        pn.assert_envelope(self, self.patch(loc, MIB, b"e" * MIB), 410)
        d = self.call("POST", "/api/v1/worker/files/sweep", token=self.s.service_token()).doc["data"]
        self.assertGreaterEqual(d["expired_uploads"], 1)
        self.assertGreaterEqual(d["blobs_removed"], 1)
        self.assertEqual(self.s.q(f"SELECT count(*) FROM file_uploads WHERE id = '{uid}'"), "0")
        self.assertEqual(self.s.usage(), before)
        self.assertEqual(self.staging(), set())
        self.consistent()

    def test_reservation_left_by_a_crash_is_swept(self):
        """What a server killed between reserving and committing leaves: a reservation row,
        counted bytes and a blob without a file row. The sweeper gives all of it back."""
        self.s.upload(b"x", "make-the-default-storage.txt")
        before = self.s.usage()
        sid = self.s.q(f"SELECT id FROM file_storages WHERE account_id = '{self.s.account}'")
        uid, fid, vid = (str(__import__("uuid").uuid4()) for _ in range(3))
        key = f"acct/{self.s.account}/files/{fid}/{vid}"
        path = os.path.join(self.s.root, self.s.account, key)
        os.makedirs(os.path.dirname(path))
        with open(path, "wb") as f:
            f.write(b"o" * 4096)
        self.s.q(f"INSERT INTO file_uploads (id, account_id, storage_id, kind, upload_length,"
                 f" storage_key, file_id, version_id, expires_at) VALUES ('{uid}',"
                 f" '{self.s.account}', '{sid}', 'simple', 4096, '{key}', '{fid}', '{vid}',"
                 f" now() - interval '1 minute');"
                 f"UPDATE files_account_usage SET used_bytes = used_bytes + 4096"
                 f" WHERE account_id = '{self.s.account}';"
                 f"UPDATE file_storages SET used_bytes = used_bytes + 4096 WHERE id = '{sid}'")
        self.assertEqual(self.s.usage(), (before[0] + 4096, before[1] + 4096))
        d = self.call("POST", "/api/v1/worker/files/sweep", token=self.s.service_token()).doc["data"]
        self.assertGreaterEqual(d["expired_uploads"], 1)
        self.assertFalse(os.path.exists(path))
        self.assertEqual(self.s.usage(), before)
        self.assertEqual(self.s.q(f"SELECT count(*) FROM file_uploads WHERE id = '{uid}'"), "0")
        self.assertEqual(self.s.q("SELECT count(*) FROM file_blob_deletions"), "0")
        self.consistent()

    def test_new_version_through_tus(self):
        f = self.s.upload(b"v1", "doc.txt")
        r = self.create(2, file_id=f["id"], change_description="tus v2")
        self.assertEqual(r.headers["x-file-id"], f["id"])
        self.assertEqual(self.patch(r.headers["location"], 0, b"v2").status, 204)
        d = self.call("GET", f"/api/v1/files/{f['id']}").doc["data"]
        self.assertEqual((d["version"], d["filename"]), (2, "doc.txt"))
        self.assertEqual([v["change_description"] for v in d["versions"]], ["", "tus v2"])
        self.assertEqual(self.call("GET", f"/api/v1/files/{f['id']}/download").body, b"v2")

    def kill_mid_patch(self, loc, offset, length):
        """Start a PATCH announcing `length` bytes, send a third of them, and vanish."""
        head = (f"PATCH {loc} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.s.token}\r\n"
                f"Tus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\n"
                f"Content-Type: application/offset+octet-stream\r\nContent-Length: {length}\r\n\r\n")
        sock = socket.create_connection(("127.0.0.1", self.s.srv.port), timeout=10)
        sock.sendall(head.encode() + b"\0" * (length // 3))
        time.sleep(0.2)
        sock.close()

    def big_upload(self, total):
        rng = random.Random(total)
        want = hashlib.sha256()
        r = self.create(total, filename="big.bin")
        loc, fid = r.headers["location"], r.headers["x-file-id"]
        offset, interrupted = 0, False
        deadline = time.monotonic() + 3600
        while offset < total and time.monotonic() < deadline:
            n = min(CHUNK, total - offset)
            if not interrupted and offset >= total // 2:
                self.kill_mid_patch(loc, offset, n)
                interrupted = True
                time.sleep(0.5)
                h = self.head(loc)  # the client asks where to resume
                self.assertEqual(int(h.headers["upload-offset"]), offset)
            data = rng.randbytes(n)
            r = self.patch(loc, offset, data, timeout=600)
            self.assertEqual(r.status, 204, r)
            want.update(data)
            offset += n
            self.assertEqual(int(r.headers["upload-offset"]), offset)
        self.assertTrue(interrupted)
        self.assertEqual(r.headers["x-file-id"], fid)
        f = self.call("GET", f"/api/v1/files/{fid}").doc["data"]
        self.assertEqual((f["file_size"], f["checksum_sha256"]), (total, want.hexdigest()))
        # the download streams the same bytes
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.s.srv.port, timeout=600)
        conn.request("GET", f"/api/v1/files/{fid}/download",
                     headers={"Authorization": "Bearer " + self.s.token})
        resp = conn.getresponse()
        got = hashlib.sha256()
        n = 0
        while True:
            b = resp.read(MIB)
            if not b:
                break
            got.update(b)
            n += len(b)
        conn.close()
        self.assertEqual((resp.status, n, got.hexdigest()), (200, total, want.hexdigest()))
        self.assertEqual(self.staging(), set())
        self.consistent()
        self.call("DELETE", f"/api/v1/files/{fid}?permanent=true")

    def test_local_chunks_are_written_in_place_once(self):
        # On local disk every chunk goes at its offset into one staging file (no per-chunk
        # objects, no assembly copy), and the finished file is that same inode published.
        parts = [os.urandom(100_000), os.urandom(70_000), os.urandom(1234)]
        total = sum(map(len, parts))
        r = self.create(total, filename="inplace.bin")
        loc, fid = r.headers["location"], r.headers["x-file-id"]
        upload = loc.rsplit("/", 1)[1]
        acct = self.s.account
        staged = f"{acct}/acct/{acct}/uploads/{upload}/data"
        path = os.path.join(self.s.root, staged)
        offset = 0
        for i, part in enumerate(parts):
            if i == 1:  # a conflicting offset writes nothing
                self.assertEqual(self.patch(loc, offset + 1, b"x" * 10).status, 409)
            if i < 2:
                self.assertEqual(self.patch(loc, offset, part).status, 204)
                offset += len(part)
                self.assertEqual(self.staging(), {staged})
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), b"".join(parts[:i + 1]))
                ino = os.stat(path).st_ino
        r = self.patch(loc, offset, parts[2])
        self.assertEqual((r.status, r.headers.get("x-file-id")), (204, fid))
        self.assertEqual(self.staging(), set())
        key = self.s.q(f"SELECT storage_key FROM file_versions WHERE file_object_id = '{fid}'")
        final = os.path.join(self.s.root, acct, key)
        st = os.stat(final)
        self.assertEqual((st.st_ino, st.st_nlink, st.st_size), (ino, 1, total))
        f = self.call("GET", f"/api/v1/files/{fid}").doc["data"]
        self.assertEqual(f["checksum_sha256"], hashlib.sha256(b"".join(parts)).hexdigest())
        self.assertEqual(self.call("GET", f"/api/v1/files/{fid}/download").body, b"".join(parts))
        self.consistent()
        self.call("DELETE", f"/api/v1/files/{fid}?permanent=true")

    def test_large_upload_interrupted_and_resumed(self):
        self.big_upload(200 * MIB + 12345)

    @unittest.skipUnless(os.environ.get("PN_TEST_FILES_LONG"), "set PN_TEST_FILES_LONG=1 for 2 GiB")
    def test_2gib_upload_interrupted_and_resumed(self):
        self.big_upload(2 * 1024 * MIB)


class AccountQuota(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = fs.FilesServer(f"    account_quota_bytes: {10 * MIB}\n")

    @classmethod
    def tearDownClass(cls):
        code = cls.s.stop()
        assert code == 0, f"server exit code {code}\n{cls.s.srv.log_text()}"

    def test_parallel_uploads_race_for_the_account_quota(self):
        blob = os.urandom(MIB)
        with concurrent.futures.ThreadPoolExecutor(50) as ex:
            res = list(ex.map(lambda i: self.s.upload_raw(blob, f"?filename=q{i}.bin", status=None),
                              range(50)))
        ok = [r for r in res if isinstance(r, dict)]
        self.assertEqual(len(ok), 10)
        for r in res:
            if not isinstance(r, dict):
                pn.assert_envelope(self, r, 422)
        self.assertEqual(self.s.stored_bytes(), 10 * MIB)
        self.assertEqual(self.s.usage(), (10 * MIB, 10 * MIB))
        self.assertEqual(self.s.q("SELECT count(*) FROM file_uploads"), "0")
        # a resumable upload is refused at creation when its length does not fit
        r = self.s.call("POST", "/api/v1/files/uploads", b"",
                        headers={"Tus-Resumable": "1.0.0", "Upload-Length": "1"})
        pn.assert_envelope(self, r, 422)
        # deleting gives the bytes back
        self.s.call("DELETE", f"/api/v1/files/{ok[0]['id']}?permanent=true")
        self.assertEqual(self.s.usage(), (9 * MIB, 9 * MIB))
        self.assertEqual(self.s.call("GET", "/api/v1/files/stats").doc["data"]["used_bytes"], 9 * MIB)


if __name__ == "__main__":
    pn.main()
