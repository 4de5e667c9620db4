"""The server over real HTTP: health, readiness, metrics, request ids, routing errors, HEAD,
OPTIONS and CORS, the OpenAPI document (checked by a real validator), the plugin list and its
permission, and a plugin route reading PostgreSQL."""
import json
import os
import subprocess
import unittest

import pn


class ServerBasics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()
        cls.srv = pn.Server(cls.db, "http:\n  cors_origins: [http://ui.example.test]\n")
        cls.srv.create_admin()
        cls.token = cls.srv.login()

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.db.drop()
        assert code == 0, f"server exit code {code}\n{cls.srv.log_text()}"

    def test_first_start_created_the_admin(self):
        # pn.Server passes POWERNODE_ADMIN_EMAIL/PASSWORD: the first start made that user, so
        # the one-shot command finds it and changes nothing.
        self.assertIn("already exists", self.srv.create_admin())
        self.assertEqual(self.db.query("SELECT count(*) FROM users"), "1")

    def test_health(self):
        r = self.srv.request("GET", "/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.doc, {"success": True, "data": {"status": "ok"}})
        self.assertTrue(r.headers.get("x-request-id"))

    def test_head_has_length_and_no_body(self):
        r = self.srv.request("HEAD", "/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")
        self.assertEqual(int(r.headers["content-length"]), len(b'{"success":true,"data":{"status":"ok"}}'))

    def test_ready_checks_everything(self):
        r = self.srv.request("GET", "/ready")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.doc["data"]["checks"],
                         {"database": "ok", "redis": "ok", "queue": "ok", "migrations": "applied"})

    def test_request_id_echoed_when_sane_replaced_when_not(self):
        r = self.srv.request("GET", "/health", headers={"X-Request-Id": "abc-123_DEF.456"})
        self.assertEqual(r.headers["x-request-id"], "abc-123_DEF.456")
        r = self.srv.request("GET", "/health", headers={"X-Request-Id": "bad id <script>"})
        self.assertNotIn("script", r.headers["x-request-id"])
        self.assertRegex(r.headers["x-request-id"], r"^[0-9a-f-]{36}$")

    def test_unknown_route_is_404_envelope(self):
        r = self.srv.request("GET", "/api/v1/nope")
        pn.assert_envelope(self, r, 404)

    def test_wrong_method_is_405_with_allow(self):
        r = self.srv.request("DELETE", "/health")
        pn.assert_envelope(self, r, 405)
        allow = [m.strip() for m in r.headers["allow"].split(",")]
        self.assertIn("GET", allow)
        self.assertIn("HEAD", allow)

    def test_cors_preflight_and_simple(self):
        r = self.srv.request("OPTIONS", "/api/v1/hello/greetings", headers={
            "Origin": "http://ui.example.test", "Access-Control-Request-Method": "POST"})
        self.assertEqual(r.status, 204)
        self.assertEqual(r.headers["access-control-allow-origin"], "http://ui.example.test")
        self.assertIn("POST", r.headers["access-control-allow-methods"])
        r = self.srv.request("GET", "/health", headers={"Origin": "http://evil.example.test"})
        self.assertNotIn("access-control-allow-origin", r.headers)
        r = self.srv.request("GET", "/health", headers={"Origin": "http://ui.example.test"})
        self.assertEqual(r.headers["access-control-allow-origin"], "http://ui.example.test")

    def test_metrics_prometheus_text(self):
        self.srv.request("GET", "/health")
        r = self.srv.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        text = r.body.decode()
        self.assertIn('powernode_http_requests_total{route="/health",method="GET",status="200"}', text)
        self.assertIn("powernode_http_request_duration_seconds_bucket", text)
        self.assertIn("powernode_db_pool_connections", text)
        self.assertIn("powernode_plugins_loaded", text)

    def test_plugins_list_needs_admin_permission(self):
        pn.assert_envelope(self, self.srv.request("GET", "/api/v1/system/plugins"), 401)
        r = self.srv.request("GET", "/api/v1/system/plugins", token=self.token)
        self.assertEqual(r.status, 200, r)
        hello = [p for p in r.doc["data"] if p["name"] == "hello"]
        self.assertEqual(len(hello), 1, r.doc)
        self.assertEqual(hello[0]["kind"], "namespace")
        self.assertEqual(hello[0]["state"], "active")
        self.assertEqual(hello[0]["abi"], 1)
        self.assertEqual(hello[0]["route_count"], 3)
        self.assertEqual(r.doc["meta"]["server_abi"], 1)

    def test_plugin_route_reads_postgres(self):
        r = self.srv.request("POST", "/api/v1/hello/greetings", {"message": "world"},
                             token=self.token)
        self.assertEqual(r.status, 201, r)
        gid = r.doc["data"]["id"]
        self.assertEqual(r.doc["data"]["message"], "Hello, world")
        # Every mutating request leaves an audit row: actor, action, result, address.
        row = self.db.query("SELECT action || '|' || result || '|' || host(ip) || '|' || "
                            "(user_id IS NOT NULL) || '|' || target_type FROM audit_logs WHERE "
                            "action = 'hello.greetings.create' ORDER BY created_at DESC LIMIT 1")
        self.assertEqual(row, "hello.greetings.create|success|127.0.0.1|true|greetings")
        r = self.srv.request("GET", "/api/v1/hello/greetings/" + gid, token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.doc["data"]["id"], gid)
        pn.assert_envelope(self, self.srv.request(
            "GET", "/api/v1/hello/greetings/00000000-0000-7000-8000-000000000000",
            token=self.token), 404)

    def test_schema_errors_are_422_with_one_detail_each(self):
        r = self.srv.request("POST", "/api/v1/hello/greetings",
                             {"message": "", "extra": 1}, token=self.token)
        pn.assert_envelope(self, r, 422)
        self.assertGreaterEqual(len(r.doc["details"]), 2, r.doc)
        fields = {d.get("field") for d in r.doc["details"]}
        self.assertTrue(any(f and "message" in f for f in fields), r.doc)

    def test_openapi_document_is_valid_openapi_31(self):
        r = self.srv.request("GET", "/api/v1/openapi.json")
        self.assertEqual(r.status, 200)
        doc = json.loads(r.body)
        self.assertEqual(doc["openapi"][:3], "3.1")
        self.assertIn("/api/v1/hello/greetings/{id}", doc["paths"])
        self.assertIn("/api/v1/system/plugins", doc["paths"])
        path = os.path.join(self.srv.dir, "openapi.json")
        with open(path, "wb") as f:
            f.write(r.body)
        here = os.path.dirname(os.path.abspath(__file__))
        p = subprocess.run(["node", os.path.join(here, "openapi_validate.mjs"), path],
                           capture_output=True, text=True, timeout=60, cwd=here)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    pn.main()
