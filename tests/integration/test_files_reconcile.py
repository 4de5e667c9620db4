"""The files plugin's job reconciler (jobs.reconciler.files, called by the queues plugin's
POST /api/v1/internal/jobs/reconcile) re-pushes exactly the processing jobs still pending in
PostgreSQL that Redis lost, once; and file_storages.files_count follows upload, trash,
restore and purge."""
import json
import socket
import unittest
import urllib.parse

import pn
import test_files_support as fs

QUEUE_DB = "12"  # a job queue database of this test's own on the test Redis


class Resp:
    """A minimal RESP client (enough for LRANGE/LREM/DEL) on one database."""

    def __init__(self, url, db):
        u = urllib.parse.urlsplit(url)
        self.s = socket.create_connection((u.hostname, u.port or 6379), timeout=10)
        self.f = self.s.makefile("rb")
        self.cmd("SELECT", db)

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline().rstrip(b"\r\n")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data
        if t == b"*":
            return [self.read() for _ in range(int(rest))]
        raise RuntimeError(f"bad reply {line!r}")

    def close(self):
        self.s.close()


class Reconciler(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        url = pn.need("PN_TEST_REDIS_URL")
        p = urllib.parse.urlsplit(url)
        qurl = urllib.parse.urlunsplit((p.scheme, p.netloc, "/" + QUEUE_DB, "", ""))
        cls.s = fs.FilesServer("", env={"POWERNODE_REDIS_QUEUE_URL": qurl,
                                        "POWERNODE_PLUGINS_QUEUES_RECONCILERS": "files",
                                        "POWERNODE_PLUGINS_QUEUES_RECONCILE_AFTER": "0"})
        cls.r = Resp(url, QUEUE_DB)
        cls.svc = cls.s.service_token()

    @classmethod
    def tearDownClass(cls):
        cls.r.close()
        code = cls.s.stop()
        assert code == 0, f"server exit code {code}\n{cls.s.srv.log_text()}"

    def queued(self, job_ids):
        """Entries of queue:file_processing whose first argument is one of job_ids."""
        out = []
        for raw in self.r.cmd("LRANGE", "queue:file_processing", "0", "-1"):
            j = json.loads(raw)
            if j.get("args") and j["args"][0] in job_ids:
                out.append((raw, j))
        return out

    def reconcile(self):
        r = self.s.call("POST", "/api/v1/internal/jobs/reconcile", token=self.svc)
        self.assertEqual(r.status, 200, r)
        [files] = [x for x in r.doc["data"]["reconcilers"] if x["name"] == "files"]
        self.assertTrue(files["ok"], r.doc)
        return files["pushed"]

    def test_repushes_only_lost_pending_jobs_once(self):
        png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
        a = self.s.upload(png, "a.png")
        b = self.s.upload(b"plain text", "b.txt")
        rows = self.s.q(f"SELECT id, job_class, file_object_id FROM file_processing_jobs"
                        f" WHERE file_object_id IN ('{a['id']}', '{b['id']}') ORDER BY id")
        jobs = {ln.split("|")[0]: ln.split("|")[1] for ln in rows.split("\n")}
        self.assertEqual(len(jobs), 3, rows)  # thumbnail + metadata for a, metadata for b
        self.assertEqual(len(self.queued(jobs)), 3)
        self.assertEqual(self.reconcile(), 0)  # all held: nothing pushed
        # Redis loses two of them; a third has finished meanwhile (not pending: never pushed).
        lost = sorted(jobs)[:2]
        done = sorted(jobs)[2]
        for raw, j in self.queued(jobs):
            if j["args"][0] in lost or j["args"][0] == done:
                self.assertEqual(self.r.cmd("LREM", "queue:file_processing", "0", raw), 1)
        self.s.q(f"UPDATE file_processing_jobs SET status = 'completed' WHERE id = '{done}'")
        self.s.q(f"UPDATE file_processing_jobs SET enqueued_at = now() - interval '1 hour'"
                 f" WHERE id IN ('{lost[0]}', '{lost[1]}')")
        self.assertEqual(self.reconcile(), 2)
        back = self.queued(jobs)
        self.assertEqual(sorted(j["args"][0] for _, j in back), lost)
        for _, j in back:
            self.assertEqual(j["class"], jobs[j["args"][0]])
            self.assertEqual(j["queue"], "file_processing")
        recent = self.s.q(f"SELECT count(*) FROM file_processing_jobs WHERE id IN "
                          f"('{lost[0]}', '{lost[1]}') AND enqueued_at > now() - interval '1 minute'")
        self.assertEqual(recent, "2")
        self.assertEqual(self.reconcile(), 0)  # held again: not pushed twice
        for raw, _ in self.queued(jobs):
            self.r.cmd("LREM", "queue:file_processing", "0", raw)

    def test_worker_routes_refuse_users(self):
        r = self.s.call("POST", "/api/v1/internal/jobs/reconcile")
        self.assertIn(r.status, (401, 403), r)


class FilesCount(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = fs.FilesServer("")

    @classmethod
    def tearDownClass(cls):
        code = cls.s.stop()
        assert code == 0, f"server exit code {code}\n{cls.s.srv.log_text()}"

    def count(self):
        return int(self.s.q(f"SELECT COALESCE(sum(files_count), -1) FROM file_storages"
                            f" WHERE account_id = '{self.s.account}' AND is_default"))

    def storage_count_in_api(self):
        r = self.s.call("GET", "/api/v1/storage")
        self.assertEqual(r.status, 200, r)
        d = r.doc["data"]
        items = d if isinstance(d, list) else next(v for v in d.values() if isinstance(v, list))
        return sum(x["files_count"] for x in items)

    def live(self):
        return int(self.s.q(f"SELECT count(*) FROM file_objects WHERE account_id ="
                            f" '{self.s.account}' AND deleted_at IS NULL"))

    def test_follows_upload_trash_restore_purge(self):
        a = self.s.upload(b"one", "1.txt")
        self.assertEqual(self.count(), self.live())
        base = self.count()
        b = self.s.upload(b"two", "2.txt")
        c = self.s.upload(b"three", "3.txt")
        self.assertEqual(self.count(), base + 2)
        # a new version is not a new file
        r = self.s.upload(b"two v2", "2.txt", path=f"/api/v1/files/{b['id']}/versions")
        self.assertEqual(self.count(), base + 2)
        self.assertEqual(self.s.call("DELETE", f"/api/v1/files/{b['id']}").status, 200)
        self.assertEqual(self.count(), base + 1)
        self.assertEqual(self.s.call("POST", f"/api/v1/files/{b['id']}/restore").status, 200)
        self.assertEqual(self.count(), base + 2)
        # purge of a live file, and of a trashed one (already not counted)
        self.assertEqual(self.s.call("DELETE", f"/api/v1/files/{c['id']}?permanent=true").status, 200)
        self.assertEqual(self.count(), base + 1)
        self.assertEqual(self.s.call("DELETE", f"/api/v1/files/{b['id']}").status, 200)
        self.assertEqual(self.count(), base)
        self.assertEqual(self.s.call("DELETE", f"/api/v1/files/{b['id']}?permanent=true").status, 200)
        self.assertEqual(self.count(), base)
        self.assertEqual(self.count(), self.live())
        self.assertEqual(self.storage_count_in_api(), self.live())
        self.assertEqual(self.s.call("DELETE", f"/api/v1/files/{a['id']}?permanent=true").status, 200)
        self.assertEqual(self.count(), self.live())
        self.assertIsNotNone(r)


if __name__ == "__main__":
    pn.main()
