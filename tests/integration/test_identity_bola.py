"""Object-level access across accounts (kernel/src/identity): with a second account made
directly in the database, an administrator of one account cannot read, list, change or delete
the other account's users, roles, API keys or audit rows: every such request answers 404 (or
leaves the row out of a list), never 403, and nothing changes. The one designed exception is
an explicit ?account_id= filter on the users and audit lists, which admin.* permissions reach
across accounts with (a member is refused)."""
import unittest
import uuid

import pn

ADMIN_ROLE = "01900000-0000-7000-8000-000000000001"
MEMBER_ROLE = "01900000-0000-7000-8000-000000000002"
PASSWORD = "a long enough password 42"
B_EMAIL = "b-admin@other.example.test"


class CrossAccount(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()
        # Many sign-ins from one address, and the limiter's counters live in the shared Redis:
        # the per-IP login limit is not under test here.
        cls.srv = pn.Server(cls.db, env={"POWERNODE_AUTH_RATE_LIMIT_IP_PER_MINUTE": "100000"})
        cls.srv.create_admin()
        cls.a = cls.srv.login()
        cls.a_account = cls.srv.request("GET", "/api/v1/auth/me",
                                        token=cls.a).doc["data"]["user"]["account_id"]
        # Account B and its administrator, written straight into the database with the first
        # admin's password hash (the API creates users only in the caller's own account).
        cls.b_account, cls.b_admin = str(uuid.uuid4()), str(uuid.uuid4())
        cls.db.query(
            f"INSERT INTO accounts (id, name, slug) VALUES ('{cls.b_account}', 'Other', 'other');"
            f"INSERT INTO users (id, account_id, email, name, password_hash, status)"
            f" SELECT '{cls.b_admin}', '{cls.b_account}', '{B_EMAIL}', 'B admin', password_hash,"
            f"        'active' FROM users WHERE email = '{pn.ADMIN_EMAIL}';"
            f"INSERT INTO user_roles (user_id, role_id) VALUES ('{cls.b_admin}', '{ADMIN_ROLE}')")
        cls.b = cls.srv.login(B_EMAIL, pn.ADMIN_PASSWORD)

        # What B owns: a user, a custom role, an API key, and audit rows about them.
        cls.b_role = cls.ok(cls.b, "POST", "/api/v1/roles",
                            {"name": "b-role", "permissions": ["auth.me.read"]}, 201)["id"]
        cls.b_user = cls.ok(cls.b, "POST", "/api/v1/users",
                            {"email": "b-user@other.example.test", "password": PASSWORD,
                             "roles": [cls.b_role]}, 201)["id"]
        cls.ok(cls.b, "PATCH", f"/api/v1/users/{cls.b_user}", {"name": "B user"})
        cls.b_key = cls.ok(cls.b, "POST", "/api/v1/api_keys",
                           {"name": "b-key", "permissions": ["auth.me.read"]}, 201)["id"]
        cls.b_audit = [r["id"] for r in cls.ok(cls.b, "GET", "/api/v1/audit_logs?per_page=100")]
        # And A's own, for the way back and for the member.
        cls.a_user = cls.ok(cls.a, "POST", "/api/v1/users",
                            {"email": "a-member@example.test", "password": PASSWORD}, 201)["id"]
        cls.a_member = cls.srv.login("a-member@example.test", PASSWORD)
        cls.a_role = cls.ok(cls.a, "POST", "/api/v1/roles",
                            {"name": "a-role", "permissions": ["auth.me.read"]}, 201)["id"]
        cls.a_key = cls.ok(cls.a, "POST", "/api/v1/api_keys",
                           {"name": "a-key", "permissions": ["auth.me.read"]}, 201)["id"]

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.db.drop()
        assert code == 0, f"server exit code {code}\n{cls.srv.log_text()}"
        # Every refusal above must have been a 4xx: no input may reach a 500.
        assert " status=5" not in cls.srv.log_text(), cls.srv.log_text()

    @classmethod
    def ok(cls, token, method, path, body=None, status=200):
        r = cls.srv.request(method, path, body, token=token)
        assert r.status == status, r
        return r.doc["data"]

    def not_found(self, token, method, path, body=None):
        r = self.srv.request(method, path, body, token=token)
        pn.assert_envelope(self, r, 404)
        return r

    def snapshot(self):
        return self.db.query(
            "SELECT string_agg(x, ';' ORDER BY x) FROM ("
            " SELECT concat_ws('|', id, name, status, updated_at) AS x FROM users"
            " UNION ALL SELECT concat_ws('|', id, name, description, updated_at) FROM roles"
            " UNION ALL SELECT concat_ws('|', role_id, permission) FROM role_permissions"
            " UNION ALL SELECT concat_ws('|', user_id, role_id) FROM user_roles"
            " UNION ALL SELECT concat_ws('|', id, revoked_at) FROM api_keys) s")

    def test_a_cannot_touch_b_users(self):
        before = self.snapshot()
        for method, body in (("GET", None), ("PATCH", {"name": "pwned"}),
                             ("PATCH", {"status": "disabled"}), ("PATCH", {"roles": [ADMIN_ROLE]}),
                             ("DELETE", None)):
            for uid in (self.b_user, self.b_admin):
                with self.subTest(method=method, body=body, user=uid):
                    self.not_found(self.a, method, f"/api/v1/users/{uid}", body)
        listed = self.ok(self.a, "GET", "/api/v1/users?per_page=100")
        ids = {u["id"] for u in listed}
        self.assertNotIn(self.b_user, ids)
        self.assertNotIn(self.b_admin, ids)
        self.assertEqual(self.ok(self.a, "GET", "/api/v1/users?q=other.example"), [])
        self.assertEqual(self.snapshot(), before)

    def test_a_cannot_touch_b_roles(self):
        before = self.snapshot()
        for method, path, body in (
                ("GET", f"/api/v1/roles/{self.b_role}", None),
                ("PATCH", f"/api/v1/roles/{self.b_role}", {"name": "pwned"}),
                ("PUT", f"/api/v1/roles/{self.b_role}/permissions",
                 {"permissions": ["admin.users.manage"]}),
                ("DELETE", f"/api/v1/roles/{self.b_role}", None)):
            with self.subTest(method=method, path=path):
                self.not_found(self.a, method, path, body)
        self.assertNotIn(self.b_role, [r["id"] for r in self.ok(self.a, "GET", "/api/v1/roles")])
        # B's role cannot be given to A's users, nor used as a filter: it does not exist here.
        r = self.srv.request("PATCH", f"/api/v1/users/{self.a_user}", {"roles": [self.b_role]},
                             token=self.a)
        pn.assert_envelope(self, r, 422)
        r = self.srv.request("GET", f"/api/v1/users?role={self.b_role}", token=self.a)
        pn.assert_envelope(self, r, 422)
        # System roles are shared, but their user counts are per account.
        admin_role = self.ok(self.a, "GET", f"/api/v1/roles/{ADMIN_ROLE}")
        self.assertEqual(admin_role["user_count"], 1)
        self.assertEqual(self.snapshot(), before)

    def test_a_cannot_touch_b_keys(self):
        before = self.snapshot()
        self.not_found(self.a, "DELETE", f"/api/v1/api_keys/{self.b_key}")
        self.not_found(self.a, "GET", f"/api/v1/api_keys?user_id={self.b_admin}")
        self.not_found(self.a, "GET", f"/api/v1/api_keys?user_id={self.b_user}")
        self.assertNotIn(self.b_key, [k["id"] for k in self.ok(self.a, "GET", "/api/v1/api_keys")])
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.db.query(
            f"SELECT revoked_at IS NULL FROM api_keys WHERE id = '{self.b_key}'"), "t")

    def test_a_cannot_read_b_audit_rows(self):
        self.assertTrue(self.b_audit)
        rows = self.ok(self.a, "GET", "/api/v1/audit_logs?per_page=100")
        self.assertFalse({r["id"] for r in rows} & set(self.b_audit))
        self.assertTrue(all(r["account_id"] == self.a_account for r in rows))
        for q in (f"user_id={self.b_admin}", f"target_id={self.b_user}",
                  f"target_id={self.b_role}"):
            with self.subTest(query=q):
                r = self.srv.request("GET", f"/api/v1/audit_logs?{q}", token=self.a)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.doc["data"], [])
                self.assertEqual(r.doc["meta"]["pagination"]["total"], 0)
        # A keyset cursor naming B's row gives nothing either.
        r = self.ok(self.a, "GET", f"/api/v1/audit_logs?before={self.b_audit[0]}")
        self.assertEqual(r, [])

    def test_b_cannot_touch_a_objects(self):
        before = self.snapshot()
        self.not_found(self.b, "GET", f"/api/v1/users/{self.a_user}")
        self.not_found(self.b, "DELETE", f"/api/v1/users/{self.a_user}")
        self.not_found(self.b, "PATCH", f"/api/v1/roles/{self.a_role}", {"name": "x"})
        self.not_found(self.b, "DELETE", f"/api/v1/api_keys/{self.a_key}")
        self.assertEqual(self.snapshot(), before)

    def test_account_filter_needs_admin_permission(self):
        # A member may name their own account, not another one.
        r = self.srv.request("GET", f"/api/v1/audit_logs?account_id={self.b_account}",
                             token=self.a_member)
        pn.assert_envelope(self, r, 403)
        r = self.srv.request("GET", f"/api/v1/audit_logs?account_id={self.a_account}",
                             token=self.a_member)
        self.assertEqual(r.status, 200, r)
        # admin.* reaches across accounts, on the lists only and only when asked explicitly.
        users = self.ok(self.a, "GET", f"/api/v1/users?account_id={self.b_account}&per_page=100")
        self.assertEqual({u["id"] for u in users}, {self.b_admin, self.b_user})
        rows = self.ok(self.a, "GET", f"/api/v1/audit_logs?account_id={self.b_account}&per_page=100")
        self.assertTrue(rows)
        self.assertTrue(all(r["account_id"] == self.b_account for r in rows))
        # Objects by id stay in the caller's account even for an admin.
        self.not_found(self.a, "GET", f"/api/v1/users/{self.b_user}")


if __name__ == "__main__":
    pn.main()
