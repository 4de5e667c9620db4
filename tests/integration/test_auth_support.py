"""Helpers for the test_auth_* integration tests (not a test itself): requests from a chosen
loopback source address (so per-IP rate limits of concurrent test servers do not mix),
hand-made JWTs, TOTP codes, API keys and users written straight into the test database."""
import base64
import hashlib
import hmac
import http.client
import json
import secrets
import struct
import time
import uuid

import pn

ISSUER = "powernode"           # auth.issuer default
AUDIENCE = "powernode-api"     # auth.audience default
KID = "k1"                     # auth.jwt_kid default
SERVICE_SECRET = "w" * 40      # WORKER_SERVICE_TOKEN in pn.base_env
MASTER_KEY = secrets.token_hex(32)


def fresh_ip():
    """A loopback address of its own: 127.x.y.z reaches the server on 127.0.0.1."""
    return "127.%d.%d.%d" % (secrets.randbelow(254) + 1, secrets.randbelow(254) + 1,
                             secrets.randbelow(253) + 2)


def call(srv, method, path, body=None, token=None, headers=None, ip="127.0.0.1", timeout=15):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout,
                                      source_address=(ip, 0))
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    if body is not None:
        body = json.dumps(body)
        h["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    doc = json.loads(data) if data and (r.getheader("Content-Type") or "").startswith(
        "application/json") else None
    return pn.Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, data, doc)


def login(srv, email=pn.ADMIN_EMAIL, password=pn.ADMIN_PASSWORD, ip=None):
    r = call(srv, "POST", "/api/v1/auth/login", {"email": email, "password": password},
             ip=ip or fresh_ip())
    if r.status != 200:
        raise AssertionError(f"login failed: {r}")
    return r.doc["data"]


# ---- JWT ----

def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(header, payload, key, digest=hashlib.sha256):
    h = b64url(json.dumps(header, separators=(",", ":")))
    p = b64url(json.dumps(payload, separators=(",", ":")))
    if key is None:
        return f"{h}.{p}."
    mac = hmac.new(key.encode() if isinstance(key, str) else key, f"{h}.{p}".encode(), digest)
    return f"{h}.{p}.{b64url(mac.digest())}"


def claims(sub, acct, typ="access", ttl=600, now=None, **over):
    now = int(now if now is not None else time.time())
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "typ": typ, "iat": now, "nbf": now,
         "exp": now + ttl, "jti": str(uuid.uuid4())}
    if acct is not None:
        c["acct"] = acct
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def header(alg="HS256", kid=KID):
    return {"alg": alg, "typ": "JWT", "kid": kid}


# ---- TOTP (RFC 6238, SHA-1, 6 digits, 30 s) ----

def totp(secret_b32, step):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def step_now():
    return int(time.time()) // 30


# ---- rows written directly (the admin routes belong to another area) ----

def add_user(db, email, role="member", like=pn.ADMIN_EMAIL):
    """A user in the admin's account with the admin's password hash (so the same password)."""
    uid = str(uuid.uuid4())
    role_id = {"admin": "01900000-0000-7000-8000-000000000001",
               "member": "01900000-0000-7000-8000-000000000002",
               "viewer": "01900000-0000-7000-8000-000000000003"}[role]
    db.query(f"INSERT INTO users (id, account_id, email, name, password_hash)"
             f" SELECT '{uid}', account_id, '{email}', 'Test', password_hash FROM users"
             f"  WHERE email = '{like}';"
             f"INSERT INTO user_roles (user_id, role_id) VALUES ('{uid}', '{role_id}')")
    return uid


def add_api_key(db, user_id, perms, expires_sql="NULL", revoked_sql="NULL"):
    """An API key in the format the server authenticates; returns (plaintext, id)."""
    prefix = secrets.token_hex(4)
    key = f"pnk_{prefix}_{b64url(secrets.token_bytes(32))}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    kid = str(uuid.uuid4())
    arr = "ARRAY[" + ",".join(f"'{p}'" for p in perms) + "]::text[]"
    db.query(f"INSERT INTO api_keys (id, account_id, user_id, name, prefix, key_hash,"
             f" permissions, expires_at, revoked_at)"
             f" SELECT '{kid}', account_id, id, 'test key', '{prefix}', decode('{digest}', 'hex'),"
             f" {arr}, {expires_sql}, {revoked_sql} FROM users WHERE id = '{user_id}'")
    return key, kid


def wait_for_minute_room(seconds_needed=12):
    """Rate limits count per wall-clock minute: start a burst early enough in a minute that it
    cannot straddle two windows."""
    left = 60 - time.time() % 60
    if left < seconds_needed:
        time.sleep(left + 0.2)
