"""Remote downloads stream: a file stored on S3 (the real S3 emulator of tests/interop/storage,
which checks signatures) and larger than the old 32 MiB buffer comes back through
GET /files/:id/download whole and byte-exact, as a chunked 200 (no redirect to the provider),
with Range as 206, while the server's RSS stays bounded, also when the client reads slowly
(backpressure) or goes away half way."""
import hashlib
import os
import secrets
import socket
import time
import unittest

import pn
import test_files_support as fs
from test_storage_configs import S3Emulator

MIB = 1 << 20
SIZE = 40 * MIB + 12345  # over the old 32 MiB in-memory cap


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def meta(**kv):
    import base64
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in kv.items())


class RemoteDownloads(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        key, secret = "PNITKEY" + secrets.token_hex(4).upper(), secrets.token_hex(20)
        cls.emu = S3Emulator(key, secret)
        asan = os.environ.get("ASAN_OPTIONS", "")
        cls.s = fs.FilesServer(env={
            "POWERNODE_PLUGINS_STORAGE_MASTER_KEY": secrets.token_hex(32),
            "POWERNODE_PLUGINS_STORAGE_ALLOW_PRIVATE_ENDPOINTS": "true",
            # freed memory must come back for the RSS figures to mean anything under ASan
            "ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=4"})
        r = cls.s.call("POST", "/api/v1/storage", {
            "name": "emulated s3", "provider_type": "s3", "configuration": {
                "bucket": "pn-test", "endpoint": f"http://127.0.0.1:{cls.emu.port}",
                "force_path_style": True, "access_key_id": key, "secret_access_key": secret}})
        assert r.status == 201, r
        cls.storage = r.doc["data"]["id"]
        cls.data = bytes(range(256)) * (SIZE // 256) + b"x" * (SIZE % 256)
        cls.file_id = cls.tus_upload(cls.data)

    @classmethod
    def tearDownClass(cls):
        code = cls.s.stop()
        cls.emu.stop()
        assert code == 0, f"server exit code {code}\n{cls.s.srv.log_text()}"

    @classmethod
    def tus_upload(cls, data):
        r = cls.s.call("POST", "/api/v1/files/uploads", b"", headers={
            "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
            "Upload-Metadata": meta(filename="big.bin", storage_id=cls.storage)})
        assert r.status == 201, r
        loc, off, fid = r.headers["location"], 0, None
        while off < len(data):
            n = min(16 * MIB, len(data) - off)
            r = cls.s.call("PATCH", loc, data[off:off + n], timeout=120, headers={
                "Tus-Resumable": "1.0.0", "Upload-Offset": str(off),
                "Content-Type": "application/offset+octet-stream"})
            assert r.status == 204, r
            off += n
            fid = r.headers.get("x-file-id", fid)
        assert fid, "no X-File-Id"
        return fid

    def open_download(self, extra=""):
        s = socket.create_connection(("127.0.0.1", self.s.srv.port), timeout=60)
        s.sendall(f"GET /api/v1/files/{self.file_id}/download HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer {self.s.token}\r\n{extra}\r\n".encode())
        return s

    @staticmethod
    def read_head(s):
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                raise AssertionError("connection closed in the head")
            buf += d
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        h = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        return int(lines[0].split()[1]), h, rest

    @staticmethod
    def dechunk(body):
        out, i = bytearray(), 0
        while True:
            j = body.index(b"\r\n", i)
            n = int(body[i:j], 16)
            if n == 0:
                return bytes(out)
            out += body[j + 2:j + 2 + n]
            i = j + 2 + n + 2

    def read_all(self, s, limit_s=120):
        chunks, deadline = [], time.monotonic() + limit_s
        while time.monotonic() < deadline:
            d = s.recv(1 << 20)
            if not d:
                return b"".join(chunks)
            chunks.append(d)
        raise AssertionError("download did not finish in time")

    def test_stored_on_s3(self):
        key = self.s.q(f"SELECT storage_key FROM file_versions WHERE file_object_id = '{self.file_id}'")
        self.assertTrue(key.startswith("acct/"))
        self.assertEqual(self.s.q(f"SELECT storage_id FROM file_versions"
                                  f" WHERE file_object_id = '{self.file_id}'"), self.storage)
        # nothing went to the local root
        self.assertFalse([b for b in self.s.blobs() if "/files/" in b])

    def test_whole_download_streams_in_bounded_memory(self):
        pid = self.s.srv.proc.pid
        base = rss(pid)
        s = self.open_download()
        status, h, rest = self.read_head(s)
        self.assertEqual(status, 200)
        self.assertNotIn("location", h)
        self.assertEqual(h.get("transfer-encoding"), "chunked")
        self.assertEqual(h["etag"].strip('"'),
                         self.s.q(f"SELECT current_version_id FROM file_objects WHERE id = '{self.file_id}'"))
        self.assertIn("attachment", h["content-disposition"])
        self.assertEqual(h["x-content-type-options"], "nosniff")
        self.assertTrue(h["content-security-policy"].startswith("sandbox"))
        # Slow reader: take a little, then stop for 2 s. With backpressure the server holds
        # about 1 MiB for us plus the provider's buffers, not the object.
        got = rest + s.recv(256 * 1024)
        peak = rss(pid)
        for _ in range(20):
            time.sleep(0.1)
            peak = max(peak, rss(pid))
        body = got + self.read_all(s)
        s.close()
        data = self.dechunk(body)
        self.assertEqual(len(data), SIZE)
        self.assertEqual(hashlib.sha256(data).hexdigest(), hashlib.sha256(self.data).hexdigest())
        growth = peak - base
        self.assertLess(growth, 24 * MIB, f"RSS grew by {growth / MIB:.1f} MiB while paused")

    def test_range_is_206_and_exact(self):
        a, b = 33 * MIB + 7, 38 * MIB + 100
        s = self.open_download(f"Range: bytes={a}-{b}\r\n")
        status, h, rest = self.read_head(s)
        self.assertEqual(status, 206)
        self.assertEqual(h["content-range"], f"bytes {a}-{b}/{SIZE}")
        data = self.dechunk(rest + self.read_all(s))
        s.close()
        self.assertEqual(data, self.data[a:b + 1])

    def test_client_going_away_leaves_the_server_well(self):
        pid = self.s.srv.proc.pid
        base = rss(pid)
        for _ in range(3):
            s = self.open_download()
            status, _, _ = self.read_head(s)
            self.assertEqual(status, 200)
            s.recv(1 << 20)
            s.close()
        time.sleep(1)
        r = self.s.call("GET", f"/api/v1/files/{self.file_id}")
        self.assertEqual(r.status, 200, r)
        self.assertLess(rss(pid) - base, 32 * MIB)
        # and the next whole download is still exact
        s = self.open_download()
        status, _, rest = self.read_head(s)
        data = self.dechunk(rest + self.read_all(s))
        s.close()
        self.assertEqual((status, len(data)), (200, SIZE))

    def test_head_has_no_body(self):
        r = self.s.call("HEAD", f"/api/v1/files/{self.file_id}/download")
        self.assertEqual((r.status, r.body), (200, b""))


if __name__ == "__main__":
    pn.main()
