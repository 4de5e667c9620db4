"""Jobs run; bad jobs (unknown class, wrong argument types, huge, deeply nested, invalid UTF-8,
not JSON) go to the dead set with a reason while the worker keeps running; API calls carry a
valid service JWT and an Idempotency-Key; heartbeats in Sidekiq's format; quiet mode; runaway
detection; working directories removed; execution history visible."""
import json
import os
import signal
import time
import unittest

import wtest
from wtest import job, push, wait_for


class Basics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r, cls.url = wtest.shared_redis(2)
        cls.api = wtest.start_api()
        cls.w = wtest.Worker(cls.url, server_url=cls.api.url, concurrency=4,
                             queues={"default": 2, "other": 1}).start()

    @classmethod
    def tearDownClass(cls):
        wtest.finish(cls.w, cls.api)

    def dead(self):
        return [json.loads(x) for x in self.r("ZRANGE", "dead", 0, -1)]

    def test_1_noop_and_api_jobs_run(self):
        before = int(self.r("GET", "stat:processed") or 0)
        push(self.r, [job("Maintenance::Noop", [i]) for i in range(300)])
        push(self.r, [job("Maintenance::Noop", [i]) for i in range(50)], queue="other")
        jids = [wtest.jid() for _ in range(20)]
        push(self.r, [job("Maintenance::RecordJid", [i], j=j) for i, j in enumerate(jids)])
        push(self.r, [job("Maintenance::ApiCall", [])])
        wait_for(lambda: int(self.r("GET", "stat:processed") or 0) >= before + 371, 30,
                 "371 jobs processed")
        self.assertEqual(self.r("LLEN", "queue:default"), 0)
        self.assertEqual(self.r("LLEN", "queue:other"), 0)
        st = self.api.state
        for j in jids:
            self.assertIn(f"record:{j}", st.applied)
            self.assertEqual(json.loads(st.applied[f"record:{j}"])["jid"], j)
        self.assertEqual(st.bad_auth, 0)
        self.assertEqual(st.missing_key, 0)
        self.assertEqual(st.subs, {"w"})
        # Acknowledged jobs leave the working lists.
        ident = self.w.identity()
        wait_for(lambda: all(self.r("LLEN", f"pn:working:{ident}:{q}") == 0
                             for q in ("default", "other")), 5, "empty working lists")

    def test_2_bad_jobs_go_dead_with_reasons(self):
        pid = self.w.proc.pid
        big = json.dumps({"class": "Maintenance::Noop", "args": ["x" * (1 << 20)],
                          "jid": "big1", "queue": "default"})
        deep = '{"class":"Maintenance::Noop","args":' + "[" * 10000 + "]" * 10000 + \
               ',"jid":"deep1"}'
        bad = [
            (job("No::Such", [], j="unk1"), "unknown job class No::Such"),
            (job("Maintenance::Typed", [1, "a"], j="typ1"),
             "argument 1 must be a string, got an integer"),
            (job("Maintenance::Typed", ["a"], j="typ2"), "expected 2 arguments, got 1"),
            (big, "over the limit"),
            (deep, "nested deeper than 64"),
            (b'{"class":"Maintenance::Noop","args":["\xff\xfe"],"jid":"utf1"}',
             "not valid JSON"),
            ("this is not json", "not valid JSON"),
            ('{"class":"Maintenance::Noop","args":"nope","jid":"arg1"}', 'no "args" array'),
            ('{"class":"Maintenance::Noop","args":[],"jid":"r1","retry":"x"}', '"retry" must'),
        ]
        n0 = self.r("ZCARD", "dead")
        push(self.r, [b for b, _ in bad])
        wait_for(lambda: self.r("ZCARD", "dead") >= n0 + len(bad), 20, "bad jobs in dead")
        reasons = [d.get("error_message", "") for d in self.dead()]
        for _, want in bad:
            self.assertTrue(any(want in r for r in reasons), f"no dead entry says {want!r}")
        for d in self.dead():
            if d.get("error_class") == "PnBadPayload":
                self.assertIn("pn_raw_b64", d)
        # Still the same process, still working.
        self.assertEqual(self.w.proc.pid, pid)
        self.assertIsNone(self.w.proc.poll())
        p0 = int(self.r("GET", "stat:processed"))
        push(self.r, [job("Maintenance::Noop", ["after"])])
        wait_for(lambda: int(self.r("GET", "stat:processed")) > p0, 10, "a job after bad ones")

    def test_3_heartbeat_in_sidekiq_format(self):
        ident = self.w.identity()
        self.assertIn(ident.encode(), self.r("SMEMBERS", "processes"))
        h = self.r("HGETALL", ident)
        h = dict(zip(h[::2], h[1::2]))
        info = json.loads(h[b"info"])
        self.assertEqual(info["identity"], ident)
        self.assertEqual(info["concurrency"], 4)
        self.assertEqual(sorted(info["queues"]), ["default", "other"])
        self.assertIn(h[b"quiet"], (b"false", b"true"))
        self.assertGreater(int(h[b"rss"]), 0)
        self.assertLess(abs(float(h[b"beat"]) - time.time()), 5)
        self.assertGreater(self.r("TTL", ident), 0)
        self.assertGreater(self.r("PTTL", f"pn:alive:{ident}"), 0)
        # Running jobs appear in <identity>:workers while they run.
        push(self.r, [job("Maintenance::Sleep", [2, "hb"])])
        wait_for(lambda: self.r("HLEN", f"{ident}:workers") == 1, 5, "a running job listed")
        v = json.loads(list(self.r("HGETALL", f"{ident}:workers"))[1])
        self.assertEqual(json.loads(v["payload"])["class"], "Maintenance::Sleep")
        self.assertEqual(v["queue"], "default")
        # Execution history per class.
        runs = wait_for(lambda: self.r("HGET", f"pn:runs:{ident}", "Maintenance::Noop"), 5,
                        "run history")
        runs = json.loads(runs)
        self.assertLessEqual(len(runs), 20)
        self.assertEqual(runs[0]["result"], "ok")

    def test_4_runaway_is_disabled_not_lost(self):
        ident = self.w.identity()
        push(self.r, [job("Maintenance::Noop", ["same"]) for _ in range(8)])
        wait_for(lambda: self.r("ZCARD", "schedule") >= 2, 10, "runaway jobs in schedule")
        state = wait_for(lambda: json.loads(self.r("GET", f"pn:state:{ident}") or b"{}")
                         .get("disabled"), 5, "disabled job visible")
        self.assertTrue(any(k.startswith("Maintenance::Noop") for k in state))
        self.assertIn("runaway", self.w.log_text())
        sched = [json.loads(x) for x in self.r("ZRANGE", "schedule", 0, -1)]
        self.assertTrue(all(s["args"] == ["same"] for s in sched))
        # Scheduled for when the 5-minute disable ends.
        score = float(self.r("ZRANGE", "schedule", 0, 0, "WITHSCORES")[1])
        self.assertGreater(score, time.time() + 200)

    def test_4b_runaway_across_workers(self):
        # 3 runs here and 3 on another process: neither sees more than 5, the fleet does.
        other = wtest.Worker(self.url, server_url=self.api.url, concurrency=2,
                             queues={"fleet": 1}, name="fleet").start()
        try:
            args = ["fleet-wide"]
            push(self.r, [job("Maintenance::Noop", args) for _ in range(3)])
            wait_for(lambda: self.r("LLEN", "queue:default") == 0, 10, "3 runs here")
            push(self.r, [job("Maintenance::Noop", args, queue="fleet") for _ in range(3)],
                 queue="fleet")
            members = wait_for(lambda: [m for m in self.r("ZRANGE", "pn:disabled", 0, -1)
                                        if b"fleet-wide" in m], 10, "the fleet-wide disable")
            digest, label = members[0].decode().split(" ", 1)
            self.assertEqual(label, 'Maintenance::Noop ["fleet-wide"]')
            ttl = self.r("TTL", f"pn:disabled:{digest}")
            self.assertTrue(250 < ttl <= 300, ttl)
            self.assertEqual(self.r("GET", f"pn:disabled:{digest}").decode(), label)
            # Both processes learn of it with their heartbeat and park further copies.
            for w in (self.w, other):
                wait_for(lambda: 'runaway across workers: Maintenance::Noop ["fleet-wide"]' in
                         w.log_text(), 5, "disable learnt")
            before = self.r("ZCARD", "schedule")
            push(self.r, [job("Maintenance::Noop", args)])
            wait_for(lambda: self.r("ZCARD", "schedule") == before + 1, 5, "copy parked")
        finally:
            self.assertEqual(other.stop(), 0)
            other.check_sanitizers()

    def test_5_workdir_removed(self):
        push(self.r, [job("Maintenance::Workdir", [], j="wd1")])
        d = wait_for(lambda: [x for x in self.dead() if x["jid"] == "wd1"], 10, "workdir job")
        path = d[0]["error_message"].split("workdir=")[1]
        self.assertTrue(path.startswith("/tmp/pn-job-wd1-"))
        self.assertFalse(os.path.exists(path))

    def test_6_quiet_by_redis_signal(self):
        ident = self.w.identity()
        self.r("LPUSH", f"{ident}-signals", "TSTP")
        wait_for(lambda: self.r("HGET", ident, "quiet") == b"true", 5, "quiet in heartbeat")
        time.sleep(0.5)
        push(self.r, [job("Maintenance::Noop", ["quiet"])])
        time.sleep(1.5)
        self.assertEqual(self.r("LLEN", "queue:default"), 1, "a quiet worker fetched a job")
        self.assertIsNone(self.w.proc.poll())
        self.r("DEL", "queue:default")


if __name__ == "__main__":
    unittest.main(verbosity=2)
