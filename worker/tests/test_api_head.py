"""api_download_head and api_read_head (job SDK): the first N bytes of a download, into a file of
the workdir or into the job's own buffer. Against a stand-in server that ignores Range and
answers 200 with the whole body, the head still holds exactly N bytes (the rest is not read) and
the call succeeds; a body shorter than N arrives whole; N = 0 is refused without a request. The real server's 206 answers are exercised by the files plugin's metadata
job (worker_media_e2e, worker_local_run)."""
import json
import unittest

import wtest
from wtest import job, push, wait_for


class ApiHead(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r, cls.url = wtest.shared_redis(15)
        cls.api = wtest.start_api()
        cls.w = wtest.Worker(cls.url, server_url=cls.api.url, concurrency=2).start()

    @classmethod
    def tearDownClass(cls):
        wtest.finish(cls.w, cls.api)

    def outcome(self, args, cls="Maintenance::FetchHead"):
        j = wtest.jid()
        push(self.r, [job(cls, args, retry=0, j=j)])
        d = wait_for(lambda: wtest.dead_by_jid(self.r, j), 20, f"{cls} {args} in the dead set")
        return d["error_message"]

    def test_a_server_ignoring_range_is_cut_at_the_head(self):
        # The stand-in answers any GET with 200 {"data": {"pong": true}} whatever the Range.
        self.assertEqual(self.outcome(["/api/v1/worker/anything", 5]), 'head 200 5: {"dat')

    def test_a_short_body_arrives_whole(self):
        body = json.dumps({"data": {"pong": True}})
        self.assertEqual(self.outcome(["/api/v1/worker/anything", 4096]),
                         f"head 200 {len(body)}: {body}")

    def test_zero_bytes_is_refused_without_a_request(self):
        calls = self.api.state.calls
        self.assertEqual(self.outcome(["/api/v1/worker/anything", 0]), "head failed 0")
        self.assertEqual(self.api.state.calls, calls)

    # api_read_head: the same answers into memory (the hook's buffer holds 32 bytes).
    def test_read_head_cuts_a_server_ignoring_range(self):
        self.assertEqual(self.outcome(["/api/v1/worker/anything", 5], "Maintenance::ReadHead"),
                         'head 200 5: {"dat')

    def test_read_head_short_body_arrives_whole(self):
        body = json.dumps({"data": {"pong": True}})
        self.assertLess(len(body), 32)
        self.assertEqual(self.outcome(["/api/v1/worker/anything", 4096], "Maintenance::ReadHead"),
                         f"head 200 {len(body)}: {body}")

    def test_read_head_zero_bytes_is_refused_without_a_request(self):
        calls = self.api.state.calls
        self.assertEqual(self.outcome(["/api/v1/worker/anything", 0], "Maintenance::ReadHead"),
                         "head failed 0")
        self.assertEqual(self.api.state.calls, calls)


if __name__ == "__main__":
    unittest.main()
