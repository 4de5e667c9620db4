"""Lifecycle: SIGTERM with jobs in flight (stops fetching at once, finishes them, returns the
unstarted ones, exits 0, nothing lost or re-run); SIGTERM past the shutdown timeout (running
jobs returned to their queues, exit 0); SIGTERM then SIGKILL (jobs recovered by another worker
within two heartbeat TTLs); quiet on SIGTSTP; a long job on a loaded worker is never stolen."""
import json
import signal
import subprocess
import time
import unittest

import wtest
from wtest import job, push, wait_for

HB = (0.5, 2.0)  # interval, ttl


class Lifecycle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r, cls.url = wtest.shared_redis(4)

    def setUp(self):
        self.r("FLUSHDB")
        self.api = wtest.start_api()
        self.workers = []

    def tearDown(self):
        for w in self.workers:
            w.stop()
            w.check_sanitizers()
        self.api.shutdown()

    def worker(self, **kw):
        kw.setdefault("hb", HB)
        w = wtest.Worker(self.url, server_url=self.api.url, name=f"w{len(self.workers)}", **kw)
        self.workers.append(w)
        return w.start()

    def test_sigterm_with_jobs_in_flight(self):
        w = self.worker(concurrency=8)
        jids = [wtest.jid() for _ in range(20)]
        # 8 run at once (1.5 s of work then a recorded side effect), 12 wait.
        push(self.r, [job("Maintenance::RecordJid", [i, 1500], j=j) for i, j in enumerate(jids)])
        ident = w.identity()
        wait_for(lambda: self.r("HGET", ident, "busy") == b"8", 5, "8 jobs in flight")
        t0 = time.time()
        w.signal(signal.SIGTERM)
        self.assertEqual(w.wait(30), 0)
        self.assertLess(time.time() - t0, 25)
        st = self.api.state
        done = [j for j in jids if f"record:{j}" in st.applied]
        self.assertEqual(len(done), 8, "the 8 running jobs finish")
        self.assertEqual(st.duplicates, 0)
        # The rest are back in the queue, nothing in working lists, process unregistered.
        left = [json.loads(x)["jid"] for x in self.r("LRANGE", "queue:default", 0, -1)]
        self.assertEqual(sorted(left + done), sorted(jids))
        self.assertEqual(self.r("KEYS", "pn:working:*"), [])
        self.assertNotIn(ident.encode(), self.r("SMEMBERS", "processes"))
        self.assertNotIn(ident.encode(), self.r("SMEMBERS", "pn:procs"))
        self.assertIn("stopped cleanly", w.log_text())
        # A new worker runs the rest exactly once.
        self.worker(concurrency=8)
        wait_for(lambda: all(f"record:{j}" in st.applied for j in jids), 20, "the rest run")
        self.assertEqual(st.duplicates, 0)

    def test_shutdown_timeout_returns_running_jobs(self):
        w = self.worker(concurrency=2, extra="shutdown_timeout: 1\n")
        push(self.r, [job("Maintenance::Sleep", [30, i]) for i in range(2)])
        ident = w.identity()
        wait_for(lambda: self.r("HGET", ident, "busy") == b"2", 5, "2 long jobs running")
        t0 = time.time()
        w.signal(signal.SIGTERM)
        self.assertEqual(w.wait(10), 0)
        self.assertLess(time.time() - t0, 5)
        self.assertEqual(self.r("LLEN", "queue:default"), 2)
        self.assertEqual(self.r("KEYS", "pn:working:*"), [])
        self.assertIn("2 unfinished jobs returned", w.log_text())

    def test_term_then_kill_recovered_by_reaper(self):
        a = self.worker(concurrency=4)
        jids = [wtest.jid() for _ in range(4)]
        push(self.r, [job("Maintenance::RecordJid", [i, 3000], j=j) for i, j in enumerate(jids)])
        ident = a.identity()
        wait_for(lambda: self.r("HGET", ident, "busy") == b"4", 5, "4 jobs in flight")
        a.signal(signal.SIGTERM)
        time.sleep(1)
        a.kill9()
        t_kill = time.time()
        self.assertEqual(self.r("LLEN", f"pn:working:{ident}:default"), 4)
        self.worker(concurrency=4)
        wait_for(lambda: self.r("LLEN", f"pn:working:{ident}:default") == 0, 2 * HB[1] + 1,
                 "orphans recovered", step=0.02)
        recovered = time.time() - t_kill
        self.assertLessEqual(recovered, 2 * HB[1])
        st = self.api.state
        wait_for(lambda: all(f"record:{j}" in st.applied for j in jids), 20, "all 4 applied")
        self.assertNotIn(ident.encode(), self.r("SMEMBERS", "pn:procs"))

    def test_quiet_on_sigtstp(self):
        w = self.worker(concurrency=2)
        w.signal(signal.SIGTSTP)
        ident = w.identity()
        wait_for(lambda: self.r("HGET", ident, "quiet") == b"true", 5, "quiet")
        time.sleep(1.2)  # a fetch that was blocking when the signal came may still land
        push(self.r, [job("Maintenance::Noop", [1])])
        time.sleep(1.5)
        self.assertEqual(self.r("LLEN", "queue:default"), 1)
        self.assertIsNone(w.proc.poll())

    def test_long_job_on_loaded_machine_not_stolen(self):
        # 3 x the heartbeat TTL of work while both cores are busy and other workers reap.
        hogs = [subprocess.Popen(["python3", "-c", "while True: pass"]) for _ in range(2)]
        try:
            a = self.worker(concurrency=2)
            self.worker(concurrency=2)
            self.worker(concurrency=2)
            j = wtest.jid()
            push(self.r, [job("Maintenance::RecordJid", [1, int(3 * HB[1] * 1000)], j=j)])
            st = self.api.state
            wait_for(lambda: f"record:{j}" in st.applied, 30, "the long job done")
            time.sleep(2 * HB[1])
            self.assertEqual(st.duplicates, 0, "the long job ran twice")
            for w in self.workers:
                self.assertNotIn("recovered", w.log_text())
            self.assertNotIn("liveness key had expired", a.log_text())
        finally:
            for h in hogs:
                h.kill()
                h.wait()


if __name__ == "__main__":
    unittest.main(verbosity=2)
