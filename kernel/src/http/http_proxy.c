/* Trusted proxies and X-Forwarded-For; see http_proxy.h. */
#include "http_proxy.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int bits;
} block_t;

struct pnk_proxy_list {
    size_t n;
    block_t b[];
};

/* Text to bytes; IPv4-mapped IPv6 (::ffff:1.2.3.4) counts as the IPv4 address, so a block
 * written either way matches a peer reported either way. */
static bool
parse_addr(const char *s, int *family, unsigned char out[16])
{
    if (inet_pton(AF_INET, s, out) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s, out) != 1)
        return false;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(out, mapped, sizeof mapped) == 0) {
        memmove(out, out + 12, 4);
        *family = AF_INET;
    } else {
        *family = AF_INET6;
    }
    return true;
}

static bool
in_block(const block_t *b, int family, const unsigned char *a)
{
    if (b->family != family)
        return false;
    int full = b->bits / 8, rest = b->bits % 8;
    if (memcmp(b->addr, a, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (b->addr[full] & mask) == (a[full] & mask);
}

static bool
parse_block(const char *tok, block_t *b, char *err, size_t errlen)
{
    char text[64];
    const char *slash = strchr(tok, '/');
    size_t len = slash ? (size_t)(slash - tok) : strlen(tok);
    if (len == 0 || len >= sizeof text) {
        (void)snprintf(err, errlen, "\"%s\" is not an address", tok);
        return false;
    }
    memcpy(text, tok, len);
    text[len] = '\0';
    if (!parse_addr(text, &b->family, b->addr)) {
        (void)snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", text);
        return false;
    }
    int max = b->family == AF_INET ? 32 : 128;
    b->bits = max;
    if (slash) {
        char *end = NULL;
        long bits = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end != '\0' || bits < 0 || bits > max) {
            (void)snprintf(err, errlen, "\"%s\": prefix length must be 0..%d", tok, max);
            return false;
        }
        b->bits = (int)bits;
    }
    return true;
}

pnk_proxy_list_t *
pnk_proxy_parse(const char *spec, char *err, size_t errlen)
{
    size_t cap = 1;
    for (const char *p = spec ? spec : ""; *p; p++)
        cap += *p == ',' || *p == ' ';
    pnk_proxy_list_t *l = calloc(1, sizeof *l + cap * sizeof(block_t));
    char *copy = strdup(spec ? spec : "");
    if (!l || !copy) {
        free(l);
        free(copy);
        (void)snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        if (!parse_block(tok, &l->b[l->n], err, errlen)) {
            free(copy);
            free(l);
            return NULL;
        }
        l->n++;
    }
    free(copy);
    return l;
}

void
pnk_proxy_free(pnk_proxy_list_t *l)
{
    free(l);
}

size_t
pnk_proxy_count(const pnk_proxy_list_t *l)
{
    return l ? l->n : 0;
}

bool
pnk_proxy_trusted(const pnk_proxy_list_t *l, const char *ip)
{
    unsigned char a[16];
    int family;
    if (!l || l->n == 0 || !parse_addr(ip, &family, a))
        return false;
    for (size_t i = 0; i < l->n; i++)
        if (in_block(&l->b[i], family, a))
            return true;
    return false;
}

bool
pnk_proxy_peer_ip(const char *peer, char *out, size_t outlen)
{
    size_t n;
    if (!peer || !peer[0] || outlen == 0)
        return false;
    if (peer[0] == '[') {
        peer++;
        n = strcspn(peer, "]");
    } else {
        n = strcspn(peer, ":");
    }
    if (n == 0 || n >= outlen)
        return false;
    memcpy(out, peer, n);
    out[n] = '\0';
    return true;
}

/* One X-Forwarded-For entry, trimmed, into out; brackets and a port are tolerated because
 * some proxies write them. False when it is not an address. */
static bool
entry_ip(const char *s, size_t len, char *out, size_t outlen)
{
    unsigned char a[16];
    int family;
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= outlen)
        return false;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return false;
        len = (size_t)(close - s - 1);
        s++;
    } else {
        const char *colon = memchr(s, ':', len);
        /* "1.2.3.4:5678": one colon after a dotted address (IPv6 has two or more). */
        if (colon && memchr(s, '.', len) && !memchr(colon + 1, ':', len - (size_t)(colon - s) - 1))
            len = (size_t)(colon - s);
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return parse_addr(out, &family, a);
}

void
pnk_proxy_client_ip(const pnk_proxy_list_t *l, const char *peer, const char *xff, char *out,
                    size_t outlen)
{
    (void)snprintf(out, outlen, "%s", peer);
    if (!xff || !pnk_proxy_trusted(l, peer))
        return;
    size_t end = strlen(xff);
    /* Bounded: at most one step per comma. */
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        char ip[64];
        if (!entry_ip(xff + start, end - start, ip, sizeof ip))
            return; /* the hop before a malformed entry is the last one we can name */
        (void)snprintf(out, outlen, "%s", ip);
        if (!pnk_proxy_trusted(l, ip))
            return;
        end = start ? start - 1 : 0;
    }
}
