"""Kill storm (RELIABILITY B1, scaled to run in well under 3 minutes): 10,000 jobs, each doing
20-100 ms of work then reporting its jid through an idempotent API call, across 4 worker
processes with 10 threads each; every 2 s a random worker gets kill -9 and is restarted.
Pass: at least 5 kills, 0 jobs lost (every jid applied), each side effect applied exactly once
(the stand-in dedupes by Idempotency-Key and counts re-deliveries), re-deliveries at most
kills x concurrency, every kill's orphans recovered within two heartbeat TTLs, nothing left
in any working list, retry or dead set."""
import random
import time
import unittest

import wtest
from wtest import job, push, wait_for

N = 10000
WORKERS = 4
CONC = 10
HB = (0.5, 2.0)
KILL_EVERY = 2.0


class KillStorm(unittest.TestCase):
    def test_kill_storm(self):
        r, url = wtest.shared_redis(7)
        api = wtest.start_api()
        ws = [wtest.Worker(url, server_url=api.url, concurrency=CONC, hb=HB, name=f"k{i}",
)
          for i in range(WORKERS)]
        rnd = random.Random(1234)
        jids = [wtest.jid() for _ in range(N)]
        push(r, [job("Maintenance::RecordJid", [i, rnd.randint(20, 100)], j=j)
                 for i, j in enumerate(jids)])
        st = api.state
        kills, recoveries = 0, []
        t0 = time.time()
        try:
            for w in ws:
                w.start()
            next_kill = time.time() + KILL_EVERY
            while len(st.applied) < N and time.time() - t0 < 150:
                if time.time() >= next_kill and len(st.applied) < N * 0.97:
                    w = rnd.choice(ws)
                    ident = w.identity()
                    w.kill9()
                    tk = time.time()
                    kills += 1
                    w.start()
                    key = f"pn:working:{ident}:default"
                    # Back in the queue or already picked up again by a live worker.
                    wait_for(lambda: r("LLEN", key) == 0 and
                             not r("KEYS", "pn:orphans:*"), 2 * HB[1] + 3, "orphan recovery",
                             step=0.02)
                    recoveries.append(time.time() - tk)
                    next_kill = tk + KILL_EVERY
                time.sleep(0.05)
            wait_for(lambda: len(st.applied) >= N, 60, "all jobs applied")
            elapsed = time.time() - t0
            wait_for(lambda: r("LLEN", "queue:default") == 0 and not r("KEYS", "pn:working:*"),
                     10, "queues and working lists empty")
            print(f"\n{N} jobs, {WORKERS} workers x {CONC}: {elapsed:.1f} s, {kills} kills, "
                  f"re-deliveries {st.duplicates}, recoveries max {max(recoveries):.2f} s "
                  f"(limit {2 * HB[1]:.1f} s)")
            self.assertGreaterEqual(kills, 5)
            self.assertEqual(sorted(st.applied), sorted(f"record:{j}" for j in jids))
            self.assertLessEqual(st.duplicates, kills * CONC)
            self.assertLessEqual(max(recoveries), 2 * HB[1])
            self.assertEqual(r("ZCARD", "dead"), 0)
            self.assertEqual(r("ZCARD", "retry"), 0)
            self.assertEqual(st.bad_auth + st.missing_key, 0)
        finally:
            for w in ws:
                w.stop()
                w.check_sanitizers()
            api.shutdown()


if __name__ == "__main__":
    unittest.main(verbosity=2)
