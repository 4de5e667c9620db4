"""Reliable fetch under kill -9: a killed worker's jobs are returned by a live worker within two
heartbeat TTLs and run once more; only the jobs that were running (pn:running:<identity>) are
charged a death, the ones merely fetched go back uncharged; a poison job that aborts its
(non-isolated) worker process ends in the dead set after exactly its retries instead of
crash-looping, and good jobs are unaffected (suspects run alone, so only the culprit keeps
collecting deaths)."""
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
        wait_for(lambda: self.r("LLEN", f"pn:working:{ident}:default") == 5 and
                 self.r("LLEN", f"pn:running:{ident}") == 5, 5, "5 running")
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
        # They were running when their process died, so each now runs alone (a suspect):
        # two fresh processes share them, 5 x 4 s of work in about 12 s.
        self.worker(concurrency=5)
        self.worker(concurrency=5)
        st = self.api.state
        wait_for(lambda: all(f"record:{j}" in st.applied for j in jids), 30, "all applied")

    def test_only_running_jobs_are_charged(self):
        # A dead process as the worker leaves it in Redis: three jobs fetched, one running.
        dead_id = "deadhost:4242:0123456789ab"
        j1, j2, j3 = (job("Maintenance::Noop", [i]) for i in range(3))
        self.r("SADD", "pn:procs", dead_id)
        self.r("SADD", "processes", dead_id)
        self.r("SADD", f"pn:procq:{dead_id}", "default")
        self.r("LPUSH", f"pn:working:{dead_id}:default", j1, j2, j3)  # j1 fetched first
        self.r("RPUSH", f"pn:running:{dead_id}", j2)
        b = self.worker(concurrency=2, queues={"other": 1})
        wait_for(lambda: self.r("LLEN", "queue:default") == 3, 2 * HB[1] + 1, "recovery")
        q = self.r("LRANGE", "queue:default", 0, -1)  # consumers take from the right
        # The fetched-only ones come back unchanged at the front, oldest first; the running
        # one is charged and goes to the back.
        self.assertEqual(q[2], j1.encode())
        self.assertEqual(q[1], j3.encode())
        charged = json.loads(q[0])
        self.assertEqual(charged["jid"], json.loads(j2)["jid"])
        self.assertEqual(charged["pn_orphaned"], 1)
        self.assertIn("recovered 3 jobs of dead worker processes (1 were running, 2 only "
                      "fetched)", b.log_text())
        for k in (f"pn:running:{dead_id}", f"pn:procq:{dead_id}",
                  f"pn:working:{dead_id}:default"):
            self.assertEqual(self.r("EXISTS", k), 0, k)

    def test_running_marker_follows_the_job(self):
        a = self.worker(concurrency=2)
        ident = a.identity()
        p = job("Maintenance::Sleep", [1.5])
        push(self.r, [p])
        wait_for(lambda: self.r("LRANGE", f"pn:running:{ident}", 0, -1) == [p.encode()], 5,
                 "the running marker")
        # The acknowledgement clears it.
        wait_for(lambda: self.r("EXISTS", f"pn:running:{ident}") == 0, 5, "marker cleared")
        self.assertEqual(self.r("LLEN", f"pn:working:{ident}:default"), 0)

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
        self.assertEqual([d["jid"] for d in dead], [poison], "only the poison job is dead")
        self.assertEqual(dead[0]["jid"], poison)
        self.assertEqual(dead[0]["error_class"], "PnWorkerCrash")
        self.assertIn("died while running this job 4 times", dead[0]["error_message"])
        self.assertEqual(restarts, 4)  # 1 attempt + 3 retries, each killing a worker
        self.assertTrue(all(f"record:{j}" in st.applied for j in good))


if __name__ == "__main__":
    unittest.main(verbosity=2)
