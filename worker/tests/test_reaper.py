"""Reliable fetch under kill -9: a killed worker's jobs are returned by a live worker within two
heartbeat TTLs and run once more; a poison job that aborts its (non-isolated) worker process
ends in the dead set after its retries instead of crash-looping, and good jobs are unaffected."""
import json
import time
import unittest

import wtest
from wtest import job, push, wait_for

HB = (0.5, 2.0)


class Reaper(unittest.TestCase):
    def setUp(self):
        self.r, self.url = wtest.shared_redis(6)
        self.api = wtest.start_api()
        self.workers = []

    def tearDown(self):
        for w in self.workers:
            w.stop()
            w.check_sanitizers()
        self.api.shutdown()

    def worker(self, **kw):
        w = wtest.Worker(self.url, server_url=self.api.url, hb=HB, name=f"w{len(self.workers)}",
                         **kw)
        self.workers.append(w)
        return w.start()

    def test_kill9_orphans_recovered(self):
        a = self.worker(concurrency=5)
        b = self.worker(concurrency=5, queues={"other": 1})  # never takes default jobs itself
        jids = [wtest.jid() for _ in range(5)]
        push(self.r, [job("Maintenance::RecordJid", [i, 4000], j=j) for i, j in enumerate(jids)])
        ident = a.identity()
        wait_for(lambda: self.r("LLEN", f"pn:working:{ident}:default") == 5, 5, "5 in flight")
        a.kill9()
        t0 = time.time()
        # Recovered = back in the queue (working list -> pn:orphans -> queue).
        wait_for(lambda: self.r("LLEN", f"pn:working:{ident}:default") == 0 and
                 self.r("LLEN", "queue:default") == 5, 2 * HB[1] + 1, "recovery", step=0.02)
        self.assertLessEqual(time.time() - t0, 2 * HB[1])
        self.assertIn("recovered 5 jobs", b.log_text())
        for m in self.r("LRANGE", "queue:default", 0, -1):
            self.assertEqual(json.loads(m)["pn_orphaned"], 1)
        # Sidekiq's view no longer lists the dead process.
        self.assertNotIn(ident.encode(), self.r("SMEMBERS", "processes"))
        self.worker(concurrency=5)
        st = self.api.state
        wait_for(lambda: all(f"record:{j}" in st.applied for j in jids), 20, "all applied")

    def test_poison_job_that_aborts_the_worker(self):
        good = [wtest.jid() for _ in range(200)]
        poison = wtest.jid()
        payloads = [job("Maintenance::RecordJid", [i, 5], j=j) for i, j in enumerate(good)]
        payloads.insert(100, job("Maintenance::Abort", [], j=poison))
        push(self.r, payloads)
        self.worker(concurrency=4)
        self.worker(concurrency=4)
        restarts = 0
        st = self.api.state
        deadline = time.time() + 90
        dead = None
        while time.time() < deadline:
            for w in self.workers:
                if w.proc.poll() is not None:
                    restarts += 1
                    self.assertLessEqual(restarts, 6, "crash loop")
                    w.start()
            dead = [json.loads(m) for m in self.r("ZRANGE", "dead", 0, -1)]
            if dead and all(f"record:{j}" in st.applied for j in good):
                break
            time.sleep(0.1)
        self.assertEqual(len(dead), 1)
        self.assertEqual(dead[0]["jid"], poison)
        self.assertEqual(dead[0]["error_class"], "PnWorkerCrash")
        self.assertIn("died while running this job 4 times", dead[0]["error_message"])
        self.assertEqual(restarts, 4)  # 1 attempt + 3 retries, each killing a worker
        self.assertTrue(all(f"record:{j}" in st.applied for j in good))


if __name__ == "__main__":
    unittest.main(verbosity=2)
