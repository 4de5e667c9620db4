/* The rules deciding who sees an event: channel names and their permissions, type names,
 * stream ids, the subscriber filter, and the SSE block made from a backlog entry. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "../events_int.h"

void register_rules_tests(void);

static void
test_channels(void)
{
    char buf[96];

    CU_ASSERT_TRUE(pnk_events_channel_valid("system"));
    CU_ASSERT_TRUE(pnk_events_channel_valid("audit"));
    CU_ASSERT_TRUE(pnk_events_channel_valid("hello.greetings"));
    CU_ASSERT_TRUE(pnk_events_channel_valid("files.upload_jobs2"));
    const char *bad[] = {"",
                         "hello",
                         "Hello.greetings",
                         "hello.",
                         ".greetings",
                         "hello.greet.x",
                         "hello.gr-eet",
                         "1hello.x",
                         "hello._x",
                         "hello. x",
                         "hello.x\n",
                         "a.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                         NULL};
    for (const char **b = bad; *b; b++) {
        CU_ASSERT_FALSE(pnk_events_channel_valid(*b));
        CU_ASSERT_PTR_NULL(pnk_events_channel_perm(*b, buf, sizeof buf));
    }
    CU_ASSERT_FALSE(pnk_events_channel_valid(NULL));
    CU_ASSERT_STRING_EQUAL(pnk_events_channel_perm("system", buf, sizeof buf), "admin.system.read");
    CU_ASSERT_STRING_EQUAL(pnk_events_channel_perm("audit", buf, sizeof buf),
                           "admin.audit_logs.read");
    CU_ASSERT_STRING_EQUAL(pnk_events_channel_perm("hello.greetings", buf, sizeof buf),
                           "hello.greetings.read");
    CU_ASSERT_PTR_NULL(pnk_events_channel_perm("hello.greetings", buf, 10)); /* too small */
}

static void
test_types(void)
{
    CU_ASSERT_TRUE(pnk_events_type_valid("created"));
    CU_ASSERT_TRUE(pnk_events_type_valid("audit_log.created"));
    CU_ASSERT_TRUE(pnk_events_type_valid("job-2.done"));
    CU_ASSERT_FALSE(pnk_events_type_valid(""));
    CU_ASSERT_FALSE(pnk_events_type_valid(NULL));
    CU_ASSERT_FALSE(pnk_events_type_valid("Created"));
    CU_ASSERT_FALSE(pnk_events_type_valid("a b"));
    CU_ASSERT_FALSE(pnk_events_type_valid("a\nb"));
}

static void
test_ids(void)
{
    pnk_event_id_t a, b;

    CU_ASSERT_EQUAL(pnk_event_id_parse("1700000000000-0", &a), 0);
    CU_ASSERT_EQUAL(a.ms, 1700000000000ULL);
    CU_ASSERT_EQUAL(a.seq, 0);
    CU_ASSERT_EQUAL(pnk_event_id_parse("1700000000000-12", &b), 0);
    CU_ASSERT(pnk_event_id_cmp(&a, &b) < 0);
    CU_ASSERT(pnk_event_id_cmp(&b, &a) > 0);
    CU_ASSERT_EQUAL(pnk_event_id_cmp(&a, &a), 0);
    CU_ASSERT_EQUAL(pnk_event_id_parse("1700000000001-0", &b), 0);
    CU_ASSERT(pnk_event_id_cmp(&a, &b) < 0);
    const char *bad[] = {
        "",  "-", "1-", "-1", "1", "a-1", "1-a", "1--1", "+1-1", "1-1 ", "99999999999999999999-0",
        NULL};
    for (const char **s = bad; *s; s++)
        CU_ASSERT_EQUAL(pnk_event_id_parse(*s, &a), -1);
    CU_ASSERT_EQUAL(pnk_event_id_parse(NULL, &a), -1);
}

static void
test_filter(void)
{
    const char *perms[] = {"events.stream.read", "hello.greetings.read"}; /* sorted */
    const char *chans[] = {"hello.greetings", "audit"};
    pnk_events_filter_t f = {"acct-a", false, perms, 2, NULL, 0};

    CU_ASSERT_TRUE(pnk_events_visible(&f, "acct-a", "hello.greetings", "hello.greetings.read"));
    /* another account, whatever the permissions */
    CU_ASSERT_FALSE(pnk_events_visible(&f, "acct-b", "hello.greetings", "hello.greetings.read"));
    f.all_perms = true;
    CU_ASSERT_FALSE(pnk_events_visible(&f, "acct-b", "hello.greetings", "hello.greetings.read"));
    CU_ASSERT_TRUE(pnk_events_visible(&f, "acct-a", "audit", "admin.audit_logs.read"));
    f.all_perms = false;
    /* a permission not held */
    CU_ASSERT_FALSE(pnk_events_visible(&f, "acct-a", "audit", "admin.audit_logs.read"));
    /* the selection */
    f.channels = chans;
    f.nchannels = 1;
    CU_ASSERT_TRUE(pnk_events_visible(&f, "acct-a", "hello.greetings", "hello.greetings.read"));
    f.channels = chans + 1;
    CU_ASSERT_FALSE(pnk_events_visible(&f, "acct-a", "hello.greetings", "hello.greetings.read"));
    CU_ASSERT_FALSE(pnk_events_visible(&f, "acct-a", NULL, "x.y.read"));
    CU_ASSERT_FALSE(pnk_events_visible(&f, NULL, "hello.greetings", "hello.greetings.read"));
    f.nperms = 0;
    f.nchannels = 0;
    CU_ASSERT_FALSE(pnk_events_visible(&f, "acct-a", "hello.greetings", "hello.greetings.read"));
}

static void
test_sse_from_entry(void)
{
    size_t n = 0;
    const char payload[] = "{\"channel\":\"audit\",\"data\":{\"a\":1}}";
    char *t = pnk_events_sse_from_entry("5-1", payload, strlen(payload), &n);

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(t, "id: 5-1\ndata: {\"id\":\"5-1\",\"channel\":\"audit\","
                              "\"data\":{\"a\":1}}\n\n");
    CU_ASSERT_EQUAL(n, strlen(t));
    free(t);
    /* A line break would split the data line: refused. */
    CU_ASSERT_PTR_NULL(pnk_events_sse_from_entry("5-1", "{\"a\":\"x\ny\"}", 11, &n));
    CU_ASSERT_PTR_NULL(pnk_events_sse_from_entry("5-1\n", payload, strlen(payload), &n));
    CU_ASSERT_PTR_NULL(pnk_events_sse_from_entry("5-1", "[]", 2, &n));
    CU_ASSERT_PTR_NULL(pnk_events_sse_from_entry("5-1", "{", 1, &n));
}

void
register_rules_tests(void)
{
    CU_pSuite s = CU_add_suite("events_rules", NULL, NULL);
    CU_add_test(s, "channels and their permissions", test_channels);
    CU_add_test(s, "event types", test_types);
    CU_add_test(s, "stream ids", test_ids);
    CU_add_test(s, "subscriber filter", test_filter);
    CU_add_test(s, "SSE block from a backlog entry", test_sse_from_entry);
}
