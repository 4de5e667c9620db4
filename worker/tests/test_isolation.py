"""Isolated job classes run each attempt in a child process: a crash, the CPU limit, the memory
limit and the wall-clock limit each fail that attempt with a clear reason, the worker never
goes down, and a job that crashes on every attempt ends in the dead set after its retries."""
import json
import time
import unittest

import wtest
from wtest import job, push, wait_for


class Isolation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r, cls.url = wtest.shared_redis(5)
        cls.w = wtest.Worker(cls.url, concurrency=4, extra="retry_scale: 0.02\n").start()
        cls.pid = cls.w.proc.pid

    @classmethod
    def tearDownClass(cls):
        rc = cls.w.stop()
        cls.w.check_sanitizers(allow=("allocator is out of memory",
                                      "AddressSanitizer failed to allocate"))
        assert rc == 0, cls.w.log_text()[-3000:]

    def dead(self, j, timeout):
        def find():
            for m in self.r("ZRANGE", "dead", 0, -1):
                d = json.loads(m)
                if d["jid"] == j:
                    return d
            return None
        return wait_for(find, timeout, f"job {j} in the dead set")

    def test_crash_every_attempt_ends_dead(self):
        j = wtest.jid()
        push(self.r, [job("Maintenance::AbortIsolated", [], j=j)])
        d = self.dead(j, 60)
        self.assertEqual(d["retry_count"], 3)
        self.assertIn("isolated child crashed with signal 6", d["error_message"])
        self.assertEqual(self.w.log_text().count(f"jid={j} attempt="), 4)
        self.assertEqual(self.w.proc.pid, self.pid)
        self.assertIsNone(self.w.proc.poll())

    def test_cpu_limit(self):
        j = wtest.jid()
        push(self.r, [job("Maintenance::HogIsolated", ["cpu"], retry=0, j=j)])
        d = self.dead(j, 30)
        self.assertIn("exceeded the CPU limit of 1 s", d["error_message"])

    def test_memory_limit(self):
        j = wtest.jid()
        push(self.r, [job("Maintenance::HogIsolated", ["memory"], retry=0, j=j)])
        d = self.dead(j, 30)
        # Plain builds see malloc fail; sanitizer builds abort in their allocator.
        m = d["error_message"]
        self.assertTrue("memory limit of 64 MiB" in m or "(memory limit)" in m or
                        "crashed with signal" in m, m)

    def test_wall_clock_limit(self):
        j = wtest.jid()
        t0 = time.time()
        push(self.r, [job("Maintenance::HogIsolated", ["sleep"], retry=0, j=j)])
        d = self.dead(j, 30)
        self.assertIn("killed after the wall-clock limit of 4 s", d["error_message"])
        self.assertLess(time.time() - t0, 15)

    def test_counters_come_back(self):
        # Counters and timings an isolated job reports are published by the parent.
        push(self.r, [job("Maintenance::HogIsolated", ["count"], retry=0)])
        key = "Maintenance::HogIsolated.counted"
        wait_for(lambda: self.r("HGET", "pn:counters", key) == b"3", 15, "the child's counter")
        self.assertEqual(self.r("HGET", "pn:counters", "Maintenance::HogIsolated.step.ms"), b"12")
        self.assertEqual(self.r("HGET", "pn:counters", "Maintenance::HogIsolated.step.count"),
                         b"1")

    def test_zz_worker_still_runs_jobs(self):
        p0 = int(self.r("GET", "stat:processed"))
        push(self.r, [job("Maintenance::Noop", [i]) for i in range(20)])
        wait_for(lambda: int(self.r("GET", "stat:processed")) >= p0 + 20, 10, "20 jobs")
        self.assertEqual(self.w.proc.pid, self.pid)


if __name__ == "__main__":
    unittest.main(verbosity=2)
