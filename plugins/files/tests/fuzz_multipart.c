/*
 * libFuzzer target for the multipart parser: the first byte picks a split point, the rest is
 * the body. The body is parsed whole and in two pieces; both must agree on success and on
 * every byte delivered, which catches any state lost across feed calls.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "files_multipart.h"

typedef struct {
    unsigned char *out;
    size_t n, cap;
    unsigned parts;
} sink_t;

static int
on_part(void *ud, const files_mp_part_t *p)
{
    sink_t *s = ud;
    /* touch the strings so ASan sees any bad pointer */
    volatile size_t k = strlen(p->name) + (p->filename ? strlen(p->filename) : 0) +
                        (p->content_type ? strlen(p->content_type) : 0);
    (void)k;
    s->parts++;
    return 0;
}

static int
on_data(void *ud, const char *d, size_t n)
{
    sink_t *s = ud;
    if (s->n + n > s->cap)
        abort(); /* more data out than went in */
    memcpy(s->out + s->n, d, n);
    s->n += n;
    return 0;
}

static int
on_end(void *ud)
{
    (void)ud;
    return 0;
}

static int
run(const char *body, size_t len, size_t cut, sink_t *s)
{
    static const files_mp_callbacks_t cb = {on_part, on_data, on_end};
    files_mp_t *p = files_mp_new("b0undary", &cb, s);
    int rc = files_mp_feed(p, body, cut);
    if (rc == 0)
        rc = files_mp_feed(p, body + cut, len - cut);
    if (rc == 0)
        rc = files_mp_finish(p);
    files_mp_free(p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t len = size - 1, cut = len ? data[0] % (len + 1) : 0;
    const char *body = (const char *)data + 1;
    sink_t a = {malloc(len + 1), 0, len, 0}, b = {malloc(len + 1), 0, len, 0};
    int ra = run(body, len, len, &a), rb = run(body, len, cut, &b);

    if (ra != rb || (ra == 0 && (a.n != b.n || a.parts != b.parts || memcmp(a.out, b.out, a.n))))
        abort();
    free(a.out);
    free(b.out);
    char bd[FILES_MP_MAX_BOUNDARY + 1];
    char *ct = malloc(len + 1);
    memcpy(ct, body, len);
    ct[len] = '\0';
    files_mp_boundary(ct, bd);
    free(ct);
    return 0;
}
