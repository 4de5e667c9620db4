"""Abuse limits and API keys over real HTTP: lockout after the configured number of failures
(423 with Retry-After even with the right password, unlocked after lockout_seconds), per-IP
and per-principal rate limits (429 with Retry-After at the configured count), and API keys
acting with the subset of their owner's permissions (403 outside it; expired and revoked keys
and keys on service routes refused; last_used_at written)."""
import secrets
import time
import unittest

import pn
import test_auth_support as s

THRESHOLD, LOCK_SECONDS, IP_LIMIT, USER_LIMIT = 3, 3, 6, 8
PROXY = "127.0.0.2"  # a reverse proxy in front of the server (fresh_ip never picks 127.0.x.y)


class Limits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()
        cls.srv = pn.Server(cls.db, "auth:\n  lockout_threshold: %d\n  lockout_seconds: %d\n"
                            "  rate_limit_ip_per_minute: %d\n  rate_limit_user_per_minute: %d\n"
                            "http:\n  trusted_proxies: [%s]\n"
                            % (THRESHOLD, LOCK_SECONDS, IP_LIMIT, USER_LIMIT, PROXY),
                            env={"POWERNODE_AUTH_RATE_LIMIT_IP_PER_MINUTE": str(IP_LIMIT),
                                 "POWERNODE_AUTH_RATE_LIMIT_USER_PER_MINUTE": str(USER_LIMIT)})
        cls.srv.create_admin()

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.db.drop()
        assert code == 0, f"server exit code {code}\n{cls.srv.log_text()}"

    def attempt(self, email, password):
        # A fresh source address each time: this test is about the account, not the IP.
        return s.call(self.srv, "POST", "/api/v1/auth/login",
                      {"email": email, "password": password}, ip=s.fresh_ip())

    def test_lockout_at_the_configured_count_and_unlock(self):
        email = "lockme@example.test"
        uid = s.add_user(self.db, email)
        # Failures, then a success, reset the count: THRESHOLD - 1 more do not lock.
        for _ in range(THRESHOLD - 1):
            pn.assert_envelope(self, self.attempt(email, "wrong password 1"), 401)
        self.assertEqual(self.attempt(email, pn.ADMIN_PASSWORD).status, 200)
        for _ in range(THRESHOLD - 1):
            pn.assert_envelope(self, self.attempt(email, "wrong password 2"), 401)
        self.assertEqual(self.attempt(email, pn.ADMIN_PASSWORD).status, 200)

        for i in range(THRESHOLD):
            pn.assert_envelope(self, self.attempt(email, f"wrong password {i}"), 401)
        locked_at = time.monotonic()
        r = self.attempt(email, pn.ADMIN_PASSWORD)
        pn.assert_envelope(self, r, 423)
        retry = int(r.headers["retry-after"])
        self.assertTrue(1 <= retry <= LOCK_SECONDS, retry)
        pn.assert_envelope(self, self.attempt(email, "wrong again"), 423)
        self.assertEqual(self.db.query(
            f"SELECT count(*) FROM audit_logs WHERE action = 'auth.lockout' AND user_id = '{uid}'"),
            "1")
        # Another account is not affected.
        self.assertEqual(self.attempt(pn.ADMIN_EMAIL, pn.ADMIN_PASSWORD).status, 200)

        time.sleep(max(0, LOCK_SECONDS + 0.5 - (time.monotonic() - locked_at)))
        r = self.attempt(email, pn.ADMIN_PASSWORD)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.db.query(
            f"SELECT failed_logins || ' ' || (locked_until IS NULL) FROM users WHERE id = '{uid}'"),
            "0 true")

    def test_ip_rate_limit_on_sign_in_routes(self):
        s.wait_for_minute_room()
        ip = s.fresh_ip()
        # login, refresh and login/mfa share the per-IP budget.
        paths = ["/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/login/mfa"]
        bodies = [{"email": "nobody@example.test", "password": "x"}, {"refresh_token": "x"},
                  {"mfa_token": "x", "code": "123456"}]
        for i in range(IP_LIMIT):
            r = s.call(self.srv, "POST", paths[i % 3], bodies[i % 3], ip=ip)
            self.assertEqual(r.status, 401, r)
        r = s.call(self.srv, "POST", "/api/v1/auth/login",
                   {"email": pn.ADMIN_EMAIL, "password": pn.ADMIN_PASSWORD}, ip=ip)
        pn.assert_envelope(self, r, 429)
        retry = int(r.headers["retry-after"])
        self.assertTrue(1 <= retry <= 60, retry)
        pn.assert_envelope(self, s.call(self.srv, "POST", "/api/v1/auth/refresh",
                                        {"refresh_token": "x"}, ip=ip), 429)
        # Another address still gets in.
        self.assertEqual(s.call(self.srv, "POST", "/api/v1/auth/login",
                                {"email": pn.ADMIN_EMAIL, "password": pn.ADMIN_PASSWORD},
                                ip=s.fresh_ip()).status, 200)

    def test_trusted_proxy_names_the_client(self):
        s.wait_for_minute_room()
        # Behind the trusted proxy each client has its own budget, the proxy none of its own.
        client_a, client_b = "203.0.113.%d" % (secrets.randbelow(200) + 1), "198.51.100.77"
        xff = lambda ip: {"X-Forwarded-For": "6.6.6.6, " + ip}  # the left part is the client's
        bad = {"email": "nobody@example.test", "password": "x"}
        for _ in range(IP_LIMIT):
            r = s.call(self.srv, "POST", "/api/v1/auth/login", bad, headers=xff(client_a), ip=PROXY)
            self.assertEqual(r.status, 401, r)
        pn.assert_envelope(self, s.call(self.srv, "POST", "/api/v1/auth/login", bad,
                                        headers=xff(client_a), ip=PROXY), 429)
        r = s.call(self.srv, "POST", "/api/v1/auth/login",
                   {"email": pn.ADMIN_EMAIL, "password": pn.ADMIN_PASSWORD},
                   headers=xff(client_b), ip=PROXY)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.db.query(
            "SELECT host(ip) FROM audit_logs WHERE action = 'auth.login' AND result = 'success'"
            " ORDER BY created_at DESC LIMIT 1"), client_b)
        # A client that is not a trusted proxy cannot choose its address with the header.
        me, spoofed = s.fresh_ip(), ["192.0.2.%d" % i for i in range(1, IP_LIMIT + 2)]
        for fake in spoofed[:IP_LIMIT]:
            r = s.call(self.srv, "POST", "/api/v1/auth/login", bad,
                       headers={"X-Forwarded-For": fake}, ip=me)
            self.assertEqual(r.status, 401, r)
        pn.assert_envelope(self, s.call(self.srv, "POST", "/api/v1/auth/login", bad,
                                        headers={"X-Forwarded-For": spoofed[-1]}, ip=me), 429)
        self.assertEqual(self.db.query(
            "SELECT count(*) FROM audit_logs WHERE host(ip) LIKE '192.0.2.%'"), "0")
        self.assertGreaterEqual(int(self.db.query(
            f"SELECT count(*) FROM audit_logs WHERE host(ip) = '{me}'")), IP_LIMIT)

    def test_user_rate_limit_on_authenticated_routes(self):
        uid = s.add_user(self.db, "busy@example.test")
        s.wait_for_minute_room()
        token = s.login(self.srv, "busy@example.test")["access_token"]
        for i in range(USER_LIMIT):
            r = s.call(self.srv, "GET", "/api/v1/auth/me", token=token, ip=s.fresh_ip())
            self.assertEqual(r.status, 200, (i, r))
        r = s.call(self.srv, "GET", "/api/v1/auth/me", token=token, ip=s.fresh_ip())
        pn.assert_envelope(self, r, 429)
        self.assertTrue(1 <= int(r.headers["retry-after"]) <= 60)
        # The user's other token shares the budget (it is per user, not per token) ...
        other = s.login(self.srv, "busy@example.test")["access_token"]
        pn.assert_envelope(self, s.call(self.srv, "GET", "/api/v1/auth/me", token=other), 429)
        # ... and an API key of the user has a budget of its own.
        key, _ = s.add_api_key(self.db, uid, ["auth.me.read"])
        self.assertEqual(s.call(self.srv, "GET", "/api/v1/auth/me", token=key).status, 200)
        # Other users are not affected.
        self.assertEqual(s.call(self.srv, "GET", "/api/v1/auth/me",
                                token=s.login(self.srv)["access_token"]).status, 200)

    def test_api_key_scoped_to_a_subset(self):
        admin = self.db.query(f"SELECT id FROM users WHERE email = '{pn.ADMIN_EMAIL}'")
        key, kid = s.add_api_key(self.db, admin, ["auth.me.read"])
        r = s.call(self.srv, "GET", "/api/v1/auth/me", token=key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.doc["data"]["permissions"], ["auth.me.read"])
        self.assertEqual(r.doc["data"]["user"]["id"], admin)
        # X-API-Key works the same.
        r = s.call(self.srv, "GET", "/api/v1/auth/me", headers={"X-API-Key": key})
        self.assertEqual(r.status, 200, r)
        # Outside the subset: 403, although the owner is an admin.
        pn.assert_envelope(self, s.call(self.srv, "GET", "/api/v1/system/plugins", token=key), 403)
        full = s.call(self.srv, "GET", "/api/v1/system/plugins",
                      token=s.login(self.srv)["access_token"])
        self.assertEqual(full.status, 200, full)
        # Keys are for programs: the self-service routes want a person.
        pn.assert_envelope(self, s.call(self.srv, "POST", "/api/v1/auth/logout", token=s.add_api_key(
            self.db, admin, ["auth.self.manage"])[0]), 403)
        # Never on service routes.
        pn.assert_envelope(self, s.call(self.srv, "GET", "/api/v1/internal/ping", token=key), 401)
        # last_used_at was written.
        self.assertEqual(self.db.query(
            f"SELECT last_used_at > now() - interval '1 minute' FROM api_keys WHERE id = '{kid}'"),
            "t")

    def test_api_key_intersects_with_the_owner(self):
        uid = s.add_user(self.db, "member-with-key@example.test", role="member")
        key, _ = s.add_api_key(self.db, uid, ["auth.me.read", "admin.system.read"])
        r = s.call(self.srv, "GET", "/api/v1/auth/me", token=key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.doc["data"]["permissions"], ["auth.me.read"])
        pn.assert_envelope(self, s.call(self.srv, "GET", "/api/v1/system/plugins", token=key), 403)
        # Taking the owner's role takes it from the key at once.
        self.db.query(f"DELETE FROM user_roles WHERE user_id = '{uid}'")
        pn.assert_envelope(self, s.call(self.srv, "GET", "/api/v1/auth/me", token=key), 403)

    def test_expired_revoked_and_wrong_keys_refused(self):
        admin = self.db.query(f"SELECT id FROM users WHERE email = '{pn.ADMIN_EMAIL}'")
        expired, _ = s.add_api_key(self.db, admin, ["auth.me.read"],
                                   expires_sql="now() - interval '1 second'")
        revoked, _ = s.add_api_key(self.db, admin, ["auth.me.read"], revoked_sql="now()")
        future, _ = s.add_api_key(self.db, admin, ["auth.me.read"],
                                  expires_sql="now() + interval '1 day'")
        self.assertEqual(s.call(self.srv, "GET", "/api/v1/auth/me", token=future).status, 200)
        good, _ = s.add_api_key(self.db, admin, ["auth.me.read"])
        wrong_secret = good[:-3] + ("AAA" if good[-3:] != "AAA" else "BBB")
        for name, k in (("expired", expired), ("revoked", revoked),
                        ("wrong secret", wrong_secret), ("truncated", good[:-1]),
                        ("not a key", "pnk_nothing"), ("unknown", s.add_api_key.__name__)):
            with self.subTest(name):
                pn.assert_envelope(self, s.call(self.srv, "GET", "/api/v1/auth/me", token=k), 401)
        pn.assert_envelope(self, s.call(self.srv, "GET", "/api/v1/auth/me",
                                        headers={"X-API-Key": expired}), 401)
        # Two credentials at once are refused rather than guessed between.
        pn.assert_envelope(self, s.call(self.srv, "GET", "/api/v1/auth/me", token=good,
                                        headers={"X-API-Key": good}), 401)


if __name__ == "__main__":
    pn.main()
