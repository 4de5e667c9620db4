/*
 * String, encoding and signing helpers for the providers (see st_util.h). The signers build
 * the canonical request themselves, so header auth and presigned URLs share one code path.
 */
#include "st_util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
st_buf_add(st_buf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void
st_buf_puts(st_buf_t *b, const char *s)
{
    st_buf_add(b, s, strlen(s));
}

void
st_buf_printf(st_buf_t *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        st_buf_add(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    st_buf_add(b, big, (size_t)n);
    free(big);
}

char *
st_buf_take(st_buf_t *b)
{
    char *s = b->oom ? NULL : b->s;
    if (b->oom)
        free(b->s);
    else if (s == NULL)
        s = strdup("");
    memset(b, 0, sizeof *b);
    return s;
}

void
st_buf_free(st_buf_t *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

void
st_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void
st_b64_encode(const unsigned char *in, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static int
b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict: length a multiple of 4, padding only at the end, no stray bits. */
int
st_b64_decode(const char *in, unsigned char *out, size_t cap)
{
    size_t n = strlen(in), o = 0;

    if (n % 4 != 0)
        return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int j = 0; j < 4; j++) {
            unsigned char c = (unsigned char)in[i + j];
            if (c == '=' && i + 4 == n && j >= 2) {
                v[j] = 0;
                pad++;
                continue;
            }
            if (pad > 0 || (v[j] = b64_value(c)) < 0)
                return -1;
        }
        if ((pad == 2 && (v[1] & 15) != 0) || (pad == 1 && (v[2] & 3) != 0))
            return -1;
        unsigned char bytes[3] = {(unsigned char)(v[0] << 2 | v[1] >> 4),
                                  (unsigned char)((v[1] & 15) << 4 | v[2] >> 2),
                                  (unsigned char)((v[2] & 3) << 6 | v[3])};
        size_t k = 3 - (size_t)pad;
        if (o + k > cap)
            return -1;
        memcpy(out + o, bytes, k);
        o += k;
    }
    return (int)o;
}

void
st_uri_encode(st_buf_t *b, const char *s, bool keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && keep_slash)) {
            st_buf_add(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', digits[c >> 4], digits[c & 15]};
            st_buf_add(b, e, 3);
        }
    }
}

void
st_sha256(const void *data, size_t n, unsigned char out[32])
{
    unsigned int len = 32;
    EVP_Digest(data, n, out, &len, EVP_sha256(), NULL);
}

void
st_sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[32];
    st_sha256(data, n, md);
    st_hex(md, 32, out);
}

void
st_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n, unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)keylen, msg, n, out, &len);
}

bool
st_ct_equal(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= x[i] ^ y[i];
    return d == 0;
}

/* ---- canonical query ---- */

typedef struct enc_kv {
    char *k, *v;
} enc_kv_t;

static int
cmp_enc(const void *a, const void *b)
{
    const enc_kv_t *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

char *
st_canonical_query(const st_kv_t *params, size_t n)
{
    st_buf_t out = {0};
    enc_kv_t *e = calloc(n ? n : 1, sizeof *e);
    bool oom = e == NULL;

    for (size_t i = 0; !oom && i < n; i++) {
        st_buf_t k = {0}, v = {0};
        st_uri_encode(&k, params[i].k, false);
        st_uri_encode(&v, params[i].v ? params[i].v : "", false);
        e[i].k = st_buf_take(&k);
        e[i].v = st_buf_take(&v);
        oom = e[i].k == NULL || e[i].v == NULL;
    }
    if (!oom) {
        qsort(e, n, sizeof *e, cmp_enc);
        for (size_t i = 0; i < n; i++)
            st_buf_printf(&out, "%s%s=%s", i ? "&" : "", e[i].k, e[i].v);
    }
    for (size_t i = 0; e != NULL && i < n; i++) {
        free(e[i].k);
        free(e[i].v);
    }
    free(e);
    if (oom) {
        st_buf_free(&out);
        return NULL;
    }
    return st_buf_take(&out);
}

/* ---- SigV4 ---- */

void
st_sigv4_date(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    (void)strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static const char *
algo(const st_sigv4_t *s)
{
    return s->goog ? "GOOG4-HMAC-SHA256" : "AWS4-HMAC-SHA256";
}

static void
scope(const st_sigv4_t *s, const char *date, st_buf_t *b)
{
    st_buf_printf(b, "%.8s/%s/%s/%s", date, s->region, s->service,
                  s->goog ? "goog4_request" : "aws4_request");
}

/* hex(HMAC(kSigning, string-to-sign)) where string-to-sign covers the canonical request. */
static void
sign(const st_sigv4_t *s, const char *date, const char *canonical, char out[65])
{
    unsigned char k[32];
    char day[9], creq_hash[65];
    st_buf_t key = {0}, sts = {0};

    (void)snprintf(day, sizeof day, "%.8s", date);
    st_buf_printf(&key, "%s%s", s->goog ? "GOOG4" : "AWS4", s->secret);
    st_hmac_sha256(key.s ? key.s : "", key.len, day, 8, k);
    st_hmac_sha256(k, 32, s->region, strlen(s->region), k);
    st_hmac_sha256(k, 32, s->service, strlen(s->service), k);
    const char *term = s->goog ? "goog4_request" : "aws4_request";
    st_hmac_sha256(k, 32, term, strlen(term), k);
    if (key.s != NULL)
        memset(key.s, 0, key.len); /* the secret, with its prefix */
    st_buf_free(&key);

    st_sha256_hex(canonical, strlen(canonical), creq_hash);
    st_buf_printf(&sts, "%s\n%s\n", algo(s), date);
    scope(s, date, &sts);
    st_buf_printf(&sts, "\n%s", creq_hash);
    unsigned char mac[32];
    st_hmac_sha256(k, 32, sts.s ? sts.s : "", sts.len, mac);
    memset(k, 0, sizeof k);
    st_hex(mac, 32, out);
    st_buf_free(&sts);
}

typedef struct hdr {
    char name[64];
    const char *value;
} hdr_t;

static int
cmp_hdr(const void *a, const void *b)
{
    return strcmp(((const hdr_t *)a)->name, ((const hdr_t *)b)->name);
}

/* Header value with leading/trailing space removed and inner runs collapsed. */
static void
add_trimmed(st_buf_t *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    bool space = false;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = true;
            continue;
        }
        if (space)
            st_buf_add(b, " ", 1);
        space = false;
        st_buf_add(b, v, 1);
    }
}

char *
st_sigv4_authorization(const st_sigv4_t *s, const char *method, const char *host, const char *uri,
                       const st_kv_t *params, size_t nparams, const st_kv_t *hdrs, size_t nhdrs,
                       const char *payload_hash, const char *date)
{
    hdr_t h[24];
    size_t nh = 0;
    st_buf_t creq = {0}, signed_h = {0}, out = {0};
    char sig[65];

    if (nhdrs + 1 > sizeof h / sizeof h[0])
        return NULL;
    (void)snprintf(h[nh].name, sizeof h[nh].name, "host");
    h[nh++].value = host;
    for (size_t i = 0; i < nhdrs; i++) {
        size_t j = 0;
        for (; hdrs[i].k[j] && j < sizeof h[nh].name - 1; j++) {
            char c = hdrs[i].k[j];
            h[nh].name[j] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        h[nh].name[j] = '\0';
        h[nh++].value = hdrs[i].v;
    }
    qsort(h, nh, sizeof h[0], cmp_hdr);

    char *q = st_canonical_query(params, nparams);
    if (q == NULL)
        return NULL;
    st_buf_printf(&creq, "%s\n%s\n%s\n", method, uri, q);
    free(q);
    for (size_t i = 0; i < nh; i++) {
        st_buf_printf(&creq, "%s:", h[i].name);
        add_trimmed(&creq, h[i].value);
        st_buf_add(&creq, "\n", 1);
        st_buf_printf(&signed_h, "%s%s", i ? ";" : "", h[i].name);
    }
    st_buf_printf(&creq, "\n%s\n%s", signed_h.s ? signed_h.s : "", payload_hash);
    if (creq.oom || signed_h.oom) {
        st_buf_free(&creq);
        st_buf_free(&signed_h);
        return NULL;
    }
    sign(s, date, creq.s, sig);
    st_buf_printf(&out, "%s Credential=%s/", algo(s), s->access_key);
    scope(s, date, &out);
    st_buf_printf(&out, ", SignedHeaders=%s, Signature=%s", signed_h.s, sig);
    st_buf_free(&creq);
    st_buf_free(&signed_h);
    return st_buf_take(&out);
}

char *
st_sigv4_presign(const st_sigv4_t *s, const char *method, const char *host, const char *uri,
                 int expires, const char *date)
{
    const char *p = s->goog ? "X-Goog-" : "X-Amz-";
    char n_algo[32], n_cred[32], n_date[32], n_exp[32], n_sh[32], exp[16];
    st_buf_t cred = {0}, creq = {0}, out = {0};
    char sig[65];

    (void)snprintf(n_algo, sizeof n_algo, "%sAlgorithm", p);
    (void)snprintf(n_cred, sizeof n_cred, "%sCredential", p);
    (void)snprintf(n_date, sizeof n_date, "%sDate", p);
    (void)snprintf(n_exp, sizeof n_exp, "%sExpires", p);
    (void)snprintf(n_sh, sizeof n_sh, "%sSignedHeaders", p);
    (void)snprintf(exp, sizeof exp, "%d", expires);
    st_buf_printf(&cred, "%s/", s->access_key);
    scope(s, date, &cred);
    if (cred.oom)
        return NULL;
    st_kv_t params[] = {
        {n_algo, algo(s)}, {n_cred, cred.s}, {n_date, date}, {n_exp, exp}, {n_sh, "host"},
    };
    char *q = st_canonical_query(params, sizeof params / sizeof params[0]);
    st_buf_free(&cred);
    if (q == NULL)
        return NULL;
    st_buf_printf(&creq, "%s\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD", method, uri, q, host);
    if (creq.oom) {
        free(q);
        return NULL;
    }
    sign(s, date, creq.s, sig);
    st_buf_printf(&out, "%s&%sSignature=%s", q, p, sig);
    free(q);
    st_buf_free(&creq);
    return st_buf_take(&out);
}

void
st_azure_sign(const unsigned char *key, size_t keylen, const char *sts, char out[45])
{
    unsigned char mac[32];
    st_hmac_sha256(key, keylen, sts, strlen(sts), mac);
    st_b64_encode(mac, 32, out);
}
