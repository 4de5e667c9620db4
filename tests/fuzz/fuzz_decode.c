/*
 * libFuzzer target for the router area's decoders: JSON body decoding (then schema validation
 * and a dump/decode round trip of what was accepted), query-string parsing and percent-decoding.
 * Input: one control byte (depth limit, max pairs), then the bytes to decode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static const char *const schema_texts[] = {
    "{\"type\":\"object\",\"required\":[\"name\"],\"additionalProperties\":false,"
    "\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":8,"
    "\"pattern\":\"^[a-z]+$\"},\"tags\":{\"type\":\"array\",\"maxItems\":3,\"items\":"
    "{\"enum\":[\"a\",1,null]}},\"id\":{\"type\":[\"string\",\"null\"],\"format\":\"uuid\"},"
    "\"n\":{\"type\":\"integer\",\"minimum\":-5,\"maximum\":5.5}}}",
    "{\"items\":{\"additionalProperties\":{\"format\":\"date-time\"},\"properties\":{"
    "\"e\":{\"format\":\"email\"},\"u\":{\"format\":\"uri\"},\"c\":{\"const\":[1,{\"a\":2}]}}}}",
};
#define NSCHEMAS (sizeof schema_texts / sizeof schema_texts[0])
static pnk_schema_t *schemas[NSCHEMAS];

static void
noop(void *ud, const char *where, const char *message)
{
    (void)ud;
    CHECK(where && message && message[0]);
}

static void
fuzz_json(const char *buf, size_t len, int depth)
{
    char err[256];
    json_t *j = pnk_json_decode(buf, len, depth, err, sizeof err);
    if (!j) {
        CHECK(err[0] != '\0');
        return;
    }
    for (size_t i = 0; i < NSCHEMAS; i++) {
        int n = pnk_schema_validate(schemas[i], j, noop, NULL, 5);
        CHECK(n >= 0 && n <= 5);
    }
    /* What we accepted must survive a round trip unchanged. */
    char *text = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    if (text) {
        json_t *again = pnk_json_decode(text, strlen(text), depth, err, sizeof err);
        CHECK(again && json_equal(j, again));
        json_decref(again);
        free(text);
    }
    json_decref(j);
}

static void
fuzz_text(const char *s, size_t n, size_t max_pairs)
{
    pnk_arena_t *a = pnk_arena_new(0);
    CHECK(a);
    size_t escapes = 0;
    for (size_t i = 0; i < n; i++)
        escapes += s[i] == '%';
    for (int plus = 0; plus < 2; plus++) {
        char *out = pnk_percent_decode(a, s, n, plus);
        if (out)
            CHECK(strlen(out) == n - 2 * escapes);
    }

    pnk_query_pair_t *pairs;
    size_t npairs = 99;
    if (pnk_query_parse(a, s, max_pairs, &pairs, &npairs) == 0) {
        CHECK(npairs <= max_pairs);
        for (size_t i = 0; i < npairs; i++)
            CHECK(pairs[i].key && pairs[i].value);
    } else {
        CHECK(npairs == 0);
    }
    pnk_arena_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    if (!schemas[0])
        for (size_t i = 0; i < NSCHEMAS; i++)
            CHECK((schemas[i] = pnk_schema_compile(schema_texts[i], err, sizeof err)));
    if (size < 1)
        return 0;
    int depth = 1 + data[0] % 64;
    size_t max_pairs = data[0] % 16;
    size_t n = size - 1;

    /* A copy of exactly n bytes, so ASan sees any read past the end. */
    char *buf = malloc(n ? n : 1);
    CHECK(buf);
    memcpy(buf, data + 1, n);
    fuzz_json(buf, n, depth);
    free(buf);

    char *text = malloc(n + 1);
    CHECK(text);
    memcpy(text, data + 1, n);
    text[n] = '\0';
    fuzz_text(text, strlen(text), max_pairs);
    free(text);
    return 0;
}
