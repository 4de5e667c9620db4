"""Storage configurations over HTTP: the default local storage made on first use; create, list,
show, update, test and delete; credentials sealed in the database and masked in every reply;
validation per provider type; another account's ids answer 404; a viewer cannot change
anything. One test drives a real S3 emulator (tests/interop/storage, installed with npm ci)
so the sealed credentials are shown to work end to end."""
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import uuid

import pn

VIEWER_ROLE = "01900000-0000-7000-8000-000000000003"
ADMIN_ROLE = "01900000-0000-7000-8000-000000000001"
KEY_ID = "AKIDEXAMPLE1234567890"
SECRET = "wJalrXUtnFEMI-supersecret-" + secrets.token_hex(8)


def s3_body(name, **conf):
    c = {"bucket": "pn-test", "endpoint": "http://127.0.0.1:1", "force_path_style": True,
         "access_key_id": KEY_ID, "secret_access_key": SECRET}
    c.update(conf)
    return {"name": name, "provider_type": "s3", "configuration": c}


class S3Emulator:
    """The S3 emulator of the provider tests, on a port it picks, stopped by PID."""

    def __init__(self, key, secret):
        here = os.path.join(pn.source_dir(), "tests", "interop", "storage")
        if not os.path.exists(os.path.join(here, "node_modules", "@20minutes", "s3rver")):
            raise RuntimeError("S3 emulator not installed: run npm ci in " + here +
                               " (scripts/test.sh does)")
        self.dir = tempfile.mkdtemp(prefix="pn-it-s3-")
        env = dict(os.environ, S3_KEY=key, S3_SECRET=secret)
        self.log = open(os.path.join(self.dir, "s3.log"), "w+")
        self.proc = subprocess.Popen(["node", os.path.join(here, "run-s3.js"), "0",
                                      os.path.join(self.dir, "data"), "pn-test"],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        self.port = None
        while time.monotonic() < deadline and self.port is None:
            self.log.seek(0)
            m = re.search(r"^listening 127\.0\.0\.1:(\d+)$", self.log.read(), re.M)
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                break
            else:
                time.sleep(0.1)
        if self.port is None:
            self.stop()
            raise RuntimeError("S3 emulator did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class StorageConfigs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()
        cls.root = tempfile.mkdtemp(prefix="pn-it-storage-")
        cls.master = secrets.token_hex(32)
        cls.env = {"POWERNODE_PLUGINS_STORAGE_MASTER_KEY": cls.master,
                   "POWERNODE_PLUGINS_STORAGE_LOCAL_ROOT": cls.root,
                   "POWERNODE_PLUGINS_STORAGE_ALLOW_PRIVATE_ENDPOINTS": "true"}
        cls.srv = pn.Server(cls.db, "", env=cls.env)
        cls.srv.create_admin()
        cls.token = cls.srv.login()
        cls.account = cls.db.query(
            f"SELECT account_id FROM users WHERE email = '{pn.ADMIN_EMAIL}'")
        pw = cls.db.query(f"SELECT password_hash FROM users WHERE email = '{pn.ADMIN_EMAIL}'")
        # A second account with its own admin, and a viewer in the first account.
        cls.other_account = str(uuid.uuid4())
        other_user, viewer = str(uuid.uuid4()), str(uuid.uuid4())
        cls.db.query(
            f"INSERT INTO accounts (id, name, slug) VALUES ('{cls.other_account}', 'Other', "
            f"'other-{secrets.token_hex(4)}');"
            f"INSERT INTO users (id, account_id, email, password_hash) VALUES "
            f"('{other_user}', '{cls.other_account}', 'other@example.test', '{pw}'),"
            f"('{viewer}', '{cls.account}', 'viewer@example.test', '{pw}');"
            f"INSERT INTO user_roles (user_id, role_id) VALUES ('{other_user}', '{ADMIN_ROLE}'),"
            f"('{viewer}', '{VIEWER_ROLE}')")
        cls.other_token = cls.srv.login("other@example.test")
        cls.viewer_token = cls.srv.login("viewer@example.test")

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        log = cls.srv.log_text()
        cls.db.drop()
        shutil.rmtree(cls.root, ignore_errors=True)
        assert code == 0, log
        # Secrets never reach the log.
        assert SECRET not in log and KEY_ID not in log, "a credential was logged"

    def req(self, method, path, body=None, token=None):
        return self.srv.request(method, path, body, token=token or self.token)

    def create(self, body, token=None):
        r = self.req("POST", "/api/v1/storage", body, token)
        self.assertEqual(r.status, 201, r)
        return r.doc["data"]

    def assert_masked(self, reply_or_conf):
        text = json.dumps(reply_or_conf.doc if hasattr(reply_or_conf, "doc") else reply_or_conf)
        self.assertNotIn(SECRET, text)
        self.assertNotIn(KEY_ID, text)

    # ---- tests ----

    def test_default_local_storage_made_on_first_use(self):
        r = self.req("GET", "/api/v1/storage", token=self.other_token)
        self.assertEqual(r.status, 200, r)
        data = r.doc["data"]
        defaults = [s for s in data["storages"] if s["is_default"]]
        self.assertEqual(len(defaults), 1, data)
        d = defaults[0]
        self.assertEqual(d["provider_type"], "local")
        self.assertEqual(data["default_storage"], d["id"])
        self.assertEqual(d["configuration"]["root"],
                         os.path.join(self.root, self.other_account))
        self.assertNotIn("account_id", d)
        # Listing again does not make another.
        r = self.req("GET", "/api/v1/storage", token=self.other_token)
        self.assertEqual(len([s for s in r.doc["data"]["storages"] if s["is_default"]]), 1)
        n = self.db.query(f"SELECT count(*) FROM file_storages "
                          f"WHERE account_id = '{self.other_account}' AND is_default")
        self.assertEqual(n, "1")

    def test_create_show_list_masked(self):
        s = self.create(s3_body("s3 masked", prefix="tenant/a", server_side_encryption="AES256"))
        conf = s["configuration"]
        self.assertEqual(conf["access_key_id"], "AKID****7890")
        self.assertEqual(conf["secret_access_key"], "********")
        self.assertEqual(conf["bucket"], "pn-test")
        self.assertEqual(conf["prefix"], "tenant/a")
        self.assertNotIn("credentials", conf)
        self.assert_masked(s)
        for r in (self.req("GET", "/api/v1/storage/" + s["id"]),
                  self.req("GET", "/api/v1/storage")):
            self.assertEqual(r.status, 200, r)
            self.assert_masked(r)
        r = self.req("GET", "/api/v1/storage/" + s["id"])
        self.assertEqual(r.doc["data"]["configuration"]["access_key_id"], "AKID****7890")
        # At rest: sealed, neither the secret nor the key id in clear.
        stored = self.db.query(f"SELECT configuration::text FROM file_storages "
                               f"WHERE id = '{s['id']}'")
        self.assertNotIn(SECRET, stored)
        self.assertNotIn(KEY_ID, stored)
        sealed = json.loads(stored)["credentials"]
        self.assertEqual(sealed["alg"], "A256GCM")
        self.assertTrue(sealed["ct"] and sealed["nonce"])
        # Nor in the audit trail of the requests that carried them.
        audit = self.db.query("SELECT coalesce(string_agg(details::text, ' '), '') FROM audit_logs")
        self.assertNotIn(SECRET, audit)
        self.assertNotIn(KEY_ID, audit)

    def test_validation_per_provider(self):
        cases = [
            ({"name": "x", "provider_type": "s3", "configuration": {"endpoint": "http://127.0.0.1:1"}},
             "configuration.bucket"),
            (s3_body("x", colour="blue"), "configuration.colour"),
            (s3_body("x", server_side_encryption="aws:kms"), "configuration.server_side_encryption"),
            (s3_body("x", bucket="Not_A_Bucket"), "configuration"),
            (s3_body("x", endpoint="ftp://example.com"), "configuration"),
            (s3_body("x", force_path_style="yes"), "configuration.force_path_style"),
            ({"name": "x", "provider_type": "azure", "configuration": {
                "account_name": "acct", "container": "c1x", "account_key": "%%%notbase64"}},
             "configuration"),
            ({"name": "x", "provider_type": "local", "configuration": {"root": "/etc"}},
             "configuration.root"),
            ({"name": "x", "provider_type": "local",
              "configuration": {"root": self.root + "/../escape"}}, "configuration"),
            # Another account's folder, or a name that only starts like ours.
            ({"name": "x", "provider_type": "local",
              "configuration": {"root": f"{self.root}/{self.other_account}/mine"}},
             "configuration.root"),
            ({"name": "x", "provider_type": "local",
              "configuration": {"root": f"{self.root}/{self.account}x"}}, "configuration.root"),
            ({"name": "x", "provider_type": "ftp", "configuration": {}}, "provider_type"),
            ({"name": "", "provider_type": "local"}, "name"),
        ]
        for body, field in cases:
            r = self.req("POST", "/api/v1/storage", body)
            pn.assert_envelope(self, r, 422)
            fields = [d.get("field", "") for d in r.doc["details"]]
            self.assertTrue(any(f == field or f.startswith(field) for f in fields),
                            (body, r.doc))
            self.assert_masked(r)
        self.assertEqual(self.db.query("SELECT count(*) FROM file_storages WHERE name = 'x'"), "0")
        # A folder of its own below the account's is fine.
        s = self.create({"name": "local custom", "provider_type": "local",
                         "configuration": {"root": f"{self.root}/{self.account}/custom"}})
        self.assertEqual(s["configuration"]["root"], f"{self.root}/{self.account}/custom")

    def test_update_merges_and_keeps_credentials(self):
        s = self.create(s3_body("s3 update"))
        before = json.loads(self.db.query(
            f"SELECT configuration::text FROM file_storages WHERE id = '{s['id']}'"))["credentials"]
        r = self.req("PATCH", "/api/v1/storage/" + s["id"],
                     {"name": "s3 renamed", "quota_bytes": 1000,
                      "configuration": {"region": "eu-west-1"}})
        self.assertEqual(r.status, 200, r)
        d = r.doc["data"]
        self.assertEqual(d["name"], "s3 renamed")
        self.assertEqual(d["quota_bytes"], 1000)
        self.assertEqual(d["configuration"]["region"], "eu-west-1")
        self.assertEqual(d["configuration"]["access_key_id"], "AKID****7890")
        self.assertEqual(d["configuration"]["bucket"], "pn-test")
        # A new secret: resealed (new nonce), the key id untouched.
        r = self.req("PATCH", "/api/v1/storage/" + s["id"],
                     {"configuration": {"secret_access_key": "another-" + SECRET,
                                        "region": None}, "quota_bytes": None})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("region", r.doc["data"]["configuration"])
        self.assertIsNone(r.doc["data"]["quota_bytes"])
        self.assert_masked(r)
        after = json.loads(self.db.query(
            f"SELECT configuration::text FROM file_storages WHERE id = '{s['id']}'"))["credentials"]
        self.assertNotEqual(before["nonce"], after["nonce"])
        # Bad merged configuration: refused, row unchanged.
        r = self.req("PATCH", "/api/v1/storage/" + s["id"], {"configuration": {"bucket": None}})
        pn.assert_envelope(self, r, 422)
        r = self.req("PATCH", "/api/v1/storage/" + s["id"], {"provider_type": "local"})
        pn.assert_envelope(self, r, 422)
        self.assertEqual(self.req("GET", "/api/v1/storage/" + s["id"]).doc["data"]["name"],
                         "s3 renamed")

    def test_default_moves(self):
        self.req("GET", "/api/v1/storage")  # make sure the default exists
        old = self.req("GET", "/api/v1/storage").doc["data"]["default_storage"]
        s = self.create(s3_body("s3 default"))
        self.assertFalse(s["is_default"])
        r = self.req("PATCH", "/api/v1/storage/" + s["id"], {"is_default": True})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.doc["data"]["is_default"])
        lst = self.req("GET", "/api/v1/storage").doc["data"]
        self.assertEqual(lst["default_storage"], s["id"])
        self.assertEqual(lst["storages"][0]["id"], s["id"])
        self.assertEqual(len([x for x in lst["storages"] if x["is_default"]]), 1)
        # Un-defaulting the default is refused; deleting it too.
        pn.assert_envelope(self, self.req("PATCH", "/api/v1/storage/" + s["id"],
                                          {"is_default": False}), 422)
        pn.assert_envelope(self, self.req("DELETE", "/api/v1/storage/" + s["id"]), 409)
        r = self.req("PATCH", "/api/v1/storage/" + old, {"is_default": True})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.req("GET", "/api/v1/storage").doc["data"]["default_storage"], old)

    def test_connection_test(self):
        lst = self.req("GET", "/api/v1/storage").doc["data"]
        r = self.req("POST", f"/api/v1/storage/{lst['default_storage']}/test")
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.doc["data"]["connected"], True)
        self.assertEqual(r.doc["data"]["provider_type"], "local")
        s = self.create(s3_body("s3 unreachable"))
        r = self.req("POST", f"/api/v1/storage/{s['id']}/test")
        pn.assert_envelope(self, r, 422)
        self.assertIn("unreachable", r.doc["error"])
        self.assert_masked(r)
        self.assertEqual(self.req("GET", "/api/v1/storage/" + s["id"]).doc["data"]["health_status"],
                         "failed")

    def test_connection_test_against_s3_emulator(self):
        key, secret = "PNITKEY" + secrets.token_hex(4).upper(), secrets.token_hex(20)
        emu = S3Emulator(key, secret)
        try:
            ep = f"http://127.0.0.1:{emu.port}"
            good = self.create({"name": "emulated s3", "provider_type": "s3", "configuration": {
                "bucket": "pn-test", "endpoint": ep, "force_path_style": True,
                "access_key_id": key, "secret_access_key": secret}})
            r = self.req("POST", f"/api/v1/storage/{good['id']}/test")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.doc["data"]["status"], "healthy")
            bad = self.create({"name": "emulated s3 wrong secret", "provider_type": "s3",
                               "configuration": {"bucket": "pn-test", "endpoint": ep,
                                                 "force_path_style": True, "access_key_id": key,
                                                 "secret_access_key": secret[:-1] + "x"}})
            r = self.req("POST", f"/api/v1/storage/{bad['id']}/test")
            pn.assert_envelope(self, r, 422)
            self.assertIn("403", r.doc["error"])
            self.assertNotIn(secret, json.dumps(r.doc))
        finally:
            emu.stop()

    def test_delete(self):
        s = self.create(s3_body("s3 delete"))
        r = self.req("DELETE", "/api/v1/storage/" + s["id"])
        self.assertEqual(r.status, 204, r)
        pn.assert_envelope(self, self.req("GET", "/api/v1/storage/" + s["id"]), 404)
        pn.assert_envelope(self, self.req("DELETE", "/api/v1/storage/" + s["id"]), 404)
        # A storage whose counters say it holds bytes stays.
        s = self.create(s3_body("s3 busy"))
        self.db.query(f"UPDATE file_storages SET used_bytes = 10, files_count = 1 "
                      f"WHERE id = '{s['id']}'")
        pn.assert_envelope(self, self.req("DELETE", "/api/v1/storage/" + s["id"]), 409)
        self.assertEqual(self.req("GET", "/api/v1/storage/" + s["id"]).status, 200)

    def test_other_account_gets_404(self):
        s = self.create(s3_body("s3 private"))
        sid = s["id"]
        for method, path, body in (("GET", f"/api/v1/storage/{sid}", None),
                                   ("PATCH", f"/api/v1/storage/{sid}", {"name": "stolen"}),
                                   ("DELETE", f"/api/v1/storage/{sid}", None),
                                   ("POST", f"/api/v1/storage/{sid}/test", None)):
            r = self.req(method, path, body, token=self.other_token)
            pn.assert_envelope(self, r, 404)
        lst = self.req("GET", "/api/v1/storage", token=self.other_token).doc["data"]
        self.assertNotIn(sid, [x["id"] for x in lst["storages"]])
        self.assertEqual(self.req("GET", f"/api/v1/storage/{sid}").doc["data"]["name"],
                         "s3 private")
        # Ids that are not uuids are simply not found.
        pn.assert_envelope(self, self.req("GET", "/api/v1/storage/not-a-uuid"), 404)

    def test_viewer_cannot_change(self):
        s = self.create(s3_body("s3 viewer"))
        r = self.req("GET", "/api/v1/storage", token=self.viewer_token)
        self.assertEqual(r.status, 200, r)
        self.assert_masked(r)
        for method, path, body in (("POST", "/api/v1/storage", s3_body("viewer made")),
                                   ("PATCH", f"/api/v1/storage/{s['id']}", {"name": "v"}),
                                   ("DELETE", f"/api/v1/storage/{s['id']}", None),
                                   ("POST", f"/api/v1/storage/{s['id']}/test", None)):
            pn.assert_envelope(self, self.req(method, path, body, token=self.viewer_token), 403)
        self.assertEqual(self.db.query(
            "SELECT count(*) FROM file_storages WHERE name = 'viewer made'"), "0")

    def test_without_master_key_only_local(self):
        env = dict(self.env)
        env["POWERNODE_PLUGINS_STORAGE_MASTER_KEY"] = ""
        srv = pn.Server(self.db, "", env=env)
        try:
            tok = srv.login()
            r = srv.request("POST", "/api/v1/storage", s3_body("no key"), token=tok)
            pn.assert_envelope(self, r, 422)
            self.assertIn("master_key", json.dumps(r.doc))
            r = srv.request("POST", "/api/v1/storage",
                            {"name": "local two", "provider_type": "local"}, token=tok)
            self.assertEqual(r.status, 201, r)
            root = r.doc["data"]["configuration"]["root"]
            self.assertTrue(root.startswith(os.path.join(self.root, self.account) + "/"), root)
            # Stored credentials made with the key read as unreadable, never leak.
            r = srv.request("GET", "/api/v1/storage", token=tok)
            self.assertEqual(r.status, 200, r)
            self.assert_masked(r)
        finally:
            self.assertEqual(srv.stop(), 0, srv.log_text())

    def test_bad_master_key_stops_start(self):
        env = dict(self.env)
        env["POWERNODE_PLUGINS_STORAGE_MASTER_KEY"] = "not-hex"
        srv = pn.Server(self.db, "", env=env, expect_start=False)
        with self.assertRaises(RuntimeError):
            srv.start(timeout=30)
        self.assertIn("master_key", srv.log_text())


if __name__ == "__main__":
    pn.main()
