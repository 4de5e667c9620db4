"""Migrations: applied once and recorded with owner, version and checksum; two servers
starting at once against an empty database are safe; an applied file that changed is refused
with a clear message."""
import os
import shutil
import tempfile
import threading
import unittest

import pn


class Migrations(unittest.TestCase):
    def setUp(self):
        self.db = pn.Database()

    def tearDown(self):
        self.db.drop()

    def test_two_servers_starting_together_apply_each_file_once(self):
        servers, errors = [], []

        def start():
            try:
                servers.append(pn.Server(self.db, ""))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=start) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        try:
            self.assertEqual(errors, [])
            self.assertEqual(len(servers), 2)
            rows = self.db.query("SELECT owner || '/' || name || ':' || count(*) FROM "
                                 "pn_schema_migrations GROUP BY owner, name ORDER BY 1")
            self.assertIn("core/0001_core_identity.sql:1", rows)
            self.assertIn("hello/0001_hello_greetings.sql:1", rows)
            self.assertTrue(all(line.endswith(":1") for line in rows.splitlines()), rows)
            ver = self.db.query("SELECT version FROM pn_schema_migrations WHERE owner = 'hello'")
            self.assertEqual(ver, "1.0.0")
            for s in servers:
                self.assertEqual(s.request("GET", "/ready").status, 200)
        finally:
            for s in servers:
                s.stop()

    def test_second_run_applies_nothing_and_changed_file_is_refused(self):
        tmp = tempfile.mkdtemp(prefix="pn-mig-")
        try:
            data = os.path.join(tmp, "data")
            shutil.copytree(os.path.join(pn.build_dir(), "share", "plugins"), data)
            env = {"POWERNODE_PATHS_PLUGIN_DATA": data}
            srv = pn.Server(self.db, "", env=env, expect_start=False)
            code, out = srv.run_once("--migrate")
            self.assertEqual(code, 0, out)
            first = self.db.query("SELECT count(*) FROM pn_schema_migrations")
            code, out = srv.run_once("--migrate")
            self.assertEqual(code, 0, out)
            self.assertIn("applied=0", out)
            self.assertEqual(self.db.query("SELECT count(*) FROM pn_schema_migrations"), first)
            path = os.path.join(data, "hello", "sql", "0001_hello_greetings.sql")
            with open(path, "a") as f:
                f.write("\n-- edited after it was applied\n")
            code, out = srv.run_once("--migrate")
            self.assertNotEqual(code, 0)
            self.assertIn("0001_hello_greetings.sql was changed after it was applied", out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    pn.main()
