"""Rolling restart (RELIABILITY B5, Sidekiq #4635) under the kill storm's load: 10,000 jobs of
50-150 ms that report their jid through an idempotent API call, 4 worker processes x 10
threads; every 2 s the next worker gets SIGTERM and is started again, 3 rounds (12 restarts).
Pass: every restart exits 0 within the shutdown timeout and leaves nothing behind (no working
list, running marker or registration: no orphan for a reaper to wait for, so no "recovered
after an hour"), 0 jobs lost, 0 jobs run twice (a graceful stop finishes or returns every job
before it starts), nothing in the retry or dead set. Uses its own redis-server on a free
loopback port; still requires PN_TEST_REDIS_URL like every worker test."""
import random
import signal
import time
import unittest

import wtest
from wtest import job, push, wait_for

N = 10000
WORKERS = 4
CONC = 10
HB = (0.5, 2.0)
EVERY = 2.0
ROUNDS = 3
SHUTDOWN = 25


class RollingRestart(unittest.TestCase):
    def test_rolling_restart_under_load(self):
        wtest.redis_addr()  # fails clearly when PN_TEST_REDIS_URL is unset
        red = wtest.PrivateRedis()
        api = wtest.start_api()
        ws = [wtest.Worker(red.url(1), server_url=api.url, concurrency=CONC, hb=HB,
                           name=f"roll{i}", extra=f"shutdown_timeout: {SHUTDOWN}\n")
              for i in range(WORKERS)]
        r = red.client(1)
        rnd = random.Random(5)
        jids = [wtest.jid() for _ in range(N)]
        st = api.state
        try:
            push(r, [job("Maintenance::RecordJid", [i, rnd.randint(50, 150)], j=j)
                     for i, j in enumerate(jids)])
            for w in ws:
                w.start()
            t0 = time.time()
            stops = []
            for rnd_no in range(ROUNDS):
                for w in ws:
                    tick = time.time()
                    left = r("LLEN", "queue:default")
                    self.assertGreater(left, 0, f"the load ran out before restart "
                                       f"{len(stops) + 1}: the test would prove nothing")
                    ident = w.identity()
                    w.signal(signal.SIGTERM)
                    rc = w.wait(SHUTDOWN + 5)
                    took = time.time() - tick
                    self.assertEqual(rc, 0, f"restart {len(stops) + 1} exit status")
                    # Nothing left behind for a reaper: no orphan, so no waiting for one.
                    self.assertEqual(r("KEYS", f"pn:working:{ident}:*"), [])
                    self.assertEqual(r("EXISTS", f"pn:running:{ident}"), 0)
                    self.assertNotIn(ident.encode(), r("SMEMBERS", "pn:procs"))
                    self.assertNotIn(ident.encode(), r("SMEMBERS", "processes"))
                    stops.append(took)
                    w.start()
                    time.sleep(max(0.0, tick + EVERY - time.time()))
            wait_for(lambda: len(st.applied) >= N, 120, "all jobs applied")
            elapsed = time.time() - t0
            wait_for(lambda: r("LLEN", "queue:default") == 0 and not r("KEYS", "pn:working:*")
                     and not r("KEYS", "pn:running:*"), 10, "queues and working lists empty")
            print(f"\n{N} jobs, {WORKERS} workers x {CONC}, {len(stops)} rolling restarts: "
                  f"{elapsed:.1f} s; stop took max {max(stops):.2f} s; "
                  f"re-deliveries {st.duplicates}")
            self.assertEqual(len(stops), ROUNDS * WORKERS)
            self.assertEqual(sorted(st.applied), sorted(f"record:{j}" for j in jids))
            self.assertEqual(st.duplicates, 0, "a job ran twice across a graceful restart")
            self.assertEqual(r("ZCARD", "dead"), 0)
            self.assertEqual(r("ZCARD", "retry"), 0)
            self.assertEqual(st.bad_auth + st.missing_key, 0)
            for w in ws:
                self.assertNotIn("tag=reaper", w.log_text(), "a graceful stop left orphans")
        finally:
            for w in ws:
                w.stop()
                w.check_sanitizers()
            api.shutdown()
            red.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
