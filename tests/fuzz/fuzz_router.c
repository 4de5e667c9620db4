/*
 * libFuzzer target for pnk_router_match on a fixed route table. Besides memory errors it
 * compares every answer with a slow, obviously-correct reference matcher written here (linear
 * scan, precedence by segment kinds), so a trie bug that picks the wrong route is a crash.
 * Input: one byte choosing the method, then the raw path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <powernode/types.h>

#include "decode.h"
#include "router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

#define MAX_SEGS 64

static int
handler(pn_req_t *req)
{
    (void)req;
    return 0;
}

static const struct {
    pn_method_t m;
    const char *path;
} table[] = {
    {PN_GET, "/"},
    {PN_GET, "/api/v1/files"},
    {PN_POST, "/api/v1/files"},
    {PN_GET, "/api/v1/files/:id"},
    {PN_DELETE, "/api/v1/files/:id"},
    {PN_GET, "/api/v1/files/trash"},
    {PN_DELETE, "/api/v1/files/trash"},
    {PN_GET, "/api/v1/files/:id/versions/:vid"},
    {PN_POST, "/api/v1/files/:id/versions"},
    {PN_GET, "/api/v1/files/trash/raw"},
    {PN_GET, "/api/v1/:ns/x"},
    {PN_PUT, "/api/v1/:ns/:res"},
    {PN_GET, "/api/v1/files:batch"},
    {PN_HEAD, "/api/v1/files/:id/raw"},
    {PN_GET, "/api/*rest"},
    {PN_PATCH, "/a*b/:p"},
    {PN_GET, "/static/*path"},
    {PN_GET, "/static/index.html"},
    {PN_GET, "/@me/~x/a-b_c.d"},
};
#define NROUTES (sizeof table / sizeof table[0])

static pnk_router_t *router;

/* Reference path check and split: raw segments into seg/len; -1 for a bad path. */
static int
ref_split(pnk_arena_t *a, const char *path, const char **seg, size_t *len, char **dec)
{
    if (path[0] != '/')
        return -1;
    if (path[1] == '\0')
        return 0;
    int n = 0;
    const char *p = path + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (l == 0 && slash)
            return -1;
        for (size_t i = 0; i < l; i++)
            if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
                return -1;
        char *d = pnk_percent_decode(a, p, l, false);
        if (!d || strcmp(d, ".") == 0 || strcmp(d, "..") == 0)
            return -1;
        if (n < MAX_SEGS) {
            seg[n] = p;
            len[n] = l;
            dec[n] = d;
        }
        n++;
        if (!slash)
            return n;
        p = slash + 1;
    }
}

/* Kinds of a pattern's segments: 0 literal, 1 parameter, 2 rest; returns the count. */
static int
kinds_of(const char *pattern, int *kinds, const char **lits, size_t *litlen)
{
    int n = 0;
    const char *p = pattern + 1;
    while (*p && n < MAX_SEGS) {
        size_t l = strcspn(p, "/");
        kinds[n] = p[0] == ':' ? 1 : p[0] == '*' ? 2 : 0;
        lits[n] = p;
        litlen[n] = l;
        n++;
        p += l;
        if (*p == '/')
            p++;
    }
    return n;
}

static bool
ref_matches(const char *pattern, int nsegs, char **dec)
{
    int kinds[MAX_SEGS];
    const char *lits[MAX_SEGS];
    size_t litlen[MAX_SEGS];
    int k = kinds_of(pattern, kinds, lits, litlen);
    for (int i = 0; i < k; i++) {
        if (kinds[i] == 2)
            return nsegs > i; /* the rest: at least one segment */
        if (i >= nsegs)
            return false;
        if (kinds[i] == 1 && dec[i][0] == '\0')
            return false;
        if (kinds[i] == 0 && (strlen(dec[i]) != litlen[i] || memcmp(dec[i], lits[i], litlen[i])))
            return false;
    }
    return k == nsegs;
}

/* <0 when pattern a takes precedence over b (literal < parameter < rest, left to right). */
static int
precedence(const char *a, const char *b)
{
    int ka[MAX_SEGS], kb[MAX_SEGS];
    const char *l[MAX_SEGS];
    size_t ll[MAX_SEGS];
    int na = kinds_of(a, ka, l, ll), nb = kinds_of(b, kb, l, ll);
    for (int i = 0; i < na && i < nb; i++)
        if (ka[i] != kb[i])
            return ka[i] - kb[i];
    return 0;
}

static bool
same_shape(const char *a, const char *b)
{
    int ka[MAX_SEGS], kb[MAX_SEGS];
    const char *la[MAX_SEGS], *lb[MAX_SEGS];
    size_t lla[MAX_SEGS], llb[MAX_SEGS];
    int na = kinds_of(a, ka, la, lla), nb = kinds_of(b, kb, lb, llb);
    if (na != nb)
        return false;
    for (int i = 0; i < na; i++)
        if (ka[i] != kb[i] || (ka[i] == 0 && (lla[i] != llb[i] || memcmp(la[i], lb[i], lla[i]))))
            return false;
    return true;
}

static void
check_against_reference(int method, const char *path, int rc, const pnk_match_t *m,
                        uint32_t allowed, pnk_arena_t *a)
{
    const char *seg[MAX_SEGS];
    size_t len[MAX_SEGS];
    char *dec[MAX_SEGS];
    int nsegs = ref_split(a, path, seg, len, dec);
    if (nsegs < 0) {
        CHECK(rc == PN_E_BADREQ);
        return;
    }
    CHECK(rc != PN_E_BADREQ);
    if (nsegs > MAX_SEGS)
        return; /* the reference only keeps MAX_SEGS segments */

    /* The best shape that has the method (HEAD falls back to GET within a shape). */
    int best = -1;
    uint32_t any = 0;
    for (size_t i = 0; i < NROUTES; i++) {
        if (!ref_matches(table[i].path, nsegs, dec))
            continue;
        any |= table[i].m;
        bool fits = (int)table[i].m == method;
        if (!fits && method == PN_HEAD && table[i].m == PN_GET) {
            fits = true;
            for (size_t k = 0; k < NROUTES; k++)
                if (table[k].m == PN_HEAD && same_shape(table[k].path, table[i].path))
                    fits = false;
        }
        if (fits && (best < 0 || precedence(table[i].path, table[best].path) < 0))
            best = (int)i;
    }
    if (best >= 0) {
        CHECK(rc == 0);
        CHECK(strcmp(m->route->path, table[best].path) == 0);
        return;
    }
    if (any) {
        CHECK(rc == PN_E_METHOD);
        CHECK(allowed == (any | PN_OPTIONS | (any & PN_GET ? PN_HEAD : 0)));
    } else {
        CHECK(rc == PN_E_NOTFOUND && allowed == 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    if (!router) {
        CHECK((router = pnk_router_new()));
        for (size_t i = 0; i < NROUTES; i++) {
            pn_route_t rt = {table[i].m, table[i].path, NULL, handler,        "fuzz",
                             0,          NULL,          NULL, PN_ROUTE_PUBLIC};
            CHECK(pnk_router_add(router, &rt, "fuzz", NULL, err, sizeof err) == 0);
        }
    }
    if (size < 1)
        return 0;
    int method = data[0] % 8 == 7 ? 0 : 1 << (data[0] % 8);
    char *path = malloc(size);
    CHECK(path);
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';

    pnk_arena_t *a = pnk_arena_new(0);
    CHECK(a);
    pnk_match_t m;
    uint32_t allowed = 0;
    int rc = pnk_router_match(router, method, path, a, &m, &allowed);
    CHECK(rc == 0 || rc == PN_E_NOTFOUND || rc == PN_E_METHOD || rc == PN_E_BADREQ);
    if (rc == 0) {
        CHECK(m.route && m.nparams >= 0 && m.nparams <= PNK_ROUTE_MAX_PARAMS);
        for (int i = 0; i < m.nparams; i++)
            CHECK(m.names[i] && m.values[i]);
    } else {
        CHECK(!m.route);
        CHECK(rc == PN_E_METHOD ? (allowed & PN_OPTIONS) != 0 : allowed == 0);
    }
    check_against_reference(method, path, rc, &m, allowed, a);
    pnk_arena_free(a);
    free(path);
    return 0;
}
