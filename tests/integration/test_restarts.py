"""A restarted PostgreSQL or Redis needs no server restart: while down, requests that need it
fail cleanly with 503 in the envelope (never 500, never a hang); afterwards they succeed."""
import os
import subprocess
import threading
import time
import unittest

import pn


def restart(var):
    cmd = os.environ.get(var)
    if not cmd:
        raise AssertionError(f"{var} is not set: run the suite through scripts/test.sh")
    return cmd


class Restarts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()
        cls.srv = pn.Server(cls.db, "database:\n  acquire_timeout: 1\n  connect_timeout: 1\n")
        cls.srv.create_admin()
        cls.token = cls.srv.login()

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.db.drop()
        assert code == 0, cls.srv.log_text()

    def poll_during(self, cmd, path, token=None):
        """Run the restart command while polling `path`; return the statuses seen."""
        seen, done = [], threading.Event()

        def poll():
            deadline = time.monotonic() + 40
            while not done.is_set() and time.monotonic() < deadline:
                try:
                    seen.append(self.srv.request("GET", path, token=token, timeout=10).status)
                except OSError:
                    seen.append(0)
                time.sleep(0.05)

        t = threading.Thread(target=poll)
        t.start()
        subprocess.run(cmd, shell=True, check=True, timeout=60)
        done.set()
        t.join(30)
        return seen

    def wait_ok(self, path, token=None, seconds=15):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            r = self.srv.request("GET", path, token=token)
            if r.status == 200:
                return r
            pn.assert_envelope(self, r, 503)
            time.sleep(0.2)
        self.fail(f"{path} did not recover within {seconds}s")

    def test_postgres_restart(self):
        r = self.srv.request("POST", "/api/v1/hello/greetings", {"message": "before"},
                             token=self.token)
        gid = r.doc["data"]["id"]
        path = "/api/v1/hello/greetings/" + gid
        seen = self.poll_during(restart("PN_TEST_PG_RESTART_CMD"), path, self.token)
        self.assertTrue(set(seen) <= {200, 503}, seen)
        self.assertNotIn(0, seen)
        self.wait_ok(path, self.token)
        self.wait_ok("/ready")
        self.assertEqual(self.srv.request("GET", "/health").status, 200)

    def test_redis_restart(self):
        seen = self.poll_during(restart("PN_TEST_REDIS_RESTART_CMD"), "/ready")
        self.assertTrue(set(seen) <= {200, 503}, seen)
        self.wait_ok("/ready")


if __name__ == "__main__":
    pn.main()
