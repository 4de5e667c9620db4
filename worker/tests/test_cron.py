"""Cron schedules from the worker config fire exactly once per tick across several worker
processes (a SET NX key per schedule and minute, in the same script as the push). Waits for
one minute boundary (at most ~60 s)."""
import json
import time
import unittest

import wtest
from wtest import wait_for

SCHEDULES = """schedules:
  - name: every_minute
    cron: "* * * * *"
    class: Maintenance::RecordJid
    args: '["cron", 1]'
  - name: new_year
    cron: "0 0 1 1 *"
    class: Maintenance::Noop
"""


class Cron(unittest.TestCase):
    def test_once_per_tick_across_processes(self):
        r, url = wtest.shared_redis(10)
        api = wtest.start_api()
        ws = [wtest.Worker(url, server_url=api.url, concurrency=2, name=f"c{i}",
                           extra=SCHEDULES) for i in range(3)]
        try:
            for w in ws:
                w.start()
            start_minute = int(time.time() // 60)
            st = api.state
            wait_for(lambda: len(st.applied) >= 1, 75, "the first cron tick")
            time.sleep(3)  # every process has evaluated that minute by now
            keys = sorted(k.decode() for k in r("KEYS", "pn:cron:*"))
            # Only the schedule that matches fired, once for each minute seen (the start minute
            # may also fire, since a process evaluates the minute it starts in).
            self.assertTrue(all(k.startswith("pn:cron:every_minute:") for k in keys), keys)
            minutes = [int(k.rsplit(":", 1)[1]) for k in keys]
            self.assertTrue(all(m >= start_minute for m in minutes))
            self.assertEqual(len(st.applied), len(keys))
            self.assertEqual(st.duplicates, 0)
            fired = sum(w.log_text().count("schedule=every_minute") for w in ws)
            self.assertEqual(fired, len(keys))
            for body in st.applied.values():
                self.assertEqual(json.loads(body)["ref"], "cron")
        finally:
            for w in ws:
                self.assertEqual(w.stop(), 0)
                w.check_sanitizers()
            api.shutdown()


if __name__ == "__main__":
    unittest.main(verbosity=2)
