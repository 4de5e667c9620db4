"""Queue throughput through the real server (RELIABILITY A5): powernode-server enqueues 10,000
no-op jobs with the kernel's job_enqueue (through the test-only qtest plugin's route), four
powernode-worker processes drain them. Pass: drained within 60 s; afterwards nothing in any
working list or running marker, no retry or dead job, Redis used_memory within 1 MiB of what
it was before (a per-job key left behind shows up here); then 2,000 jobs that report their jid
to the server's job_results route are each recorded exactly once in PostgreSQL.

Needs PN_TEST_DATABASE_URL, PN_TEST_REDIS_URL (database PN_TEST_A5_DB, default 14, is
flushed), PN_BUILD_DIR and PN_SOURCE_DIR (ctest sets them)."""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import wtest  # noqa: E402
from wtest import wait_for  # noqa: E402

sys.path.insert(0, os.path.join(wtest.need("PN_SOURCE_DIR"), "tests", "integration"))
import pn  # noqa: E402
import test_auth_support as auth  # noqa: E402

DB = int(os.environ.get("PN_TEST_A5_DB", "14"))
N, N_RECORD, WORKERS, CONC = 10000, 2000, 4, 5


def used_memory(r):
    info = r("INFO", "memory").decode()
    return int(next(line.split(":")[1] for line in info.splitlines()
                    if line.startswith("used_memory:")))


class ThroughputThroughApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r, cls.url = wtest.shared_redis(DB)
        cls.db = pn.Database()
        qtest = os.path.join(pn.build_dir(), "test-plugins", "qtest.so")
        if not os.path.exists(qtest):
            wtest.fail(f"{qtest} is missing: build plugin_qtest")
        cls.srv = pn.Server(cls.db, env={"POWERNODE_REDIS_QUEUE_URL": cls.url},
                            plugins_paths=[qtest])
        cls.srv.create_admin()
        cls.token = cls.srv.login()
        server_url = f"http://127.0.0.1:{cls.srv.port}"
        cls.ws = [wtest.Worker(cls.url, concurrency=CONC, name=f"a5w{i}", server_url=server_url,
                               env={"WORKER_SERVICE_TOKEN": auth.SERVICE_SECRET})
                  for i in range(WORKERS)]
        try:
            for w in cls.ws:
                w.start()
        except BaseException:
            for w in cls.ws:
                w.stop()
            cls.srv.stop()
            cls.db.drop()
            raise

    @classmethod
    def tearDownClass(cls):
        codes = [w.stop() for w in cls.ws]
        for w in cls.ws:
            w.check_sanitizers()
        code = cls.srv.stop()
        cls.db.drop()
        cls.r("FLUSHDB")
        cls.r.close()
        assert codes == [0] * WORKERS and code == 0, (codes, code)

    def enqueue(self, cls, count):
        rep = self.srv.request("POST", "/api/v1/qtest/jobs", {"class": cls, "count": count},
                               token=self.token, timeout=120)
        self.assertEqual(rep.status, 200, rep)
        self.assertEqual(rep.doc["data"]["enqueued"], count)

    def held(self):
        """Jobs any worker still holds in Redis: working lists and running markers."""
        keys = self.r("KEYS", "pn:working:*") + self.r("KEYS", "pn:running:*")
        return sum(self.r("LLEN", k) for k in keys)

    def settled(self):
        return self.r("LLEN", "queue:default") == 0 and self.held() == 0

    def test_1_ten_thousand_noop_jobs_through_the_api(self):
        wait_for(lambda: self.r("SCARD", "processes") == WORKERS, 10, "workers registered")
        time.sleep(2)  # a heartbeat or two: every worker's own keys exist before the baseline
        before = used_memory(self.r)
        processed0 = int(self.r("GET", "stat:processed") or 0)
        t0 = time.time()
        self.enqueue("Maintenance::Noop", N)
        wait_for(lambda: int(self.r("GET", "stat:processed") or 0) - processed0 >= N
                 and self.settled(), 60, f"{N} jobs drained", step=0.1)
        took = time.time() - t0
        print(f"A5: {N} no-op jobs enqueued through the API and drained by {WORKERS} workers "
              f"in {took:.1f} s", file=sys.stderr)
        self.assertEqual(int(self.r("GET", "stat:processed")) - processed0, N)
        self.assertEqual(self.r("ZCARD", "retry"), 0)
        self.assertEqual(self.r("ZCARD", "dead"), 0)
        self.assertEqual(self.r("KEYS", "pn:runaway:*"), [])
        time.sleep(2)  # heartbeats rewrite their keys; nothing per job may remain
        grew = used_memory(self.r) - before
        self.assertLess(abs(grew), 1 << 20, f"used_memory changed by {grew} bytes")
        for w in self.ws:
            self.assertIsNone(w.proc.poll(), w.log_text()[-2000:])

    def test_2_results_recorded_once_through_the_real_server(self):
        self.enqueue("Maintenance::RecordJid", N_RECORD)
        query = "SELECT count(*), count(DISTINCT jid) FROM queues_job_results"
        wait_for(lambda: self.db.query(query).strip() == f"{N_RECORD}|{N_RECORD}" and
                 self.settled(), 60, f"{N_RECORD} results in PostgreSQL", step=0.2)
        self.assertEqual(self.r("ZCARD", "retry"), 0)
        self.assertEqual(self.r("ZCARD", "dead"), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
