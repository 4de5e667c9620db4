"""Two-factor sign-in over real HTTP: enrolment (setup shows the secret once, enable needs a
valid code and returns ten recovery codes), sign-in in two steps with a TOTP code or a
recovery code, each usable once, disable with password and code, the secret sealed at rest,
503 when no master key is configured, and start-up refused for a malformed one."""
import time
import unittest
import urllib.parse

import pn
import test_auth_support as s

LIMITS = {"POWERNODE_AUTH_RATE_LIMIT_IP_PER_MINUTE": "1000",
          "POWERNODE_AUTH_RATE_LIMIT_USER_PER_MINUTE": "10000"}


class TwoFactor(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()
        cls.srv = pn.Server(cls.db, env=dict(LIMITS, POWERNODE_MASTER_KEY=s.MASTER_KEY))
        cls.srv.create_admin()

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.db.drop()
        assert code == 0, f"server exit code {code}\n{cls.srv.log_text()}"

    def post(self, path, body=None, token=None):
        return s.call(self.srv, "POST", path, body, token=token, ip=s.fresh_ip())

    def enrol(self, email):
        uid = s.add_user(self.db, email)
        token = s.login(self.srv, email)["access_token"]
        r = self.post("/api/v1/auth/totp/setup", token=token)
        self.assertEqual(r.status, 200, r)
        secret = r.doc["data"]["secret"]
        uri = urllib.parse.urlsplit(r.doc["data"]["otpauth_uri"])
        self.assertEqual((uri.scheme, uri.netloc), ("otpauth", "totp"))
        q = urllib.parse.parse_qs(uri.query)
        self.assertEqual(q["secret"], [secret])
        self.assertEqual(q["digits"], ["6"])
        self.assertEqual(q["period"], ["30"])
        self.assertEqual(q["algorithm"], ["SHA1"])
        self.assertIn(urllib.parse.quote(email, safe=""), uri.path)
        return uid, token, secret

    def test_enrol_and_sign_in_with_codes(self):
        email = "totp-user@example.test"
        uid, token, secret = self.enrol(email)
        self.assertEqual(len(secret), 32)  # 20 bytes in base32
        # Sealed at rest: the column holds neither the secret nor its bytes in clear.
        stored = self.db.query(f"SELECT encode(totp_secret_enc, 'hex') FROM users WHERE id = '{uid}'")
        self.assertEqual(len(stored), 2 * (20 + 29))
        import base64
        raw_hex = base64.b32decode(secret).hex()
        self.assertNotIn(raw_hex, stored)

        r = self.post("/api/v1/auth/totp/enable", {"code": "000000" if s.totp(
            secret, s.step_now()) != "000000" else "111111"}, token=token)
        pn.assert_envelope(self, r, 422)
        step = s.step_now()
        code = s.totp(secret, step)
        r = self.post("/api/v1/auth/totp/enable", {"code": code}, token=token)
        self.assertEqual(r.status, 200, r)
        recovery = r.doc["data"]["recovery_codes"]
        self.assertEqual(len(recovery), 10)
        self.assertEqual(len(set(recovery)), 10)
        self.assertEqual(self.db.query(
            f"SELECT count(*) FROM user_recovery_codes WHERE user_id = '{uid}'"), "10")
        for c in recovery:
            self.assertEqual(self.db.query(
                f"SELECT count(*) FROM user_recovery_codes WHERE code_hash::text LIKE "
                f"'%{c.replace('-', '')[:8].lower()}%'"), "0")
        # A second setup cannot replace an enabled secret.
        pn.assert_envelope(self, self.post("/api/v1/auth/totp/setup", token=token), 409)

        # Step one: the password gives an mfa_token, not tokens.
        r = self.post("/api/v1/auth/login", {"email": email, "password": pn.ADMIN_PASSWORD})
        self.assertEqual(r.status, 200, r)
        d = r.doc["data"]
        self.assertIs(d["mfa_required"], True)
        self.assertNotIn("access_token", d)
        mfa = d["mfa_token"]
        # The mfa token is not an access token.
        pn.assert_envelope(self, s.call(self.srv, "GET", "/api/v1/auth/me", token=mfa), 401)

        # The code used to enable does not work again (single use, remembered step).
        r = self.post("/api/v1/auth/login/mfa", {"mfa_token": mfa, "code": code})
        pn.assert_envelope(self, r, 401)
        # The next step's code is inside the window and unused.
        r = self.post("/api/v1/auth/login/mfa", {"mfa_token": mfa,
                                                 "code": s.totp(secret, step + 1)})
        self.assertEqual(r.status, 200, r)
        access = r.doc["data"]["access_token"]
        self.assertTrue(r.doc["data"]["refresh_token"])
        me = s.call(self.srv, "GET", "/api/v1/auth/me", token=access)
        self.assertEqual(me.status, 200)
        self.assertIs(me.doc["data"]["user"]["totp_enabled"], True)
        # ... and that code is spent too.
        r = self.post("/api/v1/auth/login/mfa", {"mfa_token": mfa,
                                                 "code": s.totp(secret, step + 1)})
        pn.assert_envelope(self, r, 401)

        # Recovery codes: each works once, in any case and with or without dashes.
        r = self.post("/api/v1/auth/login/mfa", {"mfa_token": mfa,
                                                 "recovery_code": recovery[0].lower()})
        self.assertEqual(r.status, 200, r)
        r = self.post("/api/v1/auth/login/mfa", {"mfa_token": mfa, "recovery_code": recovery[0]})
        pn.assert_envelope(self, r, 401)
        r = self.post("/api/v1/auth/login/mfa", {"mfa_token": mfa,
                                                 "recovery_code": recovery[1].replace("-", "")})
        self.assertEqual(r.status, 200, r)
        # Exactly one of code and recovery_code; a forged mfa token is refused.
        r = self.post("/api/v1/auth/login/mfa", {"mfa_token": mfa})
        pn.assert_envelope(self, r, 422)
        forged = s.sign(s.header(kid="mfa"), s.claims(uid, d.get("account_id") or "x", typ="mfa"),
                        pn.JWT_KEY)
        r = self.post("/api/v1/auth/login/mfa", {"mfa_token": forged, "recovery_code": recovery[2]})
        pn.assert_envelope(self, r, 401)

        # Disable needs the password and a code.
        r = self.post("/api/v1/auth/totp/disable", {"password": "wrong password here",
                                                     "recovery_code": recovery[2]}, token=access)
        pn.assert_envelope(self, r, 422)
        r = self.post("/api/v1/auth/totp/disable", {"password": pn.ADMIN_PASSWORD,
                                                     "recovery_code": recovery[0]}, token=access)
        pn.assert_envelope(self, r, 422)  # already used
        r = self.post("/api/v1/auth/totp/disable", {"password": pn.ADMIN_PASSWORD,
                                                     "recovery_code": recovery[2]}, token=access)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.db.query(
            f"SELECT totp_enabled::text || coalesce(encode(totp_secret_enc, 'hex'), 'null')"
            f"  FROM users WHERE id = '{uid}'"), "falsenull")
        self.assertEqual(self.db.query(
            f"SELECT count(*) FROM user_recovery_codes WHERE user_id = '{uid}'"), "0")
        # Back to one-step sign-in.
        self.assertIn("access_token", s.login(self.srv, email))
        actions = self.db.query(f"SELECT string_agg(DISTINCT action, ',' ORDER BY action)"
                                f"  FROM audit_logs WHERE user_id = '{uid}'")
        for a in ("auth.totp.setup", "auth.totp.enable", "auth.totp.disable", "auth.login"):
            self.assertIn(a, actions)

    def test_wrong_codes_count_towards_lockout(self):
        email = "totp-guess@example.test"
        uid, token, secret = self.enrol(email)
        r = self.post("/api/v1/auth/totp/enable", {"code": s.totp(secret, s.step_now())},
                      token=token)
        self.assertEqual(r.status, 200, r)
        mfa = self.post("/api/v1/auth/login", {"email": email,
                                               "password": pn.ADMIN_PASSWORD}).doc["data"]
        right = {s.totp(secret, s.step_now() + k) for k in (-1, 0, 1)}
        wrong = next(c for c in ("123456", "654321", "111111", "222222") if c not in right)
        for _ in range(5):  # auth.lockout_threshold default
            r = self.post("/api/v1/auth/login/mfa", {"mfa_token": mfa["mfa_token"],
                                                     "code": wrong})
            pn.assert_envelope(self, r, 401)
        r = self.post("/api/v1/auth/login/mfa", {"mfa_token": mfa["mfa_token"],
                                                 "code": s.totp(secret, s.step_now() + 1)})
        pn.assert_envelope(self, r, 423)
        self.assertGreater(int(r.headers["retry-after"]), 0)
        self.db.query(f"UPDATE users SET locked_until = NULL WHERE id = '{uid}'")

    def test_setup_and_enable_refuse_api_keys(self):
        uid = s.add_user(self.db, "totp-key@example.test")
        key, _ = s.add_api_key(self.db, uid, ["auth.self.manage", "auth.me.read"])
        r = self.post("/api/v1/auth/totp/setup", token=key)
        pn.assert_envelope(self, r, 403)


class TwoFactorOff(unittest.TestCase):
    def test_not_configured_is_503_and_malformed_key_refuses_start(self):
        db = pn.Database()
        try:
            srv = pn.Server(db, env=LIMITS)
            try:
                srv.create_admin()
                token = s.login(srv)["access_token"]
                for path, body in (("/api/v1/auth/totp/setup", None),
                                   ("/api/v1/auth/totp/enable", {"code": "123456"}),
                                   ("/api/v1/auth/totp/disable", {"password": "x",
                                                                  "code": "123456"})):
                    r = s.call(srv, "POST", path, body, token=token)
                    pn.assert_envelope(self, r, 503)
                    self.assertEqual(r.doc["error"], "two-factor is not configured")
            finally:
                self.assertEqual(srv.stop(), 0, srv.log_text())
            for bad in ("abc", "g" * 64, "0" * 63, "0" * 66):
                srv = pn.Server(db, env=dict(LIMITS, POWERNODE_MASTER_KEY=bad),
                                expect_start=False)
                code, out = srv.run_once("--check-config")
                self.assertNotEqual(code, 0, out)
                self.assertIn("master_key", out)
        finally:
            db.drop()


if __name__ == "__main__":
    pn.main()
