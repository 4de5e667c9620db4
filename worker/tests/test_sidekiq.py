"""Interop with the real Sidekiq 6.4 (Debian's ruby-sidekiq): jobs pushed by Sidekiq::Client
(push, push_bulk, scheduled with 'at') run in our worker with their arguments, and Sidekiq's
own API (Stats, Queue, RetrySet, DeadSet, ProcessSet, Process#quiet!) reads our queues, retry
and dead sets and heartbeats correctly."""
import json
import os
import shutil
import subprocess
import time
import unittest

import wtest
from wtest import job, push, wait_for

TOOL = os.path.join(wtest.HERE, "sidekiq_tool.rb")


class Sidekiq(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("ruby") or subprocess.run(
                ["ruby", "-e", "require 'sidekiq'"], capture_output=True).returncode != 0:
            wtest.fail("ruby-sidekiq is not installed (apt-get install ruby-sidekiq)")
        cls.r, cls.url = wtest.shared_redis(8)
        cls.api = wtest.start_api()
        cls.w = wtest.Worker(cls.url, server_url=cls.api.url, concurrency=3).start()

    @classmethod
    def tearDownClass(cls):
        wtest.finish(cls.w, cls.api)

    def ruby(self, *args):
        p = subprocess.run(["ruby", TOOL, *args], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, REDIS_URL=self.url))
        if p.returncode != 0:
            raise AssertionError(f"sidekiq_tool {args}: {p.stdout}{p.stderr}")
        return p.stdout.strip()

    def test_1_sidekiq_client_jobs_run_here(self):
        st = self.api.state
        jid = self.ruby("push", "Maintenance::RecordJid", '[{"k":"v","n":5}, 1]')
        self.assertRegex(jid, r"^[0-9a-f]{24}$")
        wait_for(lambda: f"record:{jid}" in st.applied, 10, "Sidekiq-pushed job applied")
        self.assertEqual(json.loads(st.applied[f"record:{jid}"]),
                         {"jid": jid, "ref": {"k": "v", "n": 5}})
        jids = json.loads(self.ruby("push_bulk", "Maintenance::RecordJid", "50"))
        wait_for(lambda: all(f"record:{j}" in st.applied for j in jids), 15, "bulk jobs applied")
        later = self.ruby("push_at", "Maintenance::RecordJid", '["later", 1]', "1.5")
        self.assertEqual(self.r("ZCARD", "schedule"), 1)
        t0 = time.time()
        wait_for(lambda: f"record:{later}" in st.applied, 10, "scheduled job applied")
        self.assertGreater(time.time() - t0, 0.8)
        # Acknowledged too (the report is sent just before the acknowledgement).
        wait_for(lambda: int(self.r("GET", "stat:processed") or 0) == 52, 5, "52 processed")

    def test_2_sidekiq_api_reads_our_state(self):
        p0 = json.loads(self.ruby("stats"))
        push(self.r, [job("Maintenance::Fail", ["to-dead"], retry=0, j="d" * 24)])
        push(self.r, [job("Maintenance::Fail", ["to-retry"], j="e" * 24)])  # retried in ~15 s
        wait_for(lambda: self.r("ZCARD", "dead") == 1 and self.r("ZCARD", "retry") == 1, 10,
                 "one dead, one retry")
        s = json.loads(self.ruby("stats"))
        self.assertEqual(s["dead"], 1)
        self.assertEqual(s["retry"], 1)
        self.assertEqual(s["failed"], p0["failed"] + 2)
        self.assertEqual(s["processed"], p0["processed"] + 2)
        self.assertEqual(s["dead_entries"], [{"klass": "Maintenance::Fail", "jid": "d" * 24,
                                              "error": "to-dead"}])
        self.assertEqual(s["retry_entries"], [{"klass": "Maintenance::Fail", "jid": "e" * 24,
                                               "retry_count": 0}])
        self.assertEqual(s["processes"], 1)
        proc = s["procs"][0]
        self.assertEqual(proc["identity"], self.w.identity())
        self.assertEqual(proc["concurrency"], 3)
        self.assertEqual(proc["queues"], ["default"])
        # Quiet through Sidekiq's API, then queue sizes as Sidekiq sees them.
        self.assertEqual(self.ruby("quiet", self.w.identity()), "ok")
        ident = self.w.identity()
        wait_for(lambda: self.r("HGET", ident, "quiet") == b"true", 5, "quiet via Sidekiq API")
        time.sleep(1.2)
        push(self.r, [job("Maintenance::Noop", [i]) for i in range(7)])
        time.sleep(0.5)
        s = json.loads(self.ruby("stats"))
        self.assertEqual(s["default_size"], 7)
        self.assertEqual(s["enqueued"], 7)
        self.assertEqual(s["queues"], {"default": 7})
        self.assertTrue(s["procs"][0]["quiet"] in (True, "true"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
