"""Redis killed (-9) and restarted with RDB snapshots only, no AOF (RELIABILITY B8): Debian's
default save points, so Redis comes back with whatever its last snapshot held. 3,000 jobs are
enqueued, a snapshot is taken after the first 500 are applied (standing in for a save point
firing), 2,000 more are enqueued, and Redis is killed after 2,500 are applied. On restart
Redis has lost the later 2,000 (unless already done) and holds stale copies of jobs done since
the snapshot, including stale working lists of the live workers. The test's API stand-in
plays the server: its outbox (every enqueued job) is the source of truth and its reconcile
route re-pushes jobs neither applied nor held in Redis; the workers call it from a schedule
every minute (Maintenance::Reconcile).
Pass: all 5,000 jobs applied within 65 s of Redis coming back (cron ticks are a minute apart),
each side effect exactly once (stale copies re-run but the Idempotency-Key dedupes them), the
reconciler re-pushed lost jobs, the workers noticed the restart and re-synced their working
lists (nothing stale left), and no worker died. Uses its own redis-server on a free loopback
port; still requires PN_TEST_REDIS_URL like every worker test."""
import json
import time
import unittest

import wtest
from wtest import job, push, wait_for

N1, N2 = 3000, 2000
DEBIAN_SAVE = "3600 1 300 100 60 10000"
SCHEDULE = """schedules:
  - name: reconcile
    cron: "* * * * *"
    class: Maintenance::Reconcile
"""


class RedisRdbOnly(unittest.TestCase):
    def test_kill_and_restart_redis_rdb_only(self):
        wtest.redis_addr()  # fails clearly when PN_TEST_REDIS_URL is unset
        red = wtest.PrivateRedis(save=DEBIAN_SAVE)
        api = wtest.start_api()
        st = api.state
        outbox = {}  # jid -> payload: the server's jobs table
        rc = red.client(1)
        pushed_back = []

        def reconcile():
            held = set()
            keys = [b"queue:default"] + rc("KEYS", "pn:working:*") + rc("KEYS", "pn:orphans:*")
            for k in keys:
                held.update(json.loads(m)["jid"] for m in rc("LRANGE", k, 0, -1))
            for z in ("retry", "schedule"):
                held.update(json.loads(m)["jid"] for m in rc("ZRANGE", z, 0, -1))
            todo = [p for j, p in outbox.items() if f"record:{j}" not in st.applied and
                    j not in held]
            if todo:
                push(rc, todo)
            pushed_back.append(len(todo))
            return {"reconciled": len(todo)}

        st.hooks["/api/v1/internal/jobs/reconcile"] = reconcile
        ws = [wtest.Worker(red.url(1), server_url=api.url, concurrency=5, hb=(0.5, 3),
                           name=f"rdb{i}", extra=SCHEDULE) for i in range(2)]
        r = red.client(1)
        try:
            def enqueue(n, base):
                ps = []
                for i in range(n):
                    j = wtest.jid()
                    ps.append(job("Maintenance::RecordJid", [base + i, 2], j=j))
                    outbox[j] = ps[-1]
                push(r, ps)

            enqueue(N1, 0)
            for w in ws:
                w.start()
            wait_for(lambda: len(st.applied) >= 500, 60, "500 applied")
            self.assertEqual(r("SAVE"), "OK")
            enqueue(N2, N1)
            wait_for(lambda: len(st.applied) >= 2500, 60, "2,500 applied")
            red.kill()
            at_kill = len(st.applied)
            time.sleep(1.0)
            red.start()
            back = time.time()
            r = red.client(1)
            self.assertGreater(r("LLEN", "queue:default"), 0, "the snapshot was not loaded")
            wait_for(lambda: len(st.applied) >= N1 + N2, 65, "all applied after the restart",
                     step=0.2)
            took = time.time() - back
            # The stale working lists are gone and nothing waits anywhere.
            wait_for(lambda: r("LLEN", "queue:default") == 0 and not r("KEYS", "pn:working:*"),
                     15, "nothing left in queues or working lists")
            print(f"\napplied at kill {at_kill}, all applied {took:.1f} s after Redis came "
                  f"back, reconciler re-pushed {sum(pushed_back)}, re-deliveries "
                  f"{st.duplicates}")
            self.assertEqual(sorted(st.applied), sorted(f"record:{j}" for j in outbox))
            self.assertGreater(sum(pushed_back), 0, "nothing was lost: the test proves nothing")
            self.assertEqual(r("ZCARD", "dead"), 0)
            for w in ws:
                self.assertIsNone(w.proc.poll(), "a worker died with Redis")
                self.assertEqual(w.starts, 1)
                self.assertIn("redis restarted (run_id changed)", w.log_text())
                self.assertIn("re-synced with the restarted redis", w.log_text())
        finally:
            for w in ws:
                self.assertEqual(w.stop(), 0)
                w.check_sanitizers()
            api.shutdown()
            red.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
