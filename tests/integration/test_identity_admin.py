"""Identity administration in one account (kernel/src/identity): function-level access (a
member gets 403 on every admin route), mass assignment refused, the last-administrator and
self rules (including two admins disabling each other at once), privilege rules (nobody grants
or changes what they do not hold), roles and their audited permission changes, the
permission registry, API keys shown once, and pagination and filters of users and the audit
log."""
import hashlib
import re
import subprocess
import threading
import time
import unittest

import pn

ADMIN_ROLE = "01900000-0000-7000-8000-000000000001"
MEMBER_ROLE = "01900000-0000-7000-8000-000000000002"
VIEWER_ROLE = "01900000-0000-7000-8000-000000000003"
PASSWORD = "a long enough password 42"
UNKNOWN_ID = "01900000-0000-7000-8000-0000000000ff"


class IdentityAdmin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()
        # Many sign-ins from one address, and the limiter's counters live in the shared Redis:
        # the per-IP login limit is not under test here.
        cls.srv = pn.Server(cls.db, env={"POWERNODE_AUTH_RATE_LIMIT_IP_PER_MINUTE": "100000"})
        cls.srv.create_admin()
        cls.admin = cls.srv.login()
        cls.admin_id = cls.me(cls.admin)["user"]["id"]
        cls.account_id = cls.me(cls.admin)["user"]["account_id"]
        r = cls.call(cls.admin, "POST", "/api/v1/users",
                     {"email": "member@example.test", "name": "Member", "password": PASSWORD})
        assert r.status == 201, r
        cls.member_id = r.doc["data"]["id"]
        cls.member = cls.srv.login("member@example.test", PASSWORD)

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.db.drop()
        assert code == 0, f"server exit code {code}\n{cls.srv.log_text()}"
        # Every refusal above must have been a 4xx: no input may reach a 500.
        assert " status=5" not in cls.srv.log_text(), cls.srv.log_text()

    @classmethod
    def call(cls, token, method, path, body=None):
        return cls.srv.request(method, path, body, token=token)

    @classmethod
    def me(cls, token):
        r = cls.srv.request("GET", "/api/v1/auth/me", token=token)
        assert r.status == 200, r
        return r.doc["data"]

    def ok(self, token, method, path, body=None, status=200):
        r = self.call(token, method, path, body)
        self.assertEqual(r.status, status, r)
        self.assertIs(r.doc["success"], True, r)
        return r.doc

    def fails(self, token, method, path, body, status):
        r = self.call(token, method, path, body)
        pn.assert_envelope(self, r, status)
        return r

    def new_user(self, email, roles=None, password=PASSWORD, token=None):
        body = {"email": email, "name": email.split("@")[0]}
        if password:
            body["password"] = password
        if roles is not None:
            body["roles"] = roles
        return self.ok(token or self.admin, "POST", "/api/v1/users", body, 201)["data"]

    def new_role(self, name, perms, token=None):
        return self.ok(token or self.admin, "POST", "/api/v1/roles",
                       {"name": name, "permissions": perms}, 201)["data"]

    # ---- function-level access ----

    def test_member_gets_403_on_every_admin_route(self):
        role = self.new_role("fl-target", ["auth.me.read"])
        uid, rid = self.admin_id, role["id"]
        routes = [
            ("GET", "/api/v1/users", None),
            ("POST", "/api/v1/users", {"email": "x@example.test", "password": PASSWORD}),
            ("GET", f"/api/v1/users/{uid}", None),
            ("PATCH", f"/api/v1/users/{uid}", {"name": "pwned"}),
            ("DELETE", f"/api/v1/users/{uid}", None),
            ("GET", "/api/v1/roles", None),
            ("POST", "/api/v1/roles", {"name": "mine", "permissions": []}),
            ("GET", f"/api/v1/roles/{rid}", None),
            ("PATCH", f"/api/v1/roles/{rid}", {"name": "renamed"}),
            ("DELETE", f"/api/v1/roles/{rid}", None),
            ("PUT", f"/api/v1/roles/{rid}/permissions", {"permissions": ["auth.me.read"]}),
            ("GET", "/api/v1/system/plugins", None),
        ]
        for method, path, body in routes:
            with self.subTest(route=f"{method} {path}"):
                r = self.fails(self.member, method, path, body, 403)
                self.assertIn("admin.", r.doc["error"])
        # Nothing changed behind the refusals.
        self.assertEqual(self.me(self.admin)["user"]["name"], "Administrator")
        self.assertEqual(self.ok(self.admin, "GET", f"/api/v1/roles/{rid}")["data"]["name"],
                         "fl-target")
        # The member's own routes still work: own keys, own audit rows, the registry.
        self.ok(self.member, "GET", "/api/v1/api_keys")
        self.ok(self.member, "GET", "/api/v1/audit_logs")
        self.ok(self.member, "GET", "/api/v1/permissions")

    def test_members_hold_no_admin_permission(self):
        perms = self.me(self.member)["permissions"]
        self.assertFalse([p for p in perms if p.startswith("admin.")], perms)
        for p in ("auth.me.read", "auth.api_keys.manage", "audit.logs.read"):
            self.assertIn(p, perms)
        viewer = self.ok(self.admin, "GET", f"/api/v1/roles/{VIEWER_ROLE}")["data"]
        self.assertFalse([p for p in viewer["permissions"] if p.startswith("admin.")])
        self.assertNotIn("auth.api_keys.manage", viewer["permissions"])

    def test_member_cannot_pass_admin_filters(self):
        self.fails(self.member, "GET", f"/api/v1/api_keys?user_id={self.admin_id}", None, 403)
        self.fails(self.member, "GET", f"/api/v1/audit_logs?user_id={self.admin_id}", None, 403)
        self.fails(self.member, "GET", f"/api/v1/audit_logs?account_id={UNKNOWN_ID}", None, 403)

    # ---- mass assignment ----

    def test_mass_assignment_refused(self):
        target = self.new_user("mass@example.test")
        before = self.db.query(
            f"SELECT account_id, password_hash, status FROM users WHERE id = '{target['id']}'")
        for field, value in [("account_id", UNKNOWN_ID), ("password_hash", "$argon2id$x"),
                             ("id", UNKNOWN_ID), ("permissions", ["admin.users.manage"]),
                             ("role", "admin"), ("email", "new@example.test"),
                             ("totp_enabled", False), ("failed_logins", 0),
                             ("created_at", "2020-01-01T00:00:00Z")]:
            with self.subTest(field=field):
                r = self.fails(self.admin, "PATCH", f"/api/v1/users/{target['id']}",
                               {"name": "ok", field: value}, 422)
                self.assertIn(field, [d.get("field") for d in r.doc["details"]])
        after = self.db.query(
            f"SELECT account_id, password_hash, status FROM users WHERE id = '{target['id']}'")
        self.assertEqual(before, after)
        self.assertEqual(self.ok(self.admin, "GET", f"/api/v1/users/{target['id']}")["data"]["name"],
                         "mass")
        self.fails(self.admin, "POST", "/api/v1/users",
                   {"email": "m2@example.test", "password": PASSWORD,
                    "account_id": UNKNOWN_ID}, 422)
        self.fails(self.admin, "POST", "/api/v1/roles",
                   {"name": "sneaky", "all_permissions": True}, 422)
        self.fails(self.admin, "POST", "/api/v1/roles",
                   {"name": "sneaky", "system": True}, 422)
        self.fails(self.member, "POST", "/api/v1/api_keys",
                   {"name": "k", "permissions": ["auth.me.read"], "user_id": self.admin_id}, 422)
        self.assertEqual(self.db.query("SELECT count(*) FROM roles WHERE name = 'sneaky'"), "0")

    def test_user_json_never_carries_secrets(self):
        r = self.call(self.admin, "GET", "/api/v1/users?per_page=100")
        self.assertEqual(r.status, 200)
        self.assertNotIn(b"argon2", r.body)
        self.assertNotIn(b"password", r.body)
        self.assertNotIn(b"totp_secret", r.body)

    # ---- self and last-administrator rules ----

    def test_admin_cannot_disable_delete_or_demote_themselves(self):
        self.fails(self.admin, "PATCH", f"/api/v1/users/{self.admin_id}", {"status": "disabled"}, 409)
        self.fails(self.admin, "DELETE", f"/api/v1/users/{self.admin_id}", None, 409)
        self.fails(self.admin, "PATCH", f"/api/v1/users/{self.admin_id}",
                   {"roles": [MEMBER_ROLE]}, 409)
        # Renaming yourself is fine.
        self.ok(self.admin, "PATCH", f"/api/v1/users/{self.admin_id}", {"name": "Administrator"})
        self.assertEqual(self.me(self.admin)["user"]["status"], "active")

    def test_two_admins_disabling_each_other_leaves_one(self):
        a = self.new_user("race-a@example.test", [ADMIN_ROLE])
        b = self.new_user("race-b@example.test", [ADMIN_ROLE])
        ta = self.srv.login("race-a@example.test", PASSWORD)
        tb = self.srv.login("race-b@example.test", PASSWORD)
        # Demote the first admin so these two are the account's only administrators.
        self.ok(ta, "PATCH", f"/api/v1/users/{self.admin_id}", {"roles": [MEMBER_ROLE]})
        try:
            # Hold the administrators' lock so both requests authenticate, then queue on it.
            holder = subprocess.Popen(["psql", "-X", "-q", self.db.url], stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, text=True)
            holder.stdin.write(
                f"SELECT pg_advisory_lock(73681906, hashtext('{self.account_id}'));\n")
            holder.stdin.flush()
            self.wait_locks(granted=1, waiting=0)
            results = {}

            def disable(name, token, target):
                results[name] = self.call(token, "PATCH", f"/api/v1/users/{target}",
                                          {"status": "disabled"})

            threads = [threading.Thread(target=disable, args=("a", ta, b["id"])),
                       threading.Thread(target=disable, args=("b", tb, a["id"]))]
            for t in threads:
                t.start()
            self.wait_locks(granted=1, waiting=2)
            holder.stdin.write(
                f"SELECT pg_advisory_unlock(73681906, hashtext('{self.account_id}'));\n\\q\n")
            holder.stdin.close()
            holder.wait(10)
            for t in threads:
                t.join(20)
            statuses = sorted(r.status for r in results.values())
            self.assertEqual(statuses, [200, 409], results)
            loser = [r for r in results.values() if r.status == 409][0]
            self.assertIn("at least one active administrator", loser.doc["error"])
            active = self.db.query(
                "SELECT count(*) FROM users u JOIN user_roles ur ON ur.user_id = u.id"
                f" WHERE ur.role_id = '{ADMIN_ROLE}' AND u.status = 'active'"
                f" AND u.account_id = '{self.account_id}'")
            self.assertEqual(active, "1")
        finally:
            # Restore: the first admin gets the admin role back directly in the database.
            self.db.query(f"INSERT INTO user_roles (user_id, role_id) VALUES"
                          f" ('{self.admin_id}', '{ADMIN_ROLE}') ON CONFLICT DO NOTHING")
            self.db.query("UPDATE users SET status = 'disabled'"
                          " WHERE email IN ('race-a@example.test', 'race-b@example.test')")

    def wait_locks(self, granted, waiting):
        deadline = time.monotonic() + 15
        q = ("SELECT count(*) FILTER (WHERE granted) || ',' || count(*) FILTER (WHERE NOT granted)"
             " FROM pg_locks WHERE locktype = 'advisory' AND classid = 73681906")
        seen = None
        while time.monotonic() < deadline:
            seen = self.db.query(q)
            if seen == f"{granted},{waiting}":
                return
            time.sleep(0.05)
        self.fail(f"advisory locks granted,waiting = {seen}, wanted {granted},{waiting}")

    # ---- privilege rules ----

    def test_user_manager_grants_only_what_they_hold(self):
        mgr_role = self.new_role("user-manager", ["admin.users.read", "admin.users.manage",
                                                  "auth.me.read"])
        mgr = self.new_user("mgr@example.test", [mgr_role["id"]])
        tm = self.srv.login("mgr@example.test", PASSWORD)
        # The admin role, and member (which holds permissions the manager lacks): 403.
        for roles in ([ADMIN_ROLE], [MEMBER_ROLE], [mgr_role["id"], ADMIN_ROLE]):
            r = self.fails(tm, "POST", "/api/v1/users",
                           {"email": "esc@example.test", "password": PASSWORD, "roles": roles},
                           403)
            self.assertIn("cannot grant", r.doc["error"])
        # Default role is member: refused too.
        self.fails(tm, "POST", "/api/v1/users", {"email": "esc@example.test", "password": PASSWORD},
                   403)
        self.assertEqual(self.db.query("SELECT count(*) FROM users WHERE email = 'esc@example.test'"),
                         "0")
        # Its own role (a subset of what it holds) is fine.
        u = self.new_user("sub@example.test", [mgr_role["id"]], token=tm)
        # It cannot raise anyone, itself included, nor touch someone holding more.
        self.fails(tm, "PATCH", f"/api/v1/users/{u['id']}", {"roles": [ADMIN_ROLE]}, 403)
        self.fails(tm, "PATCH", f"/api/v1/users/{mgr['id']}", {"roles": [ADMIN_ROLE]}, 409)
        self.fails(tm, "PATCH", f"/api/v1/users/{self.admin_id}", {"status": "disabled"}, 403)
        self.fails(tm, "DELETE", f"/api/v1/users/{self.admin_id}", None, 403)
        self.fails(tm, "PATCH", f"/api/v1/users/{self.member_id}", {"name": "x"}, 403)
        self.ok(tm, "PATCH", f"/api/v1/users/{u['id']}", {"name": "renamed", "status": "disabled"})
        self.ok(tm, "DELETE", f"/api/v1/users/{u['id']}")

    def test_role_manager_grants_only_what_they_hold(self):
        rm_role = self.new_role("role-manager", ["admin.roles.read", "admin.roles.manage",
                                                 "auth.me.read"])
        self.new_user("rm@example.test", [rm_role["id"]])
        tr = self.srv.login("rm@example.test", PASSWORD)
        r = self.fails(tr, "POST", "/api/v1/roles",
                       {"name": "escalate", "permissions": ["admin.users.manage"]}, 403)
        self.assertIn("admin.users.manage", r.doc["error"])
        mine = self.new_role("rm-own", ["auth.me.read"], token=tr)
        self.fails(tr, "PUT", f"/api/v1/roles/{mine['id']}/permissions",
                   {"permissions": ["auth.me.read", "admin.users.read"]}, 403)
        self.fails(tr, "PUT", f"/api/v1/roles/{rm_role['id']}/permissions",
                   {"permissions": ["admin.roles.read", "admin.roles.manage", "auth.me.read",
                                    "admin.system.read"]}, 403)
        # A role holding more than the caller cannot be changed or deleted by them at all.
        big = self.new_role("rm-big", ["admin.users.manage"])
        self.fails(tr, "PATCH", f"/api/v1/roles/{big['id']}", {"name": "smaller"}, 403)
        self.fails(tr, "DELETE", f"/api/v1/roles/{big['id']}", None, 403)
        self.fails(tr, "PUT", f"/api/v1/roles/{big['id']}/permissions", {"permissions": []}, 403)
        self.ok(tr, "PUT", f"/api/v1/roles/{mine['id']}/permissions",
                {"permissions": ["admin.roles.read"]})

    # ---- roles ----

    def test_system_roles_are_read_only(self):
        for rid in (ADMIN_ROLE, MEMBER_ROLE, VIEWER_ROLE):
            with self.subTest(role=rid):
                self.fails(self.admin, "PATCH", f"/api/v1/roles/{rid}", {"name": "x"}, 409)
                self.fails(self.admin, "DELETE", f"/api/v1/roles/{rid}", None, 409)
                self.fails(self.admin, "PUT", f"/api/v1/roles/{rid}/permissions",
                           {"permissions": ["auth.me.read"]}, 409)
        self.fails(self.admin, "POST", "/api/v1/roles", {"name": "Admin"}, 409)
        roles = self.ok(self.admin, "GET", "/api/v1/roles")["data"]
        self.assertEqual([r["name"] for r in roles[:3]], ["admin", "member", "viewer"])
        self.assertTrue(roles[0]["all_permissions"])

    def test_role_crud_and_audited_permission_diff(self):
        role = self.new_role("auditors", ["audit.logs.read", "auth.me.read"])
        self.assertEqual(role["permissions"], ["audit.logs.read", "auth.me.read"])
        self.fails(self.admin, "POST", "/api/v1/roles", {"name": "auditors"}, 409)
        got = self.ok(self.admin, "PUT", f"/api/v1/roles/{role['id']}/permissions",
                      {"permissions": ["auth.me.read", "admin.audit_logs.read",
                                       "admin.audit_logs.read"]})["data"]
        self.assertEqual(got["permissions"], ["admin.audit_logs.read", "auth.me.read"])
        rows = self.ok(self.admin, "GET",
                       f"/api/v1/audit_logs?action=roles.permissions&target_id={role['id']}")["data"]
        self.assertEqual(len(rows), 2, rows)  # creation, then the replacement
        self.assertEqual(rows[0]["details"], {"added": ["admin.audit_logs.read"],
                                              "removed": ["audit.logs.read"]})
        self.assertEqual(rows[0]["user_id"], self.admin_id)
        self.assertEqual(rows[1]["details"]["added"], ["audit.logs.read", "auth.me.read"])
        # An unchanged set writes no diff row.
        self.ok(self.admin, "PUT", f"/api/v1/roles/{role['id']}/permissions",
                {"permissions": ["admin.audit_logs.read", "auth.me.read"]})
        rows = self.ok(self.admin, "GET",
                       f"/api/v1/audit_logs?action=roles.permissions&target_id={role['id']}")["data"]
        self.assertEqual(len(rows), 2)
        r = self.fails(self.admin, "PUT", f"/api/v1/roles/{role['id']}/permissions",
                       {"permissions": ["auth.me.read", "no.such.permission", "badname"]}, 422)
        self.assertEqual(sorted(d["field"] for d in r.doc["details"]),
                         ["permissions/1", "permissions/2"])
        self.ok(self.admin, "PATCH", f"/api/v1/roles/{role['id']}",
                {"name": "auditors2", "description": "reads the log"})
        u = self.new_user("aud@example.test", [role["id"]], password=None)
        self.assertEqual(self.ok(self.admin, "GET", f"/api/v1/roles/{role['id']}")["data"]["user_count"], 1)
        self.ok(self.admin, "DELETE", f"/api/v1/roles/{role['id']}")
        self.fails(self.admin, "GET", f"/api/v1/roles/{role['id']}", None, 404)
        self.assertEqual(self.ok(self.admin, "GET", f"/api/v1/users/{u['id']}")["data"]["roles"], [])
        self.fails(self.admin, "GET", "/api/v1/roles/not-a-uuid", None, 404)
        self.fails(self.admin, "GET", f"/api/v1/roles/{UNKNOWN_ID}", None, 404)

    def test_permission_registry(self):
        groups = self.ok(self.member, "GET", "/api/v1/permissions")["data"]
        flat = {p["name"]: p for g in groups for p in g["permissions"]}
        for name in ("admin.users.read", "admin.users.manage", "admin.roles.read",
                     "admin.roles.manage", "admin.api_keys.manage", "admin.audit_logs.read",
                     "audit.logs.read", "auth.api_keys.manage", "auth.me.read"):
            self.assertIn(name, flat)
        self.assertFalse(flat["admin.users.manage"]["held"])
        self.assertTrue(flat["auth.me.read"]["held"])
        self.assertEqual(flat["admin.users.read"]["owner"], "kernel")
        self.assertIn("Administration", [g["category"] for g in groups])

    # ---- users: create, invite, validation ----

    def test_create_rules(self):
        invited = self.ok(self.admin, "POST", "/api/v1/users",
                          {"email": "inv@example.test", "name": "Inv"}, 201)["data"]
        self.assertEqual(invited["status"], "invited")
        self.assertEqual([r["name"] for r in invited["roles"]], ["member"])
        self.assertEqual(self.db.query(
            f"SELECT password_hash IS NULL FROM users WHERE id = '{invited['id']}'"), "t")
        # Cannot be activated before it has a password.
        self.fails(self.admin, "PATCH", f"/api/v1/users/{invited['id']}", {"status": "active"}, 409)
        self.fails(self.admin, "POST", "/api/v1/users", {"email": "INV@example.test"}, 409)
        self.fails(self.admin, "POST", "/api/v1/users",
                   {"email": "weak@example.test", "password": "short"}, 422)
        self.fails(self.admin, "POST", "/api/v1/users",
                   {"email": "a@example.test", "status": "active"}, 422)
        self.fails(self.admin, "POST", "/api/v1/users",
                   {"email": "b@example.test", "password": PASSWORD, "status": "invited"}, 422)
        self.fails(self.admin, "POST", "/api/v1/users", {"email": "not-an-email"}, 422)
        r = self.fails(self.admin, "POST", "/api/v1/users",
                       {"email": "c@example.test", "roles": [UNKNOWN_ID]}, 422)
        self.assertIn("no such role", r.body.decode())
        self.fails(self.admin, "GET", "/api/v1/users/not-a-uuid", None, 404)
        self.fails(self.admin, "PATCH", f"/api/v1/users/{UNKNOWN_ID}", {"name": "x"}, 404)
        self.fails(self.admin, "DELETE", f"/api/v1/users/{UNKNOWN_ID}", None, 404)

    def test_disabled_user_is_locked_out_at_once(self):
        self.new_user("dis@example.test")
        t = self.srv.login("dis@example.test", PASSWORD)
        uid = self.me(t)["user"]["id"]
        self.ok(self.admin, "PATCH", f"/api/v1/users/{uid}", {"status": "disabled"})
        pn.assert_envelope(self, self.srv.request("GET", "/api/v1/auth/me", token=t), 401)
        self.ok(self.admin, "PATCH", f"/api/v1/users/{uid}", {"status": "active"})
        self.assertEqual(self.me(t)["user"]["id"], uid)

    # ---- users: pagination, filters, sort ----

    def test_users_pagination_filters_sort(self):
        tag = "pag.example.test"
        role = self.new_role("pag-role", ["auth.me.read"])
        ids = []
        for i in range(7):
            roles = [role["id"]] if i < 3 else None
            ids.append(self.new_user(f"u{i}@{tag}", roles, password=None)["id"])
        for uid in ids[5:]:
            self.ok(self.admin, "PATCH", f"/api/v1/users/{uid}", {"status": "disabled"})

        doc = self.ok(self.admin, "GET", f"/api/v1/users?q={tag}&per_page=3&sort=email")
        self.assertEqual(doc["meta"]["pagination"],
                         {"page": 1, "per_page": 3, "total": 7, "total_pages": 3})
        seen = [u["email"] for u in doc["data"]]
        for page in (2, 3):
            doc = self.ok(self.admin, "GET", f"/api/v1/users?q={tag}&per_page=3&sort=email&page={page}")
            seen += [u["email"] for u in doc["data"]]
        self.assertEqual(seen, [f"u{i}@{tag}" for i in range(7)])
        doc = self.ok(self.admin, "GET", f"/api/v1/users?q={tag}&per_page=3&page=4")
        self.assertEqual(doc["data"], [])
        self.assertEqual(doc["meta"]["pagination"]["total"], 7)

        desc = self.ok(self.admin, "GET", f"/api/v1/users?q=U0@PAG&sort=-email")["data"]
        self.assertEqual([u["email"] for u in desc], [f"u0@{tag}"])  # q is case-insensitive
        desc = self.ok(self.admin, "GET", f"/api/v1/users?q={tag}&sort=-email&per_page=100")["data"]
        self.assertEqual([u["email"] for u in desc], [f"u{i}@{tag}" for i in reversed(range(7))])
        created = self.ok(self.admin, "GET", f"/api/v1/users?q={tag}&sort=-created_at")["data"]
        self.assertEqual([u["id"] for u in created], list(reversed(ids)))

        dis = self.ok(self.admin, "GET", f"/api/v1/users?q={tag}&status=disabled")
        self.assertEqual(sorted(u["id"] for u in dis["data"]), sorted(ids[5:]))
        self.assertEqual(dis["meta"]["pagination"]["total"], 2)
        for sel in (role["id"], "pag-role"):
            by_role = self.ok(self.admin, "GET", f"/api/v1/users?role={sel}&per_page=100")
            self.assertEqual(sorted(u["id"] for u in by_role["data"]), sorted(ids[:3]))
        by_both = self.ok(self.admin, "GET", f"/api/v1/users?role=pag-role&q=u1@")["data"]
        self.assertEqual([u["id"] for u in by_both], [ids[1]])

        for q in ("per_page=0", "per_page=101", "page=0", "page=abc", "sort=password_hash",
                  "sort=email;drop", "status=bogus", "role=nope", f"role={UNKNOWN_ID}",
                  "account_id=xyz"):
            with self.subTest(query=q):
                r = self.fails(self.admin, "GET", f"/api/v1/users?{q}", None, 422)
                self.assertEqual(len(r.doc["details"]), 1)

    # ---- API keys ----

    def test_api_key_shown_once_then_masked(self):
        created = self.ok(self.member, "POST", "/api/v1/api_keys",
                          {"name": "ci", "permissions": ["auth.me.read"],
                           "expires_at": "2099-01-01T00:00:00Z"}, 201)["data"]
        key = created["key"]
        self.assertRegex(key, r"^pnk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$")
        self.assertEqual(created["prefix"], key[4:12])
        self.assertEqual(created["masked"], f"pnk_{created['prefix']}_********")
        secret = key[13:]
        stored = self.db.query(
            f"SELECT encode(key_hash, 'hex') || ' ' || prefix FROM api_keys WHERE id = '{created['id']}'")
        self.assertEqual(stored, hashlib.sha256(key.encode()).hexdigest() + " " + key[4:12])
        for token, path in ((self.member, "/api/v1/api_keys"),
                            (self.admin, f"/api/v1/api_keys?user_id={self.member_id}"),
                            (self.admin, "/api/v1/audit_logs?per_page=100")):
            r = self.call(token, "GET", path)
            self.assertEqual(r.status, 200, r)
            self.assertNotIn(secret.encode(), r.body)
            if "api_keys" in path:
                listed = [k for k in r.doc["data"] if k["id"] == created["id"]]
                self.assertEqual(len(listed), 1)
                self.assertNotIn("key", listed[0])
                self.assertEqual(listed[0]["masked"], created["masked"])
        self.assertNotIn(secret, self.srv.log_text())
        audit = self.ok(self.member, "GET",
                        f"/api/v1/audit_logs?action=api_keys.create&target_id={created['id']}")["data"]
        self.assertEqual(len(audit), 1)
        self.assertEqual(audit[0]["details"]["prefix"], created["prefix"])

    def test_api_key_rules_and_revocation(self):
        self.fails(self.member, "POST", "/api/v1/api_keys",
                   {"name": "x", "permissions": ["admin.users.read"]}, 403)
        self.fails(self.member, "POST", "/api/v1/api_keys",
                   {"name": "x", "permissions": ["no.such.perm"]}, 422)
        self.fails(self.member, "POST", "/api/v1/api_keys", {"name": "x", "permissions": []}, 422)
        self.fails(self.member, "POST", "/api/v1/api_keys",
                   {"name": "x", "permissions": ["auth.me.read"],
                    "expires_at": "2001-01-01T00:00:00Z"}, 422)
        self.fails(self.member, "POST", "/api/v1/api_keys",
                   {"name": "x", "permissions": ["auth.me.read"], "expires_at": "tomorrow"}, 422)
        mine = self.ok(self.member, "POST", "/api/v1/api_keys",
                       {"name": "m", "permissions": ["auth.me.read"]}, 201)["data"]
        admins = self.ok(self.admin, "POST", "/api/v1/api_keys",
                         {"name": "a", "permissions": ["admin.users.read"]}, 201)["data"]
        # The member cannot see or revoke the admin's key: not found, not forbidden.
        self.fails(self.member, "DELETE", f"/api/v1/api_keys/{admins['id']}", None, 404)
        self.assertNotIn(admins["id"],
                         [k["id"] for k in self.ok(self.member, "GET", "/api/v1/api_keys")["data"]])
        # The admin lists and revokes the member's key.
        listed = self.ok(self.admin, "GET", f"/api/v1/api_keys?user_id={self.member_id}")["data"]
        self.assertIn(mine["id"], [k["id"] for k in listed])
        self.fails(self.admin, "GET", f"/api/v1/api_keys?user_id={UNKNOWN_ID}", None, 404)
        revoked = self.ok(self.admin, "DELETE", f"/api/v1/api_keys/{mine['id']}")["data"]
        self.assertFalse(revoked["active"])
        self.assertIsNotNone(revoked["revoked_at"])
        again = self.ok(self.member, "DELETE", f"/api/v1/api_keys/{mine['id']}")["data"]
        self.assertEqual(again["revoked_at"], revoked["revoked_at"])
        self.fails(self.member, "DELETE", f"/api/v1/api_keys/{UNKNOWN_ID}", None, 404)
        self.fails(self.member, "DELETE", "/api/v1/api_keys/nope", None, 404)

    def test_api_key_authenticates_until_revoked(self):
        created = self.ok(self.member, "POST", "/api/v1/api_keys",
                          {"name": "use", "permissions": ["auth.me.read"]}, 201)["data"]
        r = self.srv.request("GET", "/api/v1/auth/me", token=created["key"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.doc["data"]["user"]["id"], self.member_id)
        # Scoped: the key lacks auth.api_keys.manage although its owner holds it.
        pn.assert_envelope(self, self.srv.request("GET", "/api/v1/api_keys", token=created["key"]), 403)
        self.ok(self.member, "DELETE", f"/api/v1/api_keys/{created['id']}")
        pn.assert_envelope(self, self.srv.request("GET", "/api/v1/auth/me", token=created["key"]), 401)

    # ---- audit log ----

    def test_audit_filters_pagination_and_visibility(self):
        # Denied rows: the member's refused mutations are recorded with result "denied".
        self.fails(self.member, "POST", "/api/v1/roles", {"name": "nope"}, 403)
        target = self.new_user("audited@example.test", password=None)
        self.ok(self.admin, "PATCH", f"/api/v1/users/{target['id']}", {"name": "a1"})
        self.ok(self.admin, "PATCH", f"/api/v1/users/{target['id']}", {"name": "a2"})

        rows = self.ok(self.admin, "GET", f"/api/v1/audit_logs?target_id={target['id']}")["data"]
        self.assertEqual([r["details"]["method"] for r in rows], ["PATCH", "PATCH"])
        self.assertTrue(all(r["action"] == "admin.users.manage" for r in rows))
        denied = self.ok(self.admin, "GET",
                         f"/api/v1/audit_logs?result=denied&user_id={self.member_id}")["data"]
        self.assertTrue(denied)
        self.assertTrue(all(r["result"] == "denied" and r["user_id"] == self.member_id
                            for r in denied))
        pref = self.ok(self.admin, "GET", "/api/v1/audit_logs?action=admin.users&per_page=100")["data"]
        self.assertTrue(pref)
        self.assertTrue(all(r["action"].startswith("admin.users") for r in pref))

        # Newest first, pages disjoint, keyset cursor continues where the page ended.
        p1 = self.ok(self.admin, "GET", "/api/v1/audit_logs?per_page=2")
        p2 = self.ok(self.admin, "GET", "/api/v1/audit_logs?per_page=2&page=2")
        total = p1["meta"]["pagination"]["total"]
        self.assertGreaterEqual(total, 4)
        self.assertEqual(p1["meta"]["pagination"]["total_pages"], (total + 1) // 2)
        keys = [(r["created_at"], r["id"]) for r in p1["data"] + p2["data"]]
        self.assertEqual(keys, sorted(keys, reverse=True))
        self.assertEqual(len(set(keys)), 4)
        cursor = p1["meta"]["pagination"]["next_before"]
        self.assertEqual(cursor, p1["data"][-1]["id"])
        k2 = self.ok(self.admin, "GET", f"/api/v1/audit_logs?per_page=2&before={cursor}")["data"]
        self.assertEqual([r["id"] for r in k2], [r["id"] for r in p2["data"]])

        # Time window: the future is empty, a window around now holds the newest row.
        newest = p1["data"][0]["created_at"]
        self.assertEqual(self.ok(self.admin, "GET",
                                 "/api/v1/audit_logs?from=2999-01-01T00:00:00Z")["data"], [])
        self.assertEqual(self.ok(self.admin, "GET",
                                 "/api/v1/audit_logs?to=2000-01-01T00:00:00%2B00:00")["data"], [])
        window = self.ok(self.admin, "GET",
                         f"/api/v1/audit_logs?from={newest.replace('+', '%2B')}"
                         f"&to={newest.replace('+', '%2B')}")["data"]
        self.assertIn(p1["data"][0]["id"], [r["id"] for r in window])
        for q in ("from=yesterday", "to=2024-01-01", "user_id=x", "result=ok", "before=1",
                  "per_page=1000", "action="):
            with self.subTest(query=q):
                self.fails(self.admin, "GET", f"/api/v1/audit_logs?{q}", None, 422)

        # The member reads only their own rows.
        mine = self.ok(self.member, "GET", "/api/v1/audit_logs?per_page=100")
        self.assertTrue(mine["data"])
        self.assertTrue(all(r["user_id"] == self.member_id for r in mine["data"]))
        self.ok(self.member, "GET", f"/api/v1/audit_logs?user_id={self.member_id}")


if __name__ == "__main__":
    pn.main()
