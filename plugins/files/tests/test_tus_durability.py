"""tus on local disk: what an acknowledged offset survives. The server records, with each
offset, the offset up to which the staging file was fdatasync'd (options.durable_offset, at
most 64 MiB + one chunk behind) and the OS boot that acknowledged it (options.boot_id).
- a crash of the server process (SIGKILL) loses nothing: after a restart HEAD reports the
  acknowledged offset and the upload completes with the right SHA-256;
- after a reboot (simulated: the row's boot_id names another boot) HEAD reports the durable
  offset, a PATCH at the old offset gets 409, and resuming from the durable offset completes
  with the right SHA-256.
Run from tests/integration's harness (PN_BUILD_DIR, PN_TEST_DATABASE_URL, PN_TEST_REDIS_URL).
"""
import hashlib
import json
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tests", "integration"))
import test_files_support as fs  # noqa: E402

MIB = 1 << 20
CHUNK = 16 * MIB
LAG = 64 * MIB


def boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip()


class TusDurability(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = fs.FilesServer()

    @classmethod
    def tearDownClass(cls):
        code = cls.s.stop()
        assert code == 0, f"server exit code {code}\n{cls.s.srv.log_text()}"

    def create(self, length):
        r = self.s.call("POST", "/api/v1/files/uploads", b"", headers={
            "Tus-Resumable": "1.0.0", "Upload-Length": str(length)})
        self.assertEqual(r.status, 201, r)
        return r.headers["location"], r.headers["x-file-id"]

    def patch(self, loc, offset, data):
        return self.s.call("PATCH", loc, data, timeout=120, headers={
            "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"})

    def head_offset(self, loc):
        r = self.s.call("HEAD", loc, headers={"Tus-Resumable": "1.0.0"})
        self.assertEqual(r.status, 200, r)
        return int(r.headers["upload-offset"])

    def row(self, loc):
        upload = loc.rsplit("/", 1)[1]
        off, opts = self.s.q(
            f"SELECT upload_offset || '|' || options::text FROM file_uploads WHERE id = '{upload}'"
        ).split("|", 1)
        return int(off), json.loads(opts)

    def send(self, loc, data, start, end):
        for off in range(start, end, CHUNK):
            part = data[off:min(off + CHUNK, end)]
            r = self.patch(loc, off, part)
            self.assertEqual(r.status, 204, r)
            if off + len(part) < len(data):  # the last chunk removes the row
                acked, opts = self.row(loc)
                self.assertEqual(acked, off + len(part))
                self.assertEqual(opts["boot_id"], boot_id())
                self.assertLessEqual(opts["durable_offset"], acked)
                self.assertLess(acked - opts["durable_offset"], LAG + CHUNK)

    def finish_and_check(self, loc, fid, data, start):
        self.send(loc, data, start, len(data))
        f = self.s.call("GET", f"/api/v1/files/{fid}").doc["data"]
        self.assertEqual(f["checksum_sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(int(f["file_size"]), len(data))
        self.s.call("DELETE", f"/api/v1/files/{fid}?permanent=true")

    def test_reboot_rolls_back_to_the_durable_offset(self):
        data = os.urandom(6 * CHUNK + 777)
        loc, fid = self.create(len(data))
        self.send(loc, data, 0, 6 * CHUNK)
        acked, opts = self.row(loc)
        durable = opts["durable_offset"]
        self.assertEqual(acked, 6 * CHUNK)
        self.assertTrue(0 < durable < acked, opts)  # synced lazily, not per chunk
        self.assertEqual(self.head_offset(loc), acked)  # same boot: the acknowledged offset
        opts["boot_id"] = "00000000-0000-0000-0000-000000000000"
        upload = loc.rsplit("/", 1)[1]
        self.s.q(f"UPDATE file_uploads SET options = '{json.dumps(opts)}'::jsonb "
                 f"WHERE id = '{upload}'")
        self.assertEqual(self.head_offset(loc), durable)
        self.assertEqual(self.patch(loc, acked, data[acked:acked + 10]).status, 409)
        # The bytes past the durable offset may be anything after a real reboot.
        path = os.path.join(self.s.root, self.s.account, "acct", self.s.account, "uploads",
                            upload, "data")
        with open(path, "r+b") as f:
            f.seek(durable)
            f.write(b"\0" * (acked - durable))
        self.finish_and_check(loc, fid, data, durable)

    def test_process_crash_keeps_the_acknowledged_offset(self):
        data = os.urandom(3 * CHUNK + 5)
        loc, fid = self.create(len(data))
        self.send(loc, data, 0, 2 * CHUNK)
        acked, opts = self.row(loc)
        self.assertEqual(opts["durable_offset"], 0)  # nothing synced yet: under the lag
        self.s.srv.stop(sig=signal.SIGKILL)
        open(self.s.srv.log_path, "w").close()  # start() reads the port from the log
        self.s.srv.start()
        self.assertEqual(self.head_offset(loc), acked)
        self.finish_and_check(loc, fid, data, acked)


if __name__ == "__main__":
    unittest.main(verbosity=2)
