"""Retries and the dead set, with retry delays scaled by retry_scale: a job that always fails is
attempted retry + 1 times with Sidekiq's count^4 + 15 + jitter gaps, then dead; API errors use
30/60/180 s; retry 0 goes straight to dead, retry false is dropped; a permanent failure goes
straight to dead; the dead set is capped; a server that is down while jobs report is retried
with backoff and each report is applied once when it returns."""
import json
import time
import unittest

import wtest
from wtest import job, push, wait_for

SCALE = 0.05


class Retries(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r, cls.url = wtest.shared_redis(3)
        cls.api = wtest.start_api()
        cls.w = wtest.Worker(cls.url, server_url=cls.api.url, concurrency=4,
                             extra=f"retry_scale: {SCALE}\n",
                             server_opts={"breaker_scale": 0.01}).start()

    @classmethod
    def tearDownClass(cls):
        wtest.finish(cls.w, cls.api)

    def dead_by_jid(self, j):
        return wtest.dead_by_jid(self.r, j)

    def watch_retries(self, j, timeout):
        """Records (retry_count, delay planned) each time the job enters the retry set."""
        seen = {}
        deadline = time.time() + timeout
        while time.time() < deadline and not self.dead_by_jid(j):
            for m, score in zip(*[iter(self.r("ZRANGE", "retry", 0, -1, "WITHSCORES"))] * 2):
                d = json.loads(m)
                if d["jid"] == j and d["retry_count"] not in seen:
                    failed = d.get("retried_at", d["failed_at"])
                    seen[d["retry_count"]] = float(score) - failed
            time.sleep(0.01)
        return seen

    def test_poison_job_retries_then_dead(self):
        j = wtest.jid()
        push(self.r, [job("Maintenance::Fail", ["poison"], j=j)])
        seen = self.watch_retries(j, 30)
        d = wait_for(lambda: self.dead_by_jid(j), 10, "poison job in dead")
        self.assertEqual(sorted(seen), [0, 1, 2], seen)
        for count, delay in seen.items():
            lo = (count ** 4 + 15) * SCALE
            hi = (count ** 4 + 15 + 9 * (count + 1)) * SCALE
            self.assertTrue(lo - 0.001 <= delay <= hi + 0.001, f"retry {count}: {delay}")
        self.assertEqual(d["retry_count"], 3)  # 4 attempts: 1 + 3 retries
        self.assertEqual(d["error_message"], "poison")
        self.assertEqual(d["error_class"], "PnJobError")
        self.assertIn("retried_at", d)
        self.assertEqual(self.w.log_text().count(f"jid={j} failed"), 4)

    def test_api_error_delays(self):
        j = wtest.jid()
        self.api.state.down = True
        try:
            push(self.r, [job("Maintenance::RecordJid", ["api-delays"], retry=2, j=j)])
            seen = self.watch_retries(j, 30)
        finally:
            self.api.state.down = False
        d = wait_for(lambda: self.dead_by_jid(j), 10, "API job in dead")
        self.assertEqual(sorted(seen), [0, 1])
        self.assertAlmostEqual(seen[0], 30 * SCALE, delta=0.01)
        self.assertAlmostEqual(seen[1], 60 * SCALE, delta=0.01)
        self.assertEqual(d["error_class"], "PnApiError")
        self.assertTrue("HTTP 503" in d["error_message"] or
                        "circuit open for backend" in d["error_message"], d["error_message"])

    def test_server_down_then_back_applied_once(self):
        st = self.api.state
        st.down = True
        jids = [wtest.jid() for _ in range(30)]
        # Arguments unique to this test: the earlier tests' fast retries of RecordJid [1]
        # would otherwise trip runaway detection for that class and arguments.
        push(self.r, [job("Maintenance::RecordJid", [f"down-{i}"], j=j)
                      for i, j in enumerate(jids)])
        wait_for(lambda: self.r("ZCARD", "retry") >= 30, 20, "30 reports waiting to retry")
        # The backend breaker opened and is visible in the process state.
        ident = self.w.identity()
        wait_for(lambda: json.loads(self.r("GET", f"pn:state:{ident}") or b"{}")
                 .get("breakers", {}).get("backend", {}).get("failures", 0) >= 5, 5,
                 "backend breaker failures visible")
        calls = st.calls
        time.sleep(1.0)
        # Backoff, not a storm: nothing hammers the server while every report waits.
        self.assertLess(st.calls - calls, 40)
        st.down = False
        wait_for(lambda: all(f"record:{j}" in st.applied for j in jids), 30,
                 "all reports applied after the server came back")
        time.sleep(0.5)
        for j in jids:
            self.assertIsNone(self.dead_by_jid(j))

    def test_retry_zero_false_and_permanent(self):
        j0, jf, jp = wtest.jid(), wtest.jid(), wtest.jid()
        before = int(self.r("GET", "stat:failed") or 0)
        push(self.r, [job("Maintenance::Fail", ["zero"], retry=0, j=j0),
                      job("Maintenance::Fail", ["drop"], retry=False, j=jf),
                      job("Maintenance::ApiCall", ["no-slash"], j=jp)])
        wait_for(lambda: int(self.r("GET", "stat:failed") or 0) >= before + 3, 10, "3 failures")
        d0 = wait_for(lambda: self.dead_by_jid(j0), 5, "retry 0 in dead")
        self.assertEqual(d0["retry_count"], 0)
        self.assertIsNone(self.dead_by_jid(jf))
        dp = self.dead_by_jid(jp)
        self.assertEqual(dp["error_class"], "PnPermanentFailure")
        self.assertIn("path must start with /", dp["error_message"])
        for m in self.r("ZRANGE", "retry", 0, -1):
            self.assertNotIn(json.loads(m)["jid"], (j0, jf, jp))


class DeadCap(unittest.TestCase):
    def test_dead_set_capped(self):
        r, url = wtest.shared_redis(11)
        w = wtest.Worker(url, extra="dead:\n  max_jobs: 5\n").start()
        try:
            r("ZADD", "dead", time.time() - 20 * 86400, job("Old::Job", []))
            push(r, [job("Maintenance::Fail", [i], retry=0) for i in range(9)])
            wait_for(lambda: int(r("GET", "stat:failed") or 0) >= 9, 10, "9 failures")
            time.sleep(0.3)
            self.assertEqual(r("ZCARD", "dead"), 5)
            for m in r("ZRANGE", "dead", 0, -1):
                self.assertNotEqual(json.loads(m)["class"], "Old::Job")  # older than 14 days
        finally:
            self.assertEqual(w.stop(), 0)
            w.check_sanitizers()


if __name__ == "__main__":
    unittest.main(verbosity=2)
