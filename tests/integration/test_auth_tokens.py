"""Tokens over real HTTP: the JWT forgery catalogue (every variant 401 in the envelope, with a
correctly forged token as the control), user and service routes kept apart, refresh rotation
with reuse revoking the family, logout making the access token useless, password change
revoking other sessions, and the audit rows those leave (never a password)."""
import hashlib
import time
import unittest

import pn
import test_auth_support as s


class AuthTokens(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()
        # Generous limits: this file is about tokens, not limits.
        cls.srv = pn.Server(cls.db, env={"POWERNODE_AUTH_RATE_LIMIT_IP_PER_MINUTE": "1000",
                                         "POWERNODE_AUTH_RATE_LIMIT_USER_PER_MINUTE": "10000"})
        cls.srv.create_admin()
        d = s.login(cls.srv)
        cls.token = d["access_token"]
        cls.user_id = d["user"]["id"]
        cls.account_id = d["user"]["account_id"]

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.db.drop()
        assert code == 0, f"server exit code {code}\n{cls.srv.log_text()}"

    def me(self, token, **kw):
        return s.call(self.srv, "GET", "/api/v1/auth/me", token=token, **kw)

    def assert_401(self, token, path="/api/v1/auth/me", what=""):
        r = s.call(self.srv, "GET", path, token=token)
        pn.assert_envelope(self, r, 401)
        self.assertIn("bearer", r.headers.get("www-authenticate", "").lower(), what)
        return r

    # ---- forgery catalogue ----

    def test_control_forged_with_the_real_key_is_accepted(self):
        # Proves the forging code below is right, so each refusal is about its one defect.
        t = s.sign(s.header(), s.claims(self.user_id, self.account_id), pn.JWT_KEY)
        r = self.me(t)
        self.assertEqual(r.status, 200, r)
        t = s.sign(s.header(kid="service"), s.claims("worker-1", None, typ="service"),
                   s.SERVICE_SECRET)
        self.assertEqual(s.call(self.srv, "GET", "/api/v1/internal/ping", token=t).status, 200)

    def test_forgery_catalogue(self):
        good = s.claims(self.user_id, self.account_id)
        now = int(time.time())
        real = self.token
        h, p, sig = real.split(".")
        tampered_payload = s.b64url(
            __import__("json").dumps(dict(good, sub=self.user_id[:-1] + "0")))
        pem = ("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
               "-----END PUBLIC KEY-----\n")
        variants = {
            "alg none": s.sign(dict(s.header(), alg="none"), good, None),
            "alg None": s.sign(dict(s.header(), alg="None"), good, None),
            "alg none with a signature": s.sign(dict(s.header(), alg="none"), good, pn.JWT_KEY),
            "no alg": s.sign({"typ": "JWT", "kid": s.KID}, good, pn.JWT_KEY),
            "RS256 header, HMAC with the real key": s.sign(s.header("RS256"), good, pn.JWT_KEY),
            "HS256 keyed with a public key": s.sign(s.header(), good, pem),
            "HS512 with the real key": s.sign(s.header("HS512"), good, pn.JWT_KEY,
                                              hashlib.sha512),
            "wrong key": s.sign(s.header(), good, "x" * 48),
            "expired": s.sign(s.header(), s.claims(self.user_id, self.account_id, ttl=600,
                                                   now=now - 3600), pn.JWT_KEY),
            "not yet valid": s.sign(s.header(), dict(good, nbf=now + 600), pn.JWT_KEY),
            "issued in the future": s.sign(s.header(), dict(good, iat=now + 600, nbf=now + 600,
                                                             exp=now + 900), pn.JWT_KEY),
            "lifetime too long": s.sign(s.header(), dict(good, exp=now + 10 * 86400),
                                        pn.JWT_KEY),
            "wrong iss": s.sign(s.header(), dict(good, iss="evil"), pn.JWT_KEY),
            "wrong aud": s.sign(s.header(), dict(good, aud="other-api"), pn.JWT_KEY),
            "aud as a list": s.sign(s.header(), dict(good, aud=[s.AUDIENCE]), pn.JWT_KEY),
            "no exp": s.sign(s.header(), {k: v for k, v in good.items() if k != "exp"},
                             pn.JWT_KEY),
            "typ service in an access-key token": s.sign(s.header(), dict(good, typ="service"),
                                                         pn.JWT_KEY),
            "tampered payload, old signature": f"{h}.{tampered_payload}.{sig}",
            "truncated": real[:-5],
            "signature dropped": f"{h}.{p}.",
            "two parts": f"{h}.{p}",
            "garbage": "not-a-token",
            "garbage with dots": "a.b.c",
            "unknown kid": s.sign(s.header(kid="k9"), good, pn.JWT_KEY),
            "no kid": s.sign({"alg": "HS256", "typ": "JWT"}, good, pn.JWT_KEY),
            "service kid with the user key": s.sign(s.header(kid="service"), good, pn.JWT_KEY),
            "user of another account": s.sign(s.header(), dict(
                good, acct="01900000-0000-7000-8000-00000000dead"), pn.JWT_KEY),
        }
        for name, token in variants.items():
            with self.subTest(name):
                self.assert_401(token, what=name)

    def test_user_token_on_service_route_and_the_reverse(self):
        r = self.assert_401(self.token, "/api/v1/internal/ping")
        self.assertIn("service token required", r.doc["error"])
        svc = s.sign(s.header(kid="service"), s.claims("worker-1", None, typ="service"),
                     s.SERVICE_SECRET)
        r = self.assert_401(svc, "/api/v1/auth/me")
        self.assertIn("user token required", r.doc["error"])
        # A service token signed with the user key, and a user token with the service secret.
        self.assert_401(s.sign(s.header(kid="service"), s.claims("w", None, typ="service"),
                               pn.JWT_KEY), "/api/v1/internal/ping")
        self.assert_401(s.sign(s.header(), s.claims(self.user_id, self.account_id),
                               s.SERVICE_SECRET))

    def test_mfa_token_is_not_an_access_token(self):
        # The second-step token's key is derived, so forge it through a real 2FA-less path:
        # a typ "mfa" claim under the access key must not pass either.
        t = s.sign(s.header(), s.claims(self.user_id, self.account_id, typ="mfa"), pn.JWT_KEY)
        self.assert_401(t)
        t = s.sign(s.header(kid="mfa"), s.claims(self.user_id, self.account_id, typ="mfa"),
                   pn.JWT_KEY)
        self.assert_401(t)

    # ---- refresh, logout, password ----

    def refresh(self, rt):
        return s.call(self.srv, "POST", "/api/v1/auth/refresh", {"refresh_token": rt})

    def test_login_returns_a_refresh_token_stored_hashed(self):
        d = s.login(self.srv)
        rt = d["refresh_token"]
        self.assertEqual(len(rt), 43)
        self.assertEqual(d["refresh_expires_in"], 30 * 86400)
        digest = hashlib.sha256(rt.encode()).hexdigest()
        self.assertEqual(self.db.query(
            f"SELECT count(*) FROM refresh_tokens WHERE token_hash = decode('{digest}', 'hex')"
            f"   AND expires_at BETWEEN now() + interval '29 days' AND now() + interval '31 days'"),
            "1")
        self.assertEqual(self.db.query(
            f"SELECT count(*) FROM refresh_tokens WHERE encode(token_hash, 'escape') LIKE "
            f"'%{rt[:20]}%'"), "0")

    def test_refresh_rotates_and_reuse_revokes_the_family(self):
        d = s.login(self.srv)
        rt1 = d["refresh_token"]
        r = self.refresh(rt1)
        self.assertEqual(r.status, 200, r)
        rt2, access2 = r.doc["data"]["refresh_token"], r.doc["data"]["access_token"]
        self.assertNotEqual(rt1, rt2)
        self.assertEqual(self.me(access2).status, 200)
        fam = self.db.query("SELECT family_id FROM refresh_tokens WHERE token_hash = "
                            f"decode('{hashlib.sha256(rt1.encode()).hexdigest()}', 'hex')")
        self.assertEqual(self.db.query(
            f"SELECT count(*) FROM refresh_tokens WHERE family_id = '{fam}'"), "2")
        self.assertEqual(self.db.query(
            f"SELECT count(*) FROM refresh_tokens WHERE family_id = '{fam}'"
            f" AND replaced_by IS NOT NULL"), "1")
        r3 = self.refresh(rt2)
        self.assertEqual(r3.status, 200, r3)
        rt3 = r3.doc["data"]["refresh_token"]

        # rt1 again: reuse. The whole family goes, the newest token included.
        r = self.refresh(rt1)
        pn.assert_envelope(self, r, 401)
        self.assertEqual(self.db.query(
            f"SELECT count(*) FROM refresh_tokens WHERE family_id = '{fam}'"
            f" AND revoked_at IS NULL"), "0")
        pn.assert_envelope(self, self.refresh(rt3), 401)
        pn.assert_envelope(self, self.refresh(rt2), 401)
        self.assertGreaterEqual(int(self.db.query(
            "SELECT count(*) FROM audit_logs WHERE action = 'auth.refresh.reuse'"
            f" AND details->>'family_id' = '{fam}'")), 1)
        # Another session of the same user is untouched.
        other = s.login(self.srv)["refresh_token"]
        self.assertEqual(self.refresh(other).status, 200)

    def test_refresh_refuses_unknown_and_malformed(self):
        pn.assert_envelope(self, self.refresh("A" * 43), 401)
        pn.assert_envelope(self, s.call(self.srv, "POST", "/api/v1/auth/refresh", {}), 422)
        pn.assert_envelope(self, s.call(self.srv, "POST", "/api/v1/auth/refresh",
                                        {"refresh_token": 5}), 422)

    def test_logout_makes_the_access_token_useless(self):
        d = s.login(self.srv)
        access, rt = d["access_token"], d["refresh_token"]
        self.assertEqual(self.me(access).status, 200)
        r = s.call(self.srv, "POST", "/api/v1/auth/logout", {"refresh_token": rt}, token=access)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.doc["data"]["refresh_revoked"])
        self.assert_401(access)
        pn.assert_envelope(self, self.refresh(rt), 401)
        # Logging out again with the dead token is refused too.
        pn.assert_envelope(self, s.call(self.srv, "POST", "/api/v1/auth/logout", token=access),
                           401)
        self.assertEqual(self.me(self.token).status, 200)  # other sessions live on
        self.assertGreaterEqual(int(self.db.query(
            "SELECT count(*) FROM audit_logs WHERE action = 'auth.logout'")), 1)

    def test_logout_without_refresh_token_and_with_someone_elses(self):
        # The access token names its session, so signing out without the refresh token still
        # ends the whole session, and only that one.
        d = s.login(self.srv)
        other = s.login(self.srv)
        r = s.call(self.srv, "POST", "/api/v1/auth/logout", token=d["access_token"])
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.doc["data"]["refresh_revoked"])
        self.assert_401(d["access_token"])
        pn.assert_envelope(self, self.refresh(d["refresh_token"]), 401)
        self.assertEqual(self.me(other["access_token"]).status, 200)

        uid = s.add_user(self.db, "logout-victim@example.test")
        victim = s.login(self.srv, "logout-victim@example.test")
        r = s.call(self.srv, "POST", "/api/v1/auth/logout",
                   {"refresh_token": victim["refresh_token"]}, token=other["access_token"])
        self.assertEqual(r.status, 200, r)
        # Not the caller's token: the victim's session is left alone, the caller's own ends.
        self.assertEqual(self.refresh(victim["refresh_token"]).status, 200, uid)
        self.assertEqual(self.me(victim["access_token"]).status, 200)
        pn.assert_envelope(self, self.refresh(other["refresh_token"]), 401)

    def test_password_change(self):
        email = "pwchange@example.test"
        s.add_user(self.db, email, role="viewer")  # self-service works for viewers too
        one, two = s.login(self.srv, email), s.login(self.srv, email)
        path = "/api/v1/auth/password"
        r = s.call(self.srv, "POST", path, {"current_password": "wrong wrong wrong",
                                             "new_password": "another good password"},
                   token=one["access_token"])
        pn.assert_envelope(self, r, 422)
        r = s.call(self.srv, "POST", path, {"current_password": pn.ADMIN_PASSWORD,
                                             "new_password": "short"}, token=one["access_token"])
        pn.assert_envelope(self, r, 422)
        r = s.call(self.srv, "POST", path, {"current_password": pn.ADMIN_PASSWORD,
                                             "new_password": "a brand new passphrase",
                                             "refresh_token": one["refresh_token"]},
                   token=one["access_token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.doc["data"]["sessions_revoked"], 1)
        pn.assert_envelope(self, self.refresh(two["refresh_token"]), 401)  # other session gone
        self.assert_401(two["access_token"])  # ...at once, not when its access token expires
        self.assertEqual(self.me(one["access_token"]).status, 200)  # this one kept
        self.assertEqual(self.refresh(one["refresh_token"]).status, 200)
        r = s.call(self.srv, "POST", "/api/v1/auth/login",
                   {"email": email, "password": pn.ADMIN_PASSWORD}, ip=s.fresh_ip())
        pn.assert_envelope(self, r, 401)
        s.login(self.srv, email, "a brand new passphrase")
        self.assertGreaterEqual(int(self.db.query(
            "SELECT count(*) FROM audit_logs WHERE action = 'auth.password.change'"
            " AND result = 'success'")), 1)

    def test_password_change_keeps_the_access_tokens_session(self):
        email = "pwchange2@example.test"
        s.add_user(self.db, email)
        one, two = s.login(self.srv, email), s.login(self.srv, email)
        r = s.call(self.srv, "POST", "/api/v1/auth/password",
                   {"current_password": pn.ADMIN_PASSWORD, "new_password": "yet another phrase"},
                   token=one["access_token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.doc["data"]["sessions_revoked"], 1)
        self.assertEqual(self.me(one["access_token"]).status, 200)
        self.assertEqual(self.refresh(one["refresh_token"]).status, 200)
        self.assert_401(two["access_token"])
        pn.assert_envelope(self, self.refresh(two["refresh_token"]), 401)

    def test_reused_refresh_token_ends_the_thiefs_access_token(self):
        d = s.login(self.srv)
        r = self.refresh(d["refresh_token"])
        self.assertEqual(r.status, 200, r)
        thief = r.doc["data"]
        self.assertEqual(self.me(thief["access_token"]).status, 200)
        # The original holder comes back with the already-rotated token: reuse.
        pn.assert_envelope(self, self.refresh(d["refresh_token"]), 401)
        self.assert_401(thief["access_token"])
        self.assert_401(d["access_token"])
        pn.assert_envelope(self, self.refresh(thief["refresh_token"]), 401)

    def test_session_has_an_absolute_lifetime(self):
        d = s.login(self.srv)
        r = self.refresh(d["refresh_token"])
        self.assertEqual(r.status, 200, r)
        latest = r.doc["data"]["refresh_token"]
        # The sign-in is backdated past auth.session_max_age (90 days by default): rotating
        # the refresh token does not keep the session alive.
        self.db.query("UPDATE refresh_tokens SET created_at = created_at - interval '91 days'"
                      " WHERE family_id = (SELECT family_id FROM refresh_tokens"
                      "                     ORDER BY created_at DESC LIMIT 1)")
        r = self.refresh(latest)
        pn.assert_envelope(self, r, 401)
        self.assertIn("sign in again", r.doc["error"])
        self.assertGreaterEqual(int(self.db.query(
            "SELECT count(*) FROM audit_logs WHERE action = 'auth.refresh'"
            " AND details->>'reason' LIKE 'session older%'")), 1)

    def test_sign_ins_are_audited_without_passwords(self):
        secret_pwd = "this-wrong-password-must-never-be-stored"
        r = s.call(self.srv, "POST", "/api/v1/auth/login",
                   {"email": pn.ADMIN_EMAIL, "password": secret_pwd}, ip=s.fresh_ip())
        pn.assert_envelope(self, r, 401)
        r = s.call(self.srv, "POST", "/api/v1/auth/login",
                   {"email": "nobody@example.test", "password": secret_pwd}, ip=s.fresh_ip())
        pn.assert_envelope(self, r, 401)
        self.assertEqual(r.doc["error"], "invalid email or password")
        rows = self.db.query("SELECT result || ' ' || (details->>'reason') FROM audit_logs"
                             " WHERE action = 'auth.login' AND result = 'failure'"
                             " ORDER BY created_at")
        self.assertIn("failure wrong password", rows)
        # Core mode: the unknown email's attempt is attached to the one account.
        self.assertEqual(self.db.query(
            "SELECT count(*) FROM audit_logs WHERE action = 'auth.login'"
            " AND details->>'email' = 'nobody@example.test'"
            f" AND account_id = '{self.account_id}'"), "1")
        self.assertEqual(self.db.query(
            f"SELECT count(*) FROM audit_logs WHERE details::text LIKE '%{secret_pwd}%'"
            f" OR coalesce(user_agent, '') LIKE '%{secret_pwd}%'"), "0")
        self.assertGreaterEqual(int(self.db.query(
            "SELECT count(*) FROM audit_logs WHERE action = 'auth.login' AND result = 'success'"
            f" AND user_id = '{self.user_id}'")), 1)
        self.assertNotIn(secret_pwd, self.srv.log_text())


if __name__ == "__main__":
    pn.main()
