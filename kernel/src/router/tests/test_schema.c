/* The JSON Schema subset: each keyword valid and invalid, error paths, compile errors. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "../schema.h"

void register_schema_tests(void);

typedef struct errs {
    int n;
    char where[64][128];
    char msg[64][160];
} errs_t;

static void
collect(void *ud, const char *where, const char *message)
{
    errs_t *e = ud;
    if (e->n < 64) {
        snprintf(e->where[e->n], sizeof e->where[0], "%s", where);
        snprintf(e->msg[e->n], sizeof e->msg[0], "%s", message);
    }
    e->n++;
}

static char cerr_buf[300];

static pnk_schema_t *
compile(const char *text)
{
    cerr_buf[0] = '\0';
    return pnk_schema_compile(text, cerr_buf, sizeof cerr_buf);
}

/* Number of problems for instance text against schema text; details in *e. */
static int
check(const char *schema, const char *instance, errs_t *e)
{
    errs_t local;
    if (!e)
        e = &local;
    memset(e, 0, sizeof *e);
    pnk_schema_t *s = compile(schema);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    json_t *j = json_loads(instance, JSON_DECODE_ANY, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    int rc = pnk_schema_validate(s, j, collect, e, 0);
    CU_ASSERT_EQUAL(rc, e->n);
    json_decref(j);
    pnk_schema_free(s);
    return rc;
}

static void
test_schema_type(void)
{
    CU_ASSERT_EQUAL(check("{\"type\":\"string\"}", "\"x\"", NULL), 0);
    CU_ASSERT_EQUAL(check("{\"type\":\"string\"}", "1", NULL), 1);
    CU_ASSERT_EQUAL(check("{\"type\":\"integer\"}", "3", NULL), 0);
    CU_ASSERT_EQUAL(check("{\"type\":\"integer\"}", "3.0", NULL), 0);
    CU_ASSERT_EQUAL(check("{\"type\":\"integer\"}", "3.5", NULL), 1);
    CU_ASSERT_EQUAL(check("{\"type\":\"number\"}", "3", NULL), 0);
    CU_ASSERT_EQUAL(check("{\"type\":\"number\"}", "3.5", NULL), 0);
    CU_ASSERT_EQUAL(check("{\"type\":\"number\"}", "\"3\"", NULL), 1);
    CU_ASSERT_EQUAL(check("{\"type\":\"boolean\"}", "false", NULL), 0);
    CU_ASSERT_EQUAL(check("{\"type\":\"boolean\"}", "0", NULL), 1);
    CU_ASSERT_EQUAL(check("{\"type\":\"null\"}", "null", NULL), 0);
    CU_ASSERT_EQUAL(check("{\"type\":\"array\"}", "{}", NULL), 1);
    CU_ASSERT_EQUAL(check("{\"type\":\"object\"}", "[]", NULL), 1);
    errs_t e;
    CU_ASSERT_EQUAL(check("{\"type\":[\"string\",\"null\"]}", "null", &e), 0);
    CU_ASSERT_EQUAL(check("{\"type\":[\"string\",\"null\"]}", "\"a\"", &e), 0);
    CU_ASSERT_EQUAL(check("{\"type\":[\"string\",\"null\"]}", "7", &e), 1);
    CU_ASSERT_STRING_EQUAL(e.where[0], "");
    CU_ASSERT_STRING_EQUAL(e.msg[0], "must be one of the types null, string");
    CU_ASSERT_EQUAL(check("{}", "[1,{\"a\":null}]", NULL), 0);
    CU_ASSERT_EQUAL(check("true", "1", NULL), 0);
    CU_ASSERT_EQUAL(check("false", "1", NULL), 1);
}

static void
test_schema_object_keywords_and_paths(void)
{
    const char *s = "{\"type\":\"object\",\"required\":[\"name\",\"items\"],"
                    "\"additionalProperties\":false,\"properties\":{"
                    "\"name\":{\"type\":\"string\",\"minLength\":1},"
                    "\"items\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
                    "\"required\":[\"id\"],\"properties\":{\"id\":{\"type\":\"integer\"}}}}}}";
    errs_t e;
    CU_ASSERT_EQUAL(check(s, "{\"name\":\"a\",\"items\":[{\"id\":1}]}", &e), 0);
    CU_ASSERT_EQUAL(check(s, "{\"items\":[{\"id\":1},{\"id\":2},{\"id\":3},{\"x\":1}]}", &e), 2);
    CU_ASSERT_STRING_EQUAL(e.where[0], "name");
    CU_ASSERT_STRING_EQUAL(e.msg[0], "is required");
    CU_ASSERT_STRING_EQUAL(e.where[1], "items/3/id");
    CU_ASSERT_STRING_EQUAL(e.msg[1], "is required");

    CU_ASSERT_EQUAL(check(s, "{\"name\":\"\",\"items\":[{\"id\":\"7\"}],\"extra\":1}", &e), 3);
    CU_ASSERT_STRING_EQUAL(e.where[0], "name");
    CU_ASSERT_STRING_EQUAL(e.where[1], "items/0/id");
    CU_ASSERT_STRING_EQUAL(e.msg[1], "must be of type integer");
    CU_ASSERT_STRING_EQUAL(e.where[2], "extra");
    CU_ASSERT_STRING_EQUAL(e.msg[2], "is not an allowed property");

    /* additionalProperties as a schema; keys with '/' and '~' are escaped as in JSON Pointer. */
    const char *s2 = "{\"additionalProperties\":{\"type\":\"integer\"}}";
    CU_ASSERT_EQUAL(check(s2, "{\"a\":1,\"b\":2}", &e), 0);
    CU_ASSERT_EQUAL(check(s2, "{\"a/b~c\":\"x\"}", &e), 1);
    CU_ASSERT_STRING_EQUAL(e.where[0], "a~1b~0c");
    /* Keywords for other types are ignored. */
    CU_ASSERT_EQUAL(check("{\"required\":[\"a\"],\"minLength\":3}", "[1]", &e), 0);
}

static void
test_schema_string_keywords(void)
{
    errs_t e;
    /* Lengths count code points: "héllo" is 5 characters in 6 bytes. */
    CU_ASSERT_EQUAL(check("{\"maxLength\":5}", "\"h\\u00e9llo\"", &e), 0);
    CU_ASSERT_EQUAL(check("{\"minLength\":6}", "\"h\\u00e9llo\"", &e), 1);
    CU_ASSERT_STRING_EQUAL(e.msg[0], "must be at least 6 characters long");
    CU_ASSERT_EQUAL(check("{\"maxLength\":1}", "\"\\ud83d\\ude00\"", &e), 0);
    CU_ASSERT_EQUAL(check("{\"maxLength\":2}", "\"abc\"", &e), 1);
    CU_ASSERT_STRING_EQUAL(e.msg[0], "must be at most 2 characters long");

    CU_ASSERT_EQUAL(check("{\"pattern\":\"^[a-z]+-[0-9]{2}$\"}", "\"abc-12\"", &e), 0);
    CU_ASSERT_EQUAL(check("{\"pattern\":\"^[a-z]+-[0-9]{2}$\"}", "\"secret-123\"", &e), 1);
    CU_ASSERT_STRING_EQUAL(e.msg[0], "does not match the required pattern");
    CU_ASSERT_PTR_NULL(strstr(e.msg[0], "secret"));
    /* Unanchored patterns search, as in JSON Schema. */
    CU_ASSERT_EQUAL(check("{\"pattern\":\"b+\"}", "\"abbc\"", &e), 0);
}

static void
test_schema_formats(void)
{
    static const struct {
        const char *format, *value;
        int problems;
    } cases[] = {
        {"uuid", "0190a5b2-7c1e-7d3f-9a4b-123456789abc", 0},
        {"uuid", "0190A5B2-7C1E-7D3F-9A4B-123456789ABC", 0},
        {"uuid", "0190a5b2-7c1e-7d3f-9a4b-123456789ab", 1},
        {"uuid", "0190a5b2x7c1e-7d3f-9a4b-123456789abc", 1},
        {"uuid", "g190a5b2-7c1e-7d3f-9a4b-123456789abc", 1},
        {"email", "joe.bloggs@example.com", 0},
        {"email", "te~st+tag@sub.example.org", 0},
        {"email", "user@localhost", 0},
        {"email", ".joe@example.com", 1},
        {"email", "joe.@example.com", 1},
        {"email", "jo..e@example.com", 1},
        {"email", "joe@-example.com", 1},
        {"email", "joe@example..com", 1},
        {"email", "joe@exa_mple.com", 1},
        {"email", "joeexample.com", 1},
        {"email", "@example.com", 1},
        {"email", "joe@", 1},
        {"date-time", "2024-02-29T12:30:00Z", 0},
        {"date-time", "2024-02-29t12:30:00.123456+05:30", 0},
        {"date-time", "1998-12-31T23:59:60Z", 0},
        {"date-time", "1998-12-31T15:59:60-08:00", 0},
        {"date-time", "1998-12-31T22:59:60Z", 1},
        {"date-time", "2023-02-29T12:30:00Z", 1},
        {"date-time", "2024-13-01T12:30:00Z", 1},
        {"date-time", "2024-01-01T24:00:00Z", 1},
        {"date-time", "2024-01-01T12:30:00", 1},
        {"date-time", "2024-01-01 12:30:00Z", 1},
        {"date-time", "2024-01-01T12:30:00.Z", 1},
        {"date-time", "2024-01-01T12:30:00+0530", 1},
        {"date-time", "2024-01-01", 1},
        {"uri", "https://example.com/a/b?c=d#frag", 0},
        {"uri", "urn:isbn:0451450523", 0},
        {"uri", "http://[2001:db8::1]:8080/x", 0},
        {"uri", "mailto:joe@example.com", 0},
        {"uri", "/relative/path", 1},
        {"uri", "https://exa mple.com", 1},
        {"uri", "https://example.com/%zz", 1},
        {"uri", "https://example.com/#a#b", 1},
        {"uri", "1http://example.com", 1},
    };
    char schema[64], inst[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        errs_t e;
        snprintf(schema, sizeof schema, "{\"format\":\"%s\"}", cases[i].format);
        snprintf(inst, sizeof inst, "\"%s\"", cases[i].value);
        int got = check(schema, inst, &e);
        if (got != cases[i].problems)
            fprintf(stderr, "format %s value %s: %d problems\n", cases[i].format, cases[i].value,
                    got);
        CU_ASSERT_EQUAL(got, cases[i].problems);
        if (got)
            CU_ASSERT_PTR_NULL(strstr(e.msg[0], cases[i].value));
    }
    /* Formats only apply to strings. */
    CU_ASSERT_EQUAL(check("{\"format\":\"uuid\"}", "12", NULL), 0);
}

static void
test_schema_numbers_enum_const_arrays(void)
{
    errs_t e;
    CU_ASSERT_EQUAL(check("{\"minimum\":1,\"maximum\":10}", "1", &e), 0);
    CU_ASSERT_EQUAL(check("{\"minimum\":1,\"maximum\":10}", "10.0", &e), 0);
    CU_ASSERT_EQUAL(check("{\"minimum\":1,\"maximum\":10}", "0.5", &e), 1);
    CU_ASSERT_STRING_EQUAL(e.msg[0], "must be at least 1");
    CU_ASSERT_EQUAL(check("{\"minimum\":1,\"maximum\":10.5}", "11", &e), 1);
    CU_ASSERT_STRING_EQUAL(e.msg[0], "must be at most 10.5");
    CU_ASSERT_EQUAL(check("{\"maximum\":9223372036854775807}", "9223372036854775807", &e), 0);
    CU_ASSERT_EQUAL(check("{\"maximum\":9223372036854775806}", "9223372036854775807", &e), 1);
    CU_ASSERT_EQUAL(check("{\"minimum\":1}", "\"0\"", &e), 0);

    CU_ASSERT_EQUAL(check("{\"enum\":[\"a\",1,null,{\"k\":[1]}]}", "\"a\"", &e), 0);
    CU_ASSERT_EQUAL(check("{\"enum\":[\"a\",1,null,{\"k\":[1]}]}", "1.0", &e), 0);
    CU_ASSERT_EQUAL(check("{\"enum\":[\"a\",1,null,{\"k\":[1]}]}", "{\"k\":[1.0]}", &e), 0);
    CU_ASSERT_EQUAL(check("{\"enum\":[\"a\",1,null,{\"k\":[1]}]}", "\"b\"", &e), 1);
    CU_ASSERT_STRING_EQUAL(e.msg[0], "must be one of the allowed values");
    CU_ASSERT_EQUAL(check("{\"enum\":[\"a\"]}", "{\"k\":[1,2]}", &e), 1);
    CU_ASSERT_EQUAL(check("{\"const\":{\"a\":true}}", "{\"a\":true}", &e), 0);
    CU_ASSERT_EQUAL(check("{\"const\":{\"a\":true}}", "{\"a\":false}", &e), 1);
    CU_ASSERT_EQUAL(check("{\"const\":null}", "0", &e), 1);

    CU_ASSERT_EQUAL(check("{\"minItems\":1,\"maxItems\":2}", "[1]", &e), 0);
    CU_ASSERT_EQUAL(check("{\"minItems\":1,\"maxItems\":2}", "[]", &e), 1);
    CU_ASSERT_STRING_EQUAL(e.msg[0], "must have at least 1 items");
    CU_ASSERT_EQUAL(check("{\"minItems\":1,\"maxItems\":2}", "[1,2,3]", &e), 1);
    CU_ASSERT_EQUAL(check("{\"items\":{\"type\":\"string\"}}", "[\"a\",2,\"c\",4]", &e), 2);
    CU_ASSERT_STRING_EQUAL(e.where[0], "1");
    CU_ASSERT_STRING_EQUAL(e.where[1], "3");
    CU_ASSERT_EQUAL(check("{\"items\":false}", "[]", &e), 0);
    CU_ASSERT_EQUAL(check("{\"items\":false}", "[0]", &e), 1);
}

static void
test_schema_annotations_accepted(void)
{
    CU_ASSERT_EQUAL(check("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
                          "\"title\":\"T\",\"description\":\"D\",\"$comment\":\"c\","
                          "\"default\":{\"x\":1},\"examples\":[1,\"two\"],\"type\":\"integer\"}",
                          "5", NULL),
                    0);
}

static void
test_schema_compile_errors(void)
{
    static const struct {
        const char *schema, *needle;
    } cases[] = {
        {"{\"type\":\"string\",\"nullable\":true}", "unknown keyword \"nullable\""},
        {"{\"properties\":{\"a\":{\"tpye\":\"string\"}}}", "schema at properties/a: unknown "
                                                           "keyword \"tpye\""},
        {"{\"type\":\"strin\"}", "type must be one of"},
        {"{\"type\":[]}", "empty array"},
        {"{\"type\":[\"string\",\"string\"]}", "twice"},
        {"{\"type\":7}", "type must be"},
        {"{\"properties\":[]}", "properties must be an object"},
        {"{\"required\":\"a\"}", "required must be an array"},
        {"{\"required\":[\"a\",\"a\"]}", "twice"},
        {"{\"required\":[1]}", "required must be an array of strings"},
        {"{\"additionalProperties\":1}", "object or a boolean"},
        {"{\"items\":[{}]}", "prefixItems"},
        {"{\"items\":{\"items\":{\"minimum\":\"1\"}}}", "schema at items/items: minimum must "
                                                        "be a number"},
        {"{\"enum\":[]}", "enum must be a non-empty array"},
        {"{\"minLength\":-1}", "non-negative integer"},
        {"{\"maxItems\":1.5}", "non-negative integer"},
        {"{\"pattern\":\"a(b\"}", "POSIX extended regular expression"},
        {"{\"pattern\":3}", "pattern must be a string"},
        {"{\"format\":\"ipv4\"}", "format must be one of"},
        {"{\"description\":3}", "description must be a string"},
        {"{\"$schema\":\"http://json-schema.org/draft-07/schema#\"}", "$schema must be"},
        {"{\"$ref\":\"#/x\"}", "unknown keyword \"$ref\""},
        {"[]", "object or a boolean"},
        {"{\"type\":\"string\"", "not valid JSON"},
        {"{\"type\":\"string\",\"type\":\"integer\"}", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pnk_schema_t *s = compile(cases[i].schema);
        CU_ASSERT_PTR_NULL(s);
        if (!strstr(cerr_buf, cases[i].needle))
            fprintf(stderr, "schema %s: got \"%s\"\n", cases[i].schema, cerr_buf);
        CU_ASSERT_PTR_NOT_NULL(strstr(cerr_buf, cases[i].needle));
        CU_ASSERT_PTR_NULL(strchr(cerr_buf, '\n'));
        pnk_schema_free(s);
    }
    CU_ASSERT_PTR_NULL(compile(NULL));

    /* Nesting is bounded at compile time. */
    char deep[2048] = "";
    size_t len = 0;
    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(deep + len, sizeof deep - len, "{\"items\":");
    len += (size_t)snprintf(deep + len, sizeof deep - len, "{}");
    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(deep + len, sizeof deep - len, "}");
    CU_ASSERT_PTR_NULL(compile(deep));
    CU_ASSERT_PTR_NOT_NULL(strstr(cerr_buf, "nested deeper"));
}

static void
test_schema_error_cap_and_json(void)
{
    pnk_schema_t *s = compile("{\"items\":{\"type\":\"string\"}}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    json_t *arr = json_array();
    for (int i = 0; i < 500; i++)
        json_array_append_new(arr, json_integer(i));
    errs_t e = {0};
    CU_ASSERT_EQUAL(pnk_schema_validate(s, arr, collect, &e, 0), 50);
    CU_ASSERT_EQUAL(e.n, 50);
    memset(&e, 0, sizeof e);
    CU_ASSERT_EQUAL(pnk_schema_validate(s, arr, collect, &e, 3), 3);
    CU_ASSERT_EQUAL(e.n, 3);
    CU_ASSERT_EQUAL(pnk_schema_validate(s, arr, NULL, NULL, 7), 7);
    CU_ASSERT_PTR_NOT_NULL(json_object_get(pnk_schema_json(s), "items"));
    json_decref(arr);
    pnk_schema_free(s);
    pnk_schema_free(NULL);
}

void
register_schema_tests(void)
{
    CU_pSuite s = CU_add_suite("schema", NULL, NULL);
    CU_add_test(s, "type", test_schema_type);
    CU_add_test(s, "object_keywords_and_paths", test_schema_object_keywords_and_paths);
    CU_add_test(s, "string_keywords", test_schema_string_keywords);
    CU_add_test(s, "formats", test_schema_formats);
    CU_add_test(s, "numbers_enum_const_arrays", test_schema_numbers_enum_const_arrays);
    CU_add_test(s, "annotations_accepted", test_schema_annotations_accepted);
    CU_add_test(s, "compile_errors", test_schema_compile_errors);
    CU_add_test(s, "error_cap_and_json", test_schema_error_cap_and_json);
}
