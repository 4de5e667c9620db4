/* Lists, child keys and the final check for settings that nobody declared. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void register_lists_tests(void);

static const pn_config_key_t x_keys[] = {{"x", PN_CFG_INT, "0", 0, 0, ""}, PN_CONFIG_END};

#define LIST_ENV "PNK_TEST_CONFIG_LIST"

/* Checks that items[0..n) are exactly the NULL-terminated `want`. */
static void
expect_items(const char *const *items, size_t n, const char *const *want)
{
    size_t k = 0;
    while (want[k])
        k++;
    CU_ASSERT_EQUAL(n, k);
    for (size_t i = 0; i < n && i < k; i++)
        EXPECT_STR(items[i], want[i]);
    CU_ASSERT_PTR_NULL(items[n]);
}

static void
test_lists(void)
{
    char err[512] = "";
    const char *const *items;
    size_t n;
    pnk_config_t *c = load("seq: [a, ' b ', '', c, ~]\n"
                           "block:\n"
                           "  - one\n"
                           "  - 'two, still two'\n"
                           "csv: ' a, b,,c , '\n"
                           "single: solo\n"
                           "nothing:\n"
                           "map:\n"
                           "  k: v\n"
                           "nested:\n"
                           "  - a\n"
                           "  - {k: v}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    unsetenv(LIST_ENV);

    CU_ASSERT_EQUAL(pnk_config_list(c, "seq", LIST_ENV, &items, &n, err, sizeof err), 0);
    expect_items(items, n, (const char *const[]){"a", "b", "c", NULL});
    CU_ASSERT_EQUAL(pnk_config_list(c, "block", NULL, &items, &n, err, sizeof err), 0);
    expect_items(items, n, (const char *const[]){"one", "two, still two", NULL});
    CU_ASSERT_EQUAL(pnk_config_list(c, "csv", NULL, &items, &n, err, sizeof err), 0);
    expect_items(items, n, (const char *const[]){"a", "b", "c", NULL});
    CU_ASSERT_EQUAL(pnk_config_list(c, "single", NULL, &items, &n, err, sizeof err), 0);
    expect_items(items, n, (const char *const[]){"solo", NULL});
    CU_ASSERT_EQUAL(pnk_config_list(c, "nothing", NULL, &items, &n, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(pnk_config_list(c, "absent.path", NULL, &items, &n, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_PTR_NULL(items[0]);

    CU_ASSERT_EQUAL(pnk_config_list(c, "map", NULL, &items, &n, err, sizeof err), -1);
    EXPECT_STR(err, "t.yaml:8: map: expected a list, found a mapping");
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(pnk_config_list(c, "nested", NULL, &items, &n, err, sizeof err), -1);
    EXPECT_STR(err, "t.yaml:12: nested: list items must be single values, found a mapping");

    /* The environment replaces the file, even when the file's node is not a list. */
    setenv(LIST_ENV, "x, y ,, z", 1);
    CU_ASSERT_EQUAL(pnk_config_list(c, "seq", LIST_ENV, &items, &n, err, sizeof err), 0);
    expect_items(items, n, (const char *const[]){"x", "y", "z", NULL});
    CU_ASSERT_EQUAL(pnk_config_list(c, "map", LIST_ENV, &items, &n, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(pnk_config_list(c, "absent", LIST_ENV, &items, &n, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n, 3);
    setenv(LIST_ENV, " , ,", 1);
    CU_ASSERT_EQUAL(pnk_config_list(c, "seq", LIST_ENV, &items, &n, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n, 0);
    /* Empty counts as unset. */
    setenv(LIST_ENV, "", 1);
    CU_ASSERT_EQUAL(pnk_config_list(c, "seq", LIST_ENV, &items, &n, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n, 3);
    unsetenv(LIST_ENV);
    pnk_config_free(c);
}

static void
test_keys(void)
{
    const char *const *keys;
    size_t n;
    pnk_config_t *c = load("plugins:\n  enabled: [a]\n  files: {}\n  ai:\n    x: 1\nname: x\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(pnk_config_keys(c, "plugins", &keys, &n), 0);
    expect_items(keys, n, (const char *const[]){"enabled", "files", "ai", NULL});
    CU_ASSERT_EQUAL(pnk_config_keys(c, NULL, &keys, &n), 0);
    expect_items(keys, n, (const char *const[]){"plugins", "name", NULL});
    CU_ASSERT_EQUAL(pnk_config_keys(c, "plugins.files", &keys, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(pnk_config_keys(c, "nope", &keys, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(pnk_config_keys(c, "name", &keys, &n), -1);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(pnk_config_keys(c, "plugins.enabled", &keys, &n), -1);
    pnk_config_free(c);
}

/* Loads yaml, declares each section in `sections` (no keys but "x"), runs check_unknown. */
static int
check(const char *yaml, const char *const *sections, const char *const *known, char *err,
      size_t errlen)
{
    pnk_config_t *c = load(yaml);
    int rc = c ? 0 : -1;
    for (size_t i = 0; rc == 0 && sections && sections[i]; i++) {
        rc = pnk_config_declare(c, sections[i], x_keys, sizeof x_keys[0], NULL, err, errlen);
        if (rc != 0)
            fprintf(stderr, "\n  declare %s failed: %s\n", sections[i], err);
    }
    CU_ASSERT_EQUAL(rc, 0);
    if (rc == 0)
        rc = pnk_config_check_unknown(c, known, err, errlen);
    pnk_config_free(c);
    return rc;
}

static void
test_check_unknown_top_level(void)
{
    char err[512] = "";
    static const char *const http[] = {"http", NULL};
    static const char *const known[] = {"worker", NULL};

    CU_ASSERT_EQUAL(check("http:\n  x: 1\n", http, NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(check("http:\n  x: 1\nhtpp:\n  x: 2\n", http, NULL, err, sizeof err), -1);
    EXPECT_STR(err, "t.yaml:3: htpp: unknown setting");
    CU_ASSERT_EQUAL(check("debug: true\n", NULL, NULL, err, sizeof err), -1);
    EXPECT_STR(err, "t.yaml:1: debug: unknown setting");
    CU_ASSERT_EQUAL(check("worker:\n  queues: [a]\nhttp: {}\n", http, known, err, sizeof err), 0);

    /* A mapping under a declared section is a sub-section: declared, or unknown. */
    CU_ASSERT_EQUAL(check("http:\n  x: 1\n  tls:\n    cert: c\n", http, NULL, err, sizeof err), -1);
    EXPECT_STR(err, "t.yaml:3: http.tls: unknown setting");
    CU_ASSERT_EQUAL(check("http:\n  x: 1\n  tls:\n    x: 2\n",
                          (const char *const[]){"http", "http.tls", NULL}, NULL, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(check("http:\n  tls:\n    cert: c\n", http,
                          (const char *const[]){"http.tls", NULL}, err, sizeof err),
                    0);

    /* The first component of a declared section is allowed; its other children are not. */
    static const char *const jwt[] = {"auth.jwt", NULL};
    CU_ASSERT_EQUAL(check("auth:\n  jwt:\n    x: 1\n", jwt, NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(check("auth:\n  jwt:\n    x: 1\n  bogus: 1\n", jwt, NULL, err, sizeof err), -1);
    EXPECT_STR(err, "t.yaml:4: auth.bogus: unknown setting");
    /* Declared sections are checked however deep they sit. */
    CU_ASSERT_EQUAL(
        check("auth:\n  jwt:\n    x: 1\n    keys:\n      a: 1\n", jwt, NULL, err, sizeof err), -1);
    EXPECT_STR(err, "t.yaml:4: auth.jwt.keys: unknown setting");

    /* Dotted keys would be read by nobody. */
    CU_ASSERT_EQUAL(check("http.x: 1\n", http, NULL, err, sizeof err), -1);
    EXPECT_STR(err, "t.yaml:1: http.x: a key may not contain '.'; nest the mapping");
}

static void
test_check_unknown_plugins(void)
{
    char err[512] = "";
    static const char *const files[] = {"plugins.files", NULL};
    const char *yaml = "plugins:\n"
                       "  enabled: [files]\n"
                       "  files:\n"
                       "    x: 1\n"
                       "  fles:\n"
                       "    x: 2\n";

    CU_ASSERT_EQUAL(check(yaml, files, NULL, err, sizeof err), -1);
    EXPECT_STR(err, "t.yaml:5: plugins.fles: no such plugin is loaded");
    /* A disabled plugin's settings may be listed as known (by name or by path). */
    CU_ASSERT_EQUAL(check(yaml, files, (const char *const[]){"fles", NULL}, err, sizeof err), 0);
    CU_ASSERT_EQUAL(
        check(yaml, files, (const char *const[]){"plugins.fles", NULL}, err, sizeof err), 0);
    /* Scalars and lists under plugins are not plugins. */
    CU_ASSERT_EQUAL(
        check("plugins:\n  enabled: [files]\n  dir: /x\n", files, NULL, err, sizeof err), 0);
    /* Without any plugin declared, "plugins" itself is unknown. */
    CU_ASSERT_EQUAL(check("plugins:\n  files:\n    x: 1\n", NULL, NULL, err, sizeof err), -1);
    EXPECT_STR(err, "t.yaml:1: plugins: unknown setting");
    /* With "plugins" declared as a section (plugins.dir, ...) the rule is the same. */
    pnk_config_t *c = load("plugins:\n  dir: /x\n  ai:\n    x: 1\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    static const pn_config_key_t dir_keys[] = {{"dir", PN_CFG_STRING, "", 0, 0, ""}, PN_CONFIG_END};
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "plugins", dir_keys, sizeof dir_keys[0], NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_config_check_unknown(c, NULL, err, sizeof err), -1);
    EXPECT_STR(err, "t.yaml:3: plugins.ai: no such plugin is loaded");
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "plugins.ai", x_keys, sizeof x_keys[0], NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_config_check_unknown(c, NULL, err, sizeof err), 0);
    pnk_config_free(c);
}

void
register_lists_tests(void)
{
    CU_pSuite s = CU_add_suite("config_lists_and_unknown", NULL, NULL);
    CU_add_test(s, "lists from sequences, commas and env", test_lists);
    CU_add_test(s, "child keys", test_keys);
    CU_add_test(s, "check_unknown: top level and sub-sections", test_check_unknown_top_level);
    CU_add_test(s, "check_unknown: plugins", test_check_unknown_plugins);
}
