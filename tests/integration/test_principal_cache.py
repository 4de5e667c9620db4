"""The principal cache (kernel/src/auth/pcache.h) with two server instances: a signed-in
user's permissions are served from memory, and a change through the API on one instance
applies on the other at once (Redis broadcast), without waiting for the cache to expire."""
import time
import unittest

import pn

MEMBER_EMAIL = "cached-member@example.test"
MEMBER_PASSWORD = "another long passphrase"


class PrincipalCache(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()
        # A long lifetime, so only the broadcast can explain a change being seen at once.
        # No per-user rate limit, so clean tokens are remembered too (nothing to count).
        env = {"POWERNODE_AUTH_PRINCIPAL_CACHE_SECONDS": "60",
               "POWERNODE_AUTH_RATE_LIMIT_USER_PER_MINUTE": "0"}
        cls.a = pn.Server(cls.db, "", env=env)
        cls.b = pn.Server(cls.db, "", env=env)
        cls.a.create_admin()
        cls.admin = cls.a.login()

    @classmethod
    def tearDownClass(cls):
        codes = [cls.a.stop(), cls.b.stop()]
        cls.db.drop()
        assert codes == [0, 0], codes

    def test_api_changes_apply_on_every_instance_at_once(self):
        r = self.a.request("POST", "/api/v1/users", {"email": MEMBER_EMAIL, "name": "Member",
                                                     "password": MEMBER_PASSWORD},
                           token=self.admin)
        self.assertEqual(r.status, 201, r)
        uid = r.doc["data"]["id"]
        member = self.b.login(MEMBER_EMAIL, MEMBER_PASSWORD)
        # Warm B's cache: the member may not read the plugin list.
        for _ in range(3):
            pn.assert_envelope(self, self.b.request("GET", "/api/v1/system/plugins",
                                                    token=member), 403)

        # Behind the API's back the cache hides a change: this shows it is really used.
        role_admin = self.db.query("SELECT id FROM roles WHERE name = 'admin' "
                                   "AND account_id IS NULL")
        self.db.query(f"INSERT INTO user_roles (user_id, role_id) VALUES ('{uid}', "
                      f"'{role_admin}')")
        pn.assert_envelope(self, self.b.request("GET", "/api/v1/system/plugins", token=member),
                           403)
        self.db.query(f"DELETE FROM user_roles WHERE user_id = '{uid}' AND role_id = "
                      f"'{role_admin}'")

        # Through the API on A: a role that can read the plugin list, given to the member.
        r = self.a.request("POST", "/api/v1/roles", {"name": "plugin readers",
                                                     "permissions": ["admin.system.read"]},
                           token=self.admin)
        self.assertEqual(r.status, 201, r)
        role = r.doc["data"]["id"]
        member_role = self.db.query("SELECT id FROM roles WHERE name = 'member' "
                                    "AND account_id IS NULL")
        r = self.a.request("PATCH", f"/api/v1/users/{uid}", {"roles": [member_role, role]},
                           token=self.admin)
        self.assertEqual(r.status, 200, r)
        r = self.b.request("GET", "/api/v1/system/plugins", token=member)
        self.assertEqual(r.status, 200, r)

        # Disabled on A: refused on B with the very next request.
        r = self.a.request("PATCH", f"/api/v1/users/{uid}", {"status": "disabled"},
                           token=self.admin)
        self.assertEqual(r.status, 200, r)
        pn.assert_envelope(self, self.b.request("GET", "/api/v1/auth/me", token=member), 401)

    def add_member(self, email, name):
        """A member created through the API on A; its id."""
        r = self.a.request("POST", "/api/v1/users", {"email": email, "name": name,
                                                     "password": MEMBER_PASSWORD},
                           token=self.admin)
        self.assertEqual(r.status, 201, r)
        return r.doc["data"]["id"]

    def test_me_profile_is_cached_and_dropped_by_changes(self):
        email = "profile-member@example.test"
        uid = self.add_member(email, "Before")
        member = self.b.login(email, MEMBER_PASSWORD)
        me = lambda: self.b.request("GET", "/api/v1/auth/me", token=member).doc["data"]
        self.assertEqual(me()["user"]["name"], "Before")
        # Served from memory: a change behind the API's back is not seen...
        self.db.query(f"UPDATE users SET name = 'Behind' WHERE id = '{uid}'")
        self.assertEqual(me()["user"]["name"], "Before")
        # ...one through the API on the other instance is, at once.
        r = self.a.request("PATCH", f"/api/v1/users/{uid}", {"name": "After"}, token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(me()["user"]["name"], "After")
        # A change the user makes to themselves (a sign-in on A sets last_login_at) is seen
        # on B at once too.
        before = me()["user"]["last_login_at"]
        time.sleep(1.1)
        self.a.login(email, MEMBER_PASSWORD)
        self.assertNotEqual(me()["user"]["last_login_at"], before)
        # Roles and permissions follow a role change.
        viewer = self.db.query("SELECT id FROM roles WHERE name = 'viewer' AND account_id IS NULL")
        r = self.a.request("PATCH", f"/api/v1/users/{uid}", {"roles": [viewer]}, token=self.admin)
        self.assertEqual(r.status, 200, r)
        data = me()
        self.assertEqual([x["name"] for x in data["roles"]], ["viewer"])
        self.assertTrue(data["permissions"])
        self.assertEqual([p for p in data["permissions"]
                          if not (p.endswith(".read") or p.startswith("auth.self."))], [])

    @staticmethod
    def sign_in(srv, email, password):
        r = srv.request("POST", "/api/v1/auth/login", {"email": email, "password": password})
        assert r.status == 200, r
        return r.doc["data"]

    def test_revocations_apply_on_every_instance_at_once(self):
        email = "revoked-member@example.test"
        self.add_member(email, "R")
        one = self.sign_in(self.a, email, MEMBER_PASSWORD)
        two = self.sign_in(self.a, email, MEMBER_PASSWORD)
        for tok in (one, two):  # B remembers both tokens as clean
            for _ in range(3):
                self.assertEqual(self.b.request("GET", "/api/v1/auth/me",
                                                token=tok["access_token"]).status, 200)
        # Signed out on A: refused on B with the very next request.
        r = self.a.request("POST", "/api/v1/auth/logout", token=one["access_token"])
        self.assertEqual(r.status, 200, r)
        pn.assert_envelope(self, self.b.request("GET", "/api/v1/auth/me",
                                                token=one["access_token"]), 401)
        self.assertEqual(self.b.request("GET", "/api/v1/auth/me",
                                        token=two["access_token"]).status, 200)
        # A password change on A ends the other session on B at once.
        three = self.sign_in(self.a, email, MEMBER_PASSWORD)
        self.assertEqual(self.b.request("GET", "/api/v1/auth/me",
                                        token=two["access_token"]).status, 200)
        r = self.a.request("POST", "/api/v1/auth/password",
                           {"current_password": MEMBER_PASSWORD,
                            "new_password": "a changed passphrase"},
                           token=three["access_token"])
        self.assertEqual(r.status, 200, r)
        pn.assert_envelope(self, self.b.request("GET", "/api/v1/auth/me",
                                                token=two["access_token"]), 401)
        self.assertEqual(self.b.request("GET", "/api/v1/auth/me",
                                        token=three["access_token"]).status, 200)


if __name__ == "__main__":
    pn.main()
