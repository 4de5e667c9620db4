/* Payload decoding: good jobs, and every kind of bad job gets a reason (never a crash). */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"
#include "suites.h"

static int
decode(const char *s, pnw_payload_t *p, char *why, size_t n)
{
    return pnw_payload_decode(s, strlen(s), 524288, 64, p, why, n);
}

static void
test_good(void)
{
    pnw_payload_t p;
    char why[256];
    const char *s =
        "{\"retry\":3,\"queue\":\"critical\",\"class\":\"HardWorker\",\"args\":[\"bob\","
        "5,{\"k\":\"v\"}],\"jid\":\"28e42e3c8df5e3129ca31519\",\"created_at\":"
        "1795751114.466971,\"enqueued_at\":1795751114.4673615}";
    CU_ASSERT_EQUAL_FATAL(decode(s, &p, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(p.job_class, "HardWorker");
    CU_ASSERT_STRING_EQUAL(p.queue, "critical");
    CU_ASSERT_STRING_EQUAL(p.jid, "28e42e3c8df5e3129ca31519");
    CU_ASSERT_EQUAL(p.retry, 3);
    CU_ASSERT_EQUAL(p.retry_count, -1);
    CU_ASSERT_EQUAL(json_array_size(p.args), 3);
    char *f = pnw_payload_failed(&p, "PnJobError", "boom", 1795751124.5, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(f, "\"error_message\":\"boom\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(f, "\"retry_count\":0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f, "\"failed_at\":"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f, "\"jid\":\"28e42e3c8df5e3129ca31519\""));
    pnw_payload_clear(&p);
    /* The failed payload decodes again, now with a retry_count: the next failure is
     * retried_at. */
    CU_ASSERT_EQUAL_FATAL(decode(f, &p, why, sizeof why), 0);
    CU_ASSERT_EQUAL(p.retry_count, 0);
    char *g = pnw_payload_failed(&p, "PnJobError", "again", 1795751140, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(g, "\"retried_at\":"));
    free(f);
    free(g);
    pnw_payload_clear(&p);
    /* retry true / false / absent. */
    CU_ASSERT_EQUAL(
        decode("{\"class\":\"A\",\"args\":[],\"jid\":\"x\",\"retry\":false}", &p, why, sizeof why),
        0);
    CU_ASSERT_EQUAL(p.retry, PNW_RETRY_DISCARD);
    pnw_payload_clear(&p);
    CU_ASSERT_EQUAL(decode("{\"class\":\"A::B\",\"args\":[],\"jid\":\"x\"}", &p, why, sizeof why),
                    0);
    CU_ASSERT_EQUAL(p.retry, PNW_RETRY_CLASS);
    CU_ASSERT_PTR_NULL(p.queue);
    pnw_payload_clear(&p);
}

static void
expect_bad(const char *s, size_t len, const char *needle)
{
    pnw_payload_t p;
    char why[256] = "";
    int rc = pnw_payload_decode(s, len, 4096, 64, &p, why, sizeof why);
    CU_ASSERT_EQUAL(rc, -1);
    if (rc == 0)
        pnw_payload_clear(&p);
    if (!strstr(why, needle))
        fprintf(stderr, "\n  reason \"%s\" lacks \"%s\"\n", why, needle);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, needle));
    /* And the bytes can always be wrapped for the dead set. */
    char *w = pnw_payload_wrap_bad(s, len, "default", why, 1.5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    json_t *o = json_loads(w, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL(o);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "error_class")), "PnBadPayload");
    CU_ASSERT_EQUAL(json_string_length(json_object_get(o, "jid")), 24);
    json_decref(o);
    free(w);
}

#define BAD(s, n) expect_bad(s, sizeof(s) - 1, n)

static void
test_bad(void)
{
    BAD("", "not valid JSON");
    BAD("nope", "not valid JSON");
    BAD("[1,2]", "not a JSON object");
    BAD("{\"args\":[],\"jid\":\"x\"}", "no string \"class\"");
    BAD("{\"class\":\"A B\",\"args\":[],\"jid\":\"x\"}", "\"class\" must be");
    BAD("{\"class\":\"A\",\"args\":{},\"jid\":\"x\"}", "no \"args\" array");
    BAD("{\"class\":\"A\",\"args\":[]}", "\"jid\"");
    BAD("{\"class\":\"A\",\"args\":[],\"jid\":\"x\",\"retry\":\"5\"}", "\"retry\" must be");
    BAD("{\"class\":\"A\",\"args\":[],\"jid\":\"x\",\"retry\":-1}", "\"retry\" must be");
    BAD("{\"class\":\"A\",\"args\":[],\"jid\":\"x\",\"queue\":7}", "\"queue\"");
    BAD("{\"class\":\"A\",\"args\":[],\"jid\":\"x\",\"retry_count\":-3}", "retry_count");
    BAD("{\"class\":\"A\",\"class\":\"B\",\"args\":[],\"jid\":\"x\"}", "not valid JSON");
    BAD("{\"class\":\"\xff\xfe\",\"args\":[],\"jid\":\"x\"}", "not valid JSON");
    BAD("{\"class\":\"A\",\"args\":[\"\xc3\x28\"],\"jid\":\"x\"}", "not valid JSON");
    /* Deep nesting is refused before parsing. */
    char *deep = malloc(2001);
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    deep[2000] = '\0';
    expect_bad(deep, 2000, "nested deeper than 64");
    free(deep);
    /* Too large. */
    char *big = malloc(5000);
    memset(big, ' ', 5000);
    expect_bad(big, 5000, "over the limit of 4096");
    free(big);
}

static void
test_args(void)
{
    char why[200];
    json_t *a = json_loads("[\"s\", 3, 2.5, true, {}, []]", 0, NULL);
    CU_ASSERT_EQUAL(pnw_args_check("sinboa", a, why, sizeof why), 0);
    CU_ASSERT_EQUAL(pnw_args_check(NULL, a, why, sizeof why), 0);
    CU_ASSERT_EQUAL(pnw_args_check("******", a, why, sizeof why), 0);
    CU_ASSERT_EQUAL(pnw_args_check("ssnboa", a, why, sizeof why), -1);
    CU_ASSERT_STRING_EQUAL(why, "argument 2 must be a string, got an integer");
    CU_ASSERT_EQUAL(pnw_args_check("si", a, why, sizeof why), -1);
    CU_ASSERT_STRING_EQUAL(why, "expected 2 arguments, got 6");
    CU_ASSERT_EQUAL(pnw_args_check("s?inboa*", a, why, sizeof why), 0);
    CU_ASSERT_EQUAL(pnw_args_check("s?i", a, why, sizeof why), -1);
    CU_ASSERT_STRING_EQUAL(why, "expected 1 to 2 arguments, got 6");
    json_decref(a);
    a = json_array();
    CU_ASSERT_EQUAL(pnw_args_check("?s", a, why, sizeof why), 0);
    CU_ASSERT_EQUAL(pnw_args_check("", a, why, sizeof why), 0);
    CU_ASSERT_EQUAL(pnw_args_check("i", a, why, sizeof why), -1);
    json_decref(a);
}

void
add_payload_tests(void)
{
    CU_pSuite s = CU_add_suite("payload", NULL, NULL);
    CU_add_test(s, "Sidekiq payloads decode and fail like Sidekiq's", test_good);
    CU_add_test(s, "bad payloads get a reason and a dead-set entry", test_bad);
    CU_add_test(s, "argument signatures", test_args);
}
