"""Redis killed (-9) and restarted under load, with AOF everysec (RELIABILITY B9): the workers
keep running, reconnect by themselves, keep acknowledgements made while Redis was down and
send them later, and every job is applied exactly once with none lost. Uses a private
redis-server (it gets killed), but still requires PN_TEST_REDIS_URL like every worker test."""
import time
import unittest

import wtest
from wtest import job, push, wait_for

N = 3000


class RedisRestart(unittest.TestCase):
    def test_kill_and_restart_redis(self):
        wtest.redis_addr()  # fails clearly when PN_TEST_REDIS_URL is unset
        red = wtest.PrivateRedis(appendonly=True)
        api = wtest.start_api()
        ws = [wtest.Worker(red.url(1), server_url=api.url, concurrency=5, hb=(0.5, 3),
                           name=f"r{i}") for i in range(2)]
        try:
            r = red.client(1)
            jids = [wtest.jid() for _ in range(N)]
            push(r, [job("Maintenance::RecordJid", [i, 2], j=j) for i, j in enumerate(jids)])
            r.close()
            for w in ws:
                w.start()
            st = api.state
            wait_for(lambda: len(st.applied) >= N // 3, 60, "a third applied")
            red.kill()
            at_kill = len(st.applied)
            time.sleep(1.0)
            red.start()
            r = red.client(1)
            wait_for(lambda: len(st.applied) >= N, 90, "all applied after the restart")
            wait_for(lambda: r("LLEN", "queue:default") == 0 and not r("KEYS", "pn:working:*"),
                     15, "nothing left in queues or working lists")
            print(f"\napplied at kill {at_kill}, re-deliveries {st.duplicates}")
            self.assertEqual(sorted(st.applied), sorted(f"record:{j}" for j in jids))
            self.assertLessEqual(st.duplicates, 10)
            for w in ws:
                self.assertIsNone(w.proc.poll(), "a worker died with Redis")
                self.assertEqual(w.starts, 1)
            self.assertTrue(any("redis" in w.log_text() and "level=error" in w.log_text()
                                for w in ws), "no worker noticed Redis going away")
        finally:
            for w in ws:
                self.assertEqual(w.stop(), 0)
                w.check_sanitizers()
            api.shutdown()
            red.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
