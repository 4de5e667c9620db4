"""The queues plugin against a real server and the test Redis: queue sizes and latency,
paging, scheduled/retry/dead listings, retry-now moving a job exactly once under concurrent
clicks, deletes, worker processes from a heartbeat hash, stats, permissions, the worker's
service routes and the reconciler contract (through the test-only qtest plugin)."""
import concurrent.futures
import json
import os
import threading
import time
import unittest

import pn
import test_auth_support as auth
from test_queues_support import Redis, dumps, jid, payload


def service_token():
    return auth.sign(auth.header(kid="service"),
                     auth.claims("worker-queues", None, typ="service"), auth.SERVICE_SECRET)


class QueuesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = Redis()
        cls.r.flush()
        cls.db = pn.Database()
        qtest = os.path.join(pn.build_dir(), "test-plugins", "qtest.so")
        cls.srv = pn.Server(cls.db, "plugins:\n  queues:\n    reconcilers: qtest\n"
                            "    reconcile_after: 0\n",
                            env={"POWERNODE_REDIS_QUEUE_URL": cls.r.url},
                            plugins_paths=[qtest])
        cls.srv.create_admin()
        cls.token = cls.srv.login()
        auth.add_user(cls.db, "member@example.test", "member")
        cls.member = cls.srv.login("member@example.test", pn.ADMIN_PASSWORD)

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.db.drop()
        cls.r.flush()
        cls.r.close()
        assert code == 0, "server exit code %r" % code

    def setUp(self):
        self.r.flush()

    def call(self, method, path, body=None, token=None, status=200):
        r = self.srv.request(method, path, body,
                             token=self.token if token is None else token)
        self.assertEqual(r.status, status, r)
        if status < 300 and status != 204:
            self.assertIs(r.doc["success"], True, r)
        return r

    def data(self, path, **kw):
        return self.call("GET", path, **kw).doc["data"]

    # ---- queues ----

    def test_queue_sizes_and_latency(self):
        now = time.time()
        for age in (100, 50, 10):  # LPUSH: the oldest ends on the right
            self.r.cmd("LPUSH", "queue:default", dumps(payload(enqueued_at=now - age)))
        self.r.cmd("SADD", "queues", "default", "empty")
        self.r.cmd("SADD", "queues", "ms7")  # Sidekiq 7 writes milliseconds
        self.r.cmd("LPUSH", "queue:ms7", dumps(payload(enqueued_at=int((now - 30) * 1000))))
        q = {x["name"]: x for x in self.data("/api/v1/queues")["queues"]}
        self.assertEqual(sorted(q), ["default", "empty", "ms7"])
        self.assertEqual(q["default"]["size"], 3)
        self.assertAlmostEqual(q["default"]["latency"], 100, delta=5)
        self.assertEqual((q["empty"]["size"], q["empty"]["latency"]), (0, 0))
        self.assertAlmostEqual(q["ms7"]["latency"], 30, delta=5)

    def test_queue_paging_newest_and_oldest(self):
        jids = [jid() for _ in range(30)]
        for i, j in enumerate(jids):
            self.r.cmd("LPUSH", "queue:paging", dumps(payload(args=[i, "x" * 400], jid=j)))
        self.r.cmd("SADD", "queues", "paging")
        r = self.call("GET", "/api/v1/queues/paging/jobs?per_page=10&page=1")
        self.assertEqual([x["jid"] for x in r.doc["data"]["jobs"]], jids[::-1][:10])
        self.assertEqual(r.doc["meta"]["pagination"],
                         {"current_page": 1, "per_page": 10, "total_pages": 3, "total_count": 30})
        self.assertLessEqual(len(r.doc["data"]["jobs"][0]["args"]), 256)  # a summary
        d = self.data("/api/v1/queues/paging/jobs?per_page=10&page=2&order=oldest")
        self.assertEqual([x["jid"] for x in d["jobs"]], jids[10:20])
        d = self.data("/api/v1/queues/paging/jobs?per_page=7&page=5&order=oldest")
        self.assertEqual([x["jid"] for x in d["jobs"]], jids[28:30])
        for o in ("newest", "oldest"):
            d = self.data(f"/api/v1/queues/paging/jobs?per_page=10&page=4&order={o}")
            self.assertEqual(d["jobs"], [])
        for bad in ("per_page=0", "per_page=101", "page=0", "page=x", "order=sideways"):
            pn.assert_envelope(self, self.call("GET", "/api/v1/queues/paging/jobs?" + bad,
                                               status=422), 422)
        for bad in ("a%20b", "a%2Fb", "x" * 65, "%C3%A9"):
            pn.assert_envelope(self, self.call("GET", f"/api/v1/queues/{bad}/jobs",
                                               status=422), 422)

    # ---- sorted sets ----

    def add_set(self, key, score, **kw):
        p = payload(**kw)
        self.r.cmd("ZADD", key, repr(score), dumps(p))
        return p

    def test_set_listings(self):
        now = time.time()
        a = self.add_set("retry", now + 30, cls="Maintenance::Fail", args=["boom"],
                         error_message="boom", error_class="RuntimeError", retry_count=1,
                         failed_at=now - 5)
        b = self.add_set("retry", now + 10, retry_count=0, failed_at=now - 9)
        d1 = self.add_set("dead", now - 100, failed_at=now - 100, retry_count=3)
        d2 = self.add_set("dead", now - 10, failed_at=now - 10, retry_count=3)
        s = self.add_set("schedule", now + 60, args=[{"k": "v"}])
        self.r.cmd("ZADD", "dead", "1", "not json at all")
        d = self.data("/api/v1/queues/retries")
        self.assertEqual([x["jid"] for x in d["jobs"]], [b["jid"], a["jid"]])  # next due first
        x = d["jobs"][1]
        self.assertEqual((x["class"], x["args"], x["error_message"], x["error_class"],
                          x["retry_count"], x["queue"]),
                         ("Maintenance::Fail", '["boom"]', "boom", "RuntimeError", 1, "default"))
        self.assertAlmostEqual(x["failed_at"], now - 5, delta=0.01)
        self.assertAlmostEqual(x["at"], now + 30, delta=0.01)
        d = self.data("/api/v1/queues/dead")
        self.assertEqual([x["jid"] for x in d["jobs"]], [d2["jid"], d1["jid"], None])
        self.assertTrue(d["jobs"][2]["invalid"])
        self.assertEqual(d["jobs"][2]["raw"], "not json at all")
        d = self.data("/api/v1/queues/dead?order=asc&per_page=1&page=2")
        self.assertEqual([x["jid"] for x in d["jobs"]], [d1["jid"]])
        d = self.data("/api/v1/queues/scheduled")
        self.assertEqual([x["args"] for x in d["jobs"]], ['[{"k":"v"}]'])
        self.assertEqual(d["jobs"][0]["jid"], s["jid"])

    def test_dead_retry_moves_once_under_concurrent_clicks(self):
        # Several rounds of 16 clicks released together: without the ZREM test in the move
        # script, clicks that found the entry before the first move would each push a copy.
        other = self.add_set("dead", time.time() + 1, queue="critical")
        for rnd in range(6):
            p = self.add_set("dead", time.time(), queue="critical", retry_count=3,
                             error_message="gave up", failed_at=time.time())
            path = f"/api/v1/queues/dead/{p['jid']}/retry"
            gate = threading.Barrier(16)

            def click(_):
                gate.wait(10)
                return self.srv.request("POST", path, token=self.token)

            with concurrent.futures.ThreadPoolExecutor(16) as ex:
                replies = list(ex.map(click, range(16)))
            codes = sorted(r.status for r in replies)
            self.assertEqual(codes, [200] + [404] * 15, replies)
            self.assertEqual(self.r.cmd("LLEN", "queue:critical"), rnd + 1)
            moved = json.loads(self.r.cmd("LINDEX", "queue:critical", 0))
            self.assertEqual((moved["jid"], moved["retry_count"], moved["class"]),
                             (p["jid"], 2, p["class"]))
            self.assertGreater(moved["enqueued_at"], p["enqueued_at"])
        self.assertEqual(self.r.cmd("SISMEMBER", "queues", "critical"), 1)
        left = self.r.cmd("ZRANGE", "dead", 0, -1)
        self.assertEqual([json.loads(x)["jid"] for x in left], [other["jid"]])

    def test_retry_set_retry_now(self):
        p = self.add_set("retry", time.time() + 600, retry_count=0)
        d = self.call("POST", f"/api/v1/queues/retries/{p['jid']}/retry").doc["data"]
        self.assertEqual(d, {"jid": p["jid"], "queue": "default", "from": "retries"})
        moved = json.loads(self.r.cmd("LINDEX", "queue:default", 0))
        self.assertNotIn("retry_count", moved)  # the worker refuses negative counts
        self.assertEqual(self.r.cmd("ZCARD", "retry"), 0)
        self.call("POST", f"/api/v1/queues/retries/{p['jid']}/retry", status=404)
        # A job with a queue name we refuse to push to stays where it is.
        bad = self.add_set("retry", time.time(), queue="bad queue")
        self.call("POST", f"/api/v1/queues/retries/{bad['jid']}/retry", status=422)
        self.assertEqual(self.r.cmd("ZCARD", "retry"), 1)
        # Scheduled jobs have no retry-now.
        s = self.add_set("schedule", time.time() + 60)
        self.call("POST", f"/api/v1/queues/scheduled/{s['jid']}/retry", status=404)

    def test_delete_from_each_set(self):
        for key, route in (("retry", "retries"), ("dead", "dead"), ("schedule", "scheduled")):
            keep = self.add_set(key, time.time())
            gone = self.add_set(key, time.time() + 1)
            # a payload that merely mentions the jid in its args is not that job
            self.add_set(key, time.time() + 2, args=[gone["jid"]])
            self.call("DELETE", f"/api/v1/queues/{route}/{gone['jid']}", status=204)
            self.call("DELETE", f"/api/v1/queues/{route}/{gone['jid']}", status=404)
            left = sorted(json.loads(x)["jid"] for x in self.r.cmd("ZRANGE", key, 0, -1))
            self.assertEqual(len(left), 2)
            self.assertIn(keep["jid"], left)
            self.assertNotIn(gone["jid"], left)

    def test_bad_jids(self):
        for bad in ("xyz", "A" * 24, "0" * 23, "0" * 25, "g" * 24, "%00" + "0" * 21):
            for method, path in (("POST", f"/api/v1/queues/dead/{bad}/retry"),
                                 ("POST", f"/api/v1/queues/retries/{bad}/retry"),
                                 ("DELETE", f"/api/v1/queues/dead/{bad}"),
                                 ("DELETE", f"/api/v1/queues/scheduled/{bad}")):
                r = self.srv.request(method, path, token=self.token)
                self.assertTrue(400 <= r.status < 500, (bad, path, r))
                pn.assert_envelope(self, r, r.status)
        self.call("DELETE", "/api/v1/queues/dead/" + jid(), status=404)

    # ---- processes and stats ----

    def test_processes_from_heartbeat(self):
        ident = "node1:4242:0123456789ab"
        now = time.time()
        info = {"hostname": "node1", "pid": 4242, "queues": ["default", "critical"],
                "concurrency": 10, "tag": "", "started_at": now - 60, "identity": ident}
        self.r.cmd("SADD", "processes", ident, "gone:1:000000000000")
        self.r.cmd("HSET", ident, "info", dumps(info), "busy", "1", "beat", "%.6f" % now,
                   "quiet", "false", "rss", "12000", "rtt_us", "150")
        running = payload(cls="Maintenance::Sleep", args=[5])
        self.r.cmd("HSET", ident + ":workers", "tid1",
                   dumps({"queue": "default", "payload": dumps(running), "run_at": int(now)}))
        self.r.cmd("SET", "pn:alive:" + ident, "1")
        procs = self.data("/api/v1/queues/processes")["processes"]
        self.assertEqual(len(procs), 1, procs)  # the one without a hash is gone
        p = procs[0]
        self.assertEqual((p["identity"], p["hostname"], p["pid"], p["queues"], p["concurrency"],
                          p["busy"], p["quiet"], p["alive"], p["rss_kb"]),
                         (ident, "node1", 4242, ["default", "critical"], 10, 1, False, True,
                          12000))
        self.assertAlmostEqual(p["beat"], now, delta=0.01)
        self.assertEqual(len(p["running"]), 1)
        w = p["running"][0]
        self.assertEqual((w["thread"], w["queue"], w["job"]["jid"], w["job"]["class"]),
                         ("tid1", "default", running["jid"], "Maintenance::Sleep"))
        self.r.cmd("HSET", ident, "quiet", "true")
        self.assertTrue(self.data("/api/v1/queues/processes")["processes"][0]["quiet"])

    def test_stats(self):
        today = time.strftime("%Y-%m-%d", time.gmtime())
        self.r.cmd("SET", "stat:processed", "10")
        self.r.cmd("SET", "stat:failed", "2")
        self.r.cmd("SET", f"stat:processed:{today}", "4")
        self.r.cmd("SET", f"stat:failed:{today}", "1")
        self.r.cmd("HSET", "pn:counters", "Maintenance::RecordJid.recorded", "5",
                   "Media::Thumb.decode.ms", "300", "Media::Thumb.decode.count", "3")
        self.r.cmd("SADD", "pn:procs", "n:1:abc")
        runs = [{"start": 1000.0, "ms": 10.0, "result": "ok"},
                {"start": 2000.0, "ms": 30.0, "result": "error: boom"}]
        self.r.cmd("HSET", "pn:runs:n:1:abc", "Maintenance::Noop", dumps(runs))
        self.r.cmd("SADD", "queues", "default")
        self.r.cmd("LPUSH", "queue:default", dumps(payload()), dumps(payload()))
        self.add_set("dead", time.time())
        d = self.data("/api/v1/queues/stats?days=3")
        self.assertEqual((d["processed"], d["failed"], d["enqueued"], d["dead_size"],
                          d["retry_size"], d["scheduled_size"]), (10, 2, 2, 1, 0, 0))
        self.assertEqual(len(d["per_day"]), 3)
        self.assertEqual(d["per_day"][0], {"date": today, "processed": 4, "failed": 1})
        self.assertEqual(d["per_day"][1]["processed"], 0)
        c = d["classes"]
        self.assertEqual(c["Maintenance::RecordJid"]["counters"], {"recorded": 5})
        self.assertEqual(c["Media::Thumb"]["counters"], {"decode.ms": 300, "decode.count": 3})
        n = c["Maintenance::Noop"]
        self.assertEqual((n["runs"], n["ok"], n["failed"], n["avg_ms"], n["last_run_at"]),
                         (2, 1, 1, 20.0, 2000.0))
        self.call("GET", "/api/v1/queues/stats?days=91", status=422)
        self.call("GET", "/api/v1/queues/stats?days=0", status=422)

    # ---- permissions ----

    def test_member_and_anonymous_are_refused(self):
        p = self.add_set("dead", time.time())
        for method, path in (("GET", "/api/v1/queues"), ("GET", "/api/v1/queues/dead"),
                             ("GET", "/api/v1/queues/processes"), ("GET", "/api/v1/queues/stats"),
                             ("GET", "/api/v1/queues/default/jobs"),
                             ("POST", f"/api/v1/queues/dead/{p['jid']}/retry"),
                             ("DELETE", f"/api/v1/queues/dead/{p['jid']}")):
            pn.assert_envelope(self, self.srv.request(method, path, token=self.member), 403)
            pn.assert_envelope(self, self.srv.request(method, path), 401)
            r = self.srv.request(method, path, token=service_token())
            self.assertIn(r.status, (401, 403), r)
        self.assertEqual(self.r.cmd("ZCARD", "dead"), 1)
        self.assertEqual(self.r.cmd("EXISTS", "queue:default"), 0)

    # ---- worker routes ----

    def test_worker_routes_take_service_tokens_only(self):
        for method, path, body in (("GET", "/api/v1/worker/ping", None),
                                   ("POST", "/api/v1/worker/job_results", {"jid": jid()}),
                                   ("POST", "/api/v1/internal/jobs/reconcile", None)):
            for tok in (self.token, self.member, None):
                pn.assert_envelope(self, self.srv.request(method, path, body, token=tok), 401)
        d = self.data("/api/v1/worker/ping", token=service_token())
        self.assertIs(d["pong"], True)

    def test_job_results_recorded_once(self):
        svc, j = service_token(), jid()
        body = {"jid": j, "ref": {"n": 1}}
        h = {"Idempotency-Key": "record:" + j}
        r = self.srv.request("POST", "/api/v1/worker/job_results", body, headers=h, token=svc)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.doc["data"], {"jid": j, "duplicate": False, "reports": 1})
        r = self.srv.request("POST", "/api/v1/worker/job_results", body, headers=h, token=svc)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.doc["data"]["duplicate"], True)
        self.assertEqual(self.db.query(
            f"SELECT count(*), max(reports), max(ref::text) FROM queues_job_results"
            f" WHERE jid = '{j}'"), '1|2|{"n": 1}')
        for bad in ({"jid": "nothex" * 4}, {"jid": j.upper()}, {}, {"jid": 5}):
            r = self.srv.request("POST", "/api/v1/worker/job_results", bad, token=svc)
            pn.assert_envelope(self, r, 422)

    # ---- reconciler ----

    def test_reconcile_repushes_only_what_redis_lost(self):
        svc = service_token()
        self.r.cmd("SADD", "queues", "qtest")
        self.r.cmd("LPUSH", "queue:qtest", dumps(payload(cls="Qtest::Job", args=["row-a"],
                                                         queue="qtest")))
        self.r.cmd("LPUSH", "pn:working:n:1:abc:qtest",
                   dumps(payload(cls="Qtest::Job", args=["row-b"], queue="qtest")))
        # same argument, another class: not the same job
        self.r.cmd("LPUSH", "queue:qtest", dumps(payload(cls="Other::Job", args=["row-c"])))
        d = self.call("POST", "/api/v1/internal/jobs/reconcile", token=svc).doc["data"]
        self.assertEqual(d["reconciled"], 1, d)
        self.assertEqual(d["reconcilers"], [{"name": "qtest", "pushed": 1, "ok": True}])
        jobs = [json.loads(x) for x in self.r.cmd("LRANGE", "queue:qtest", 0, -1)]
        pushed = [j for j in jobs if j["class"] == "Qtest::Job" and j["args"] == ["row-c"]]
        self.assertEqual(len(pushed), 1, jobs)
        d = self.call("POST", "/api/v1/internal/jobs/reconcile", token=svc).doc["data"]
        self.assertEqual(d["reconciled"], 0, d)
        # A dead job counts as held: never revived by the reconciler.
        self.r.cmd("DEL", "queue:qtest", "pn:working:n:1:abc:qtest")
        for row in ("row-a", "row-b", "row-c"):
            self.add_set("dead", time.time(), cls="Qtest::Job", args=[row])
        d = self.call("POST", "/api/v1/internal/jobs/reconcile", token=svc).doc["data"]
        self.assertEqual(d["reconciled"], 0, d)


class ReconcileWithoutReconcilers(unittest.TestCase):
    def test_nothing_registered(self):
        r = Redis()
        r.flush()
        db = pn.Database()
        # A name no plugin serves is skipped (the files reconciler has its own test).
        srv = pn.Server(db, "plugins:\n  queues:\n    reconcile_max_jobs: 1\n"
                        "    reconcilers: nosuchplugin\n",
                        env={"POWERNODE_REDIS_QUEUE_URL": r.url})
        try:
            rep = srv.request("POST", "/api/v1/internal/jobs/reconcile", token=service_token())
            self.assertEqual(rep.status, 200, rep)
            self.assertEqual(rep.doc["data"], {"reconciled": 0, "reconcilers": []})
        finally:
            code = srv.stop()
            db.drop()
            r.flush()
            r.close()
        self.assertEqual(code, 0)


if __name__ == "__main__":
    pn.main()
