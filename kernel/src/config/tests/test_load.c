/* Loading: the tree, lines, raw values, the parser's refusals and limits, real files. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void register_load_tests(void);

static void
test_tree_raw_and_lines(void)
{
    pnk_config_t *c = load("# comment\n"
                           "http:\n"
                           "  port: 8080\n"
                           "  host: '127.0.0.1'\n"
                           "  empty:\n"
                           "  quoted_empty: \"\"\n"
                           "plugins:\n"
                           "  files:\n"
                           "    bucket: uploads\n");
    if (c == NULL)
        return;
    EXPECT_STR(pnk_config_raw(c, "http.port"), "8080");
    EXPECT_STR(pnk_config_raw(c, "http.host"), "127.0.0.1");
    EXPECT_STR(pnk_config_raw(c, "plugins.files.bucket"), "uploads");
    EXPECT_STR(pnk_config_raw(c, "http.quoted_empty"), "");
    CU_ASSERT_PTR_NULL(pnk_config_raw(c, "http.empty")); /* YAML null */
    CU_ASSERT_PTR_NULL(pnk_config_raw(c, "http"));       /* a mapping */
    CU_ASSERT_PTR_NULL(pnk_config_raw(c, "http.nope"));
    CU_ASSERT_PTR_NULL(pnk_config_raw(c, "http."));
    CU_ASSERT_PTR_NULL(pnk_config_raw(c, "http.port.x"));
    CU_ASSERT_EQUAL(pnk_config_line(c, "http"), 2);
    CU_ASSERT_EQUAL(pnk_config_line(c, "http.port"), 3);
    CU_ASSERT_EQUAL(pnk_config_line(c, "http.empty"), 5);
    CU_ASSERT_EQUAL(pnk_config_line(c, "plugins.files.bucket"), 9);
    CU_ASSERT_EQUAL(pnk_config_line(c, "plugins.nope"), 0);
    CU_ASSERT_EQUAL(pnk_config_line(c, ""), 0);
    EXPECT_STR(pnk_config_file(c), "t.yaml");
    pnk_config_free(c);
}

static void
test_empty_documents(void)
{
    const char *empties[] = {"", "# only a comment\n", "---\n", "~\n", "---\n...\n"};

    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        pnk_config_t *c = load(empties[i]);
        const char *const *keys;
        size_t n = 99;
        CU_ASSERT_EQUAL(pnk_config_keys(c, NULL, &keys, &n), 0);
        CU_ASSERT_EQUAL(n, 0);
        CU_ASSERT_PTR_NULL(keys[0]);
        CU_ASSERT_EQUAL(pnk_config_check_unknown(c, NULL, NULL, 0), 0);
        pnk_config_free(c);
    }
    /* No file at all. */
    char err[256];
    pnk_config_t *c = pnk_config_load(NULL, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    EXPECT_STR(pnk_config_file(c), "(defaults)");
    CU_ASSERT_PTR_NULL(pnk_config_raw(c, "http.port"));
    pnk_config_free(c);
}

static void
test_top_level_must_be_mapping(void)
{
    EXPECT_LOAD_ERROR("- a\n- b\n",
                      "t.yaml:1: the top level must be a mapping of settings, not a sequence");
    EXPECT_LOAD_ERROR("\n\nhello\n",
                      "t.yaml:3: the top level must be a mapping of settings, not a scalar");
}

static void
test_duplicate_keys(void)
{
    EXPECT_LOAD_ERROR("http:\n  port: 1\n  host: x\n  port: 2\n",
                      "t.yaml:4: http.port: duplicate key (first set on line 2)");
    EXPECT_LOAD_ERROR("a: 1\nb: 2\na: 3\na: 4\n",
                      "t.yaml:3: a: duplicate key (first set on line 1)");
    /* The earliest duplicate is reported even when another key sorts first. */
    EXPECT_LOAD_ERROR("z: 1\nz: 2\na: 1\na: 2\n",
                      "t.yaml:2: z: duplicate key (first set on line 1)");
    EXPECT_LOAD_ERROR("list:\n  - {x: 1, x: 2}\n",
                      "t.yaml:2: list[0].x: duplicate key (first set on line 2)");
    /* Same key in different mappings is fine. */
    pnk_config_t *c = load("a:\n  x: 1\nb:\n  x: 2\n");
    pnk_config_free(c);
}

static void
test_anchors_aliases_tags_refused(void)
{
    EXPECT_LOAD_ERROR("base: &b\n  x: 1\nother: *b\n",
                      "t.yaml:1: anchors and aliases are not allowed (&b)");
    EXPECT_LOAD_ERROR("a: &x 1\n", "t.yaml:1: anchors and aliases are not allowed (&x)");
    EXPECT_LOAD_ERROR("a: *x\n", "t.yaml:1: anchors and aliases are not allowed (*x)");
    /* The classic billion-laughs file stops at its first anchor. */
    EXPECT_LOAD_ERROR("a: &a [\"lol\",\"lol\",\"lol\"]\n"
                      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
                      "t.yaml:1: anchors and aliases are not allowed (&a)");
    EXPECT_LOAD_ERROR("a: !!str 5\n", "t.yaml:1: tags are not allowed (tag:yaml.org,2002:str)");
    EXPECT_LOAD_ERROR("a: !custom {x: 1}\n", "t.yaml:1: tags are not allowed (!custom)");
}

static void
test_depth_cap(void)
{
    /* The root mapping is level 1, so 31 nested sequences fit and 32 do not. */
    char ok[128], deep[128];
    snprintf(ok, sizeof ok, "a: %.*s1%.*s\n", 31, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 31,
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    snprintf(deep, sizeof deep, "a: %.*s1%.*s\n", 32, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 32,
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    pnk_config_t *c = load(ok);
    pnk_config_free(c);
    EXPECT_LOAD_ERROR(deep, "t.yaml:1: nested deeper than 32 levels");
}

static void
test_node_cap(void)
{
    /* 100,000 items plus the root, the key and the sequence: over the cap by 3. */
    size_t items = 100000, len = 3 + items * 4;
    char *y = malloc(len + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    memcpy(y, "a:\n", 3);
    for (size_t i = 0; i < items; i++)
        memcpy(y + 3 + i * 4, "- 1\n", 4);
    y[len] = '\0';
    /* Node 100,001 is item 99,998, on line 99,999. */
    EXPECT_LOAD_ERROR(y, "t.yaml:99999: more than 100000 nodes");
    /* 99,990 items fit. */
    y[3 + 99990 * 4] = '\0';
    pnk_config_t *c = load(y);
    pnk_config_free(c);
    free(y);
}

static void
test_syntax_and_other_refusals(void)
{
    EXPECT_LOAD_ERROR("http:\n  port: 1\n bad\n",
                      "t.yaml:3:2: did not find expected key (while parsing a block mapping)");
    EXPECT_LOAD_ERROR("a: [1, 2\n",
                      "t.yaml:2:1: did not find expected ',' or ']' (while parsing a flow "
                      "sequence)");
    EXPECT_LOAD_ERROR("a: 1\n---\nb: 2\n", "t.yaml:2: only one YAML document is allowed");
    EXPECT_LOAD_ERROR("a: \"x\\0y\"\n", "t.yaml:1: a value contains a NUL character");
    EXPECT_LOAD_ERROR("? [a]\n: 1\n",
                      "t.yaml:1: mapping keys must be plain values, not a sequence");
    EXPECT_LOAD_ERROR("a: \"\x01\"\n", "t.yaml: control characters are not allowed at byte 4");

    char err[128];
    CU_ASSERT_PTR_NULL(pnk_config_load_string(NULL, 5, "t.yaml", err, sizeof err));
    EXPECT_STR(err, "t.yaml: no text given");
    /* A NULL err buffer is allowed. */
    CU_ASSERT_PTR_NULL(pnk_config_load_string("- a", 3, NULL, NULL, 0));
}

static void
test_size_cap_from_string(void)
{
    size_t len = ((size_t)1 << 20) + 1;
    char *y = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    memset(y, '#', len);
    char err[256];
    CU_ASSERT_PTR_NULL(pnk_config_load_string(y, len, "big.yaml", err, sizeof err));
    EXPECT_STR(err, "big.yaml: larger than the limit of 1048576 bytes");
    /* Exactly 1 MiB of comment is fine. */
    pnk_config_t *c = pnk_config_load_string(y, len - 1, "big.yaml", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(c);
    pnk_config_free(c);
    free(y);
}

static int
write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t w = fwrite(text, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : -1;
}

static void
test_real_files(void)
{
    char dir[] = "/tmp/pnk_config_test_XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[256], big[256], missing[256], err[512];
    snprintf(path, sizeof path, "%s/server.yaml", dir);
    snprintf(big, sizeof big, "%s/big.yaml", dir);
    snprintf(missing, sizeof missing, "%s/missing.yaml", dir);

    const char *yaml = "http:\n  port: 0\n";
    CU_ASSERT_EQUAL_FATAL(write_file(path, yaml, strlen(yaml)), 0);
    pnk_config_t *c = pnk_config_load(path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    EXPECT_STR(pnk_config_file(c), path);
    static const pn_config_key_t keys[] = {{"port", PN_CFG_INT, "8080", 1, 65535, "port"},
                                           PN_CONFIG_END};
    unsetenv("POWERNODE_HTTP_PORT");
    CU_ASSERT_EQUAL(pnk_config_declare(c, "http", keys, sizeof keys[0], NULL, err, sizeof err), -1);
    char want[512];
    snprintf(want, sizeof want, "%s:2: http.port: 0 is below the minimum 1", path);
    EXPECT_STR(err, want);
    pnk_config_free(c);

    size_t len = ((size_t)1 << 20) + 10;
    char *text = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    memset(text, '#', len);
    CU_ASSERT_EQUAL_FATAL(write_file(big, text, len), 0);
    free(text);
    CU_ASSERT_PTR_NULL(pnk_config_load(big, err, sizeof err));
    snprintf(want, sizeof want, "%s: larger than the limit of 1048576 bytes", big);
    EXPECT_STR(err, want);

    CU_ASSERT_PTR_NULL(pnk_config_load(missing, err, sizeof err));
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", missing);
    EXPECT_STR(err, want);

    CU_ASSERT_PTR_NULL(pnk_config_load(dir, err, sizeof err));
    snprintf(want, sizeof want, "%s: not a regular file", dir);
    EXPECT_STR(err, want);

    unlink(path);
    unlink(big);
    rmdir(dir);
}

static void
test_parse_bool(void)
{
    const char *yes[] = {"true", "TRUE", "Yes", "on", "1"};
    const char *no[] = {"false", "False", "NO", "off", "0"};
    const char *bad[] = {"", "2", "tru", "y", "n", " true", "true ", "enabled"};
    bool b;

    for (size_t i = 0; i < 5; i++) {
        b = false;
        CU_ASSERT_EQUAL(pnk_config_parse_bool(yes[i], &b), 0);
        CU_ASSERT_TRUE(b);
        b = true;
        CU_ASSERT_EQUAL(pnk_config_parse_bool(no[i], &b), 0);
        CU_ASSERT_FALSE(b);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(pnk_config_parse_bool(bad[i], &b), -1);
    CU_ASSERT_EQUAL(pnk_config_parse_bool(NULL, &b), -1);
}

void
register_load_tests(void)
{
    CU_pSuite s = CU_add_suite("config_load", NULL, NULL);
    CU_add_test(s, "tree, raw values and lines", test_tree_raw_and_lines);
    CU_add_test(s, "empty documents are empty mappings", test_empty_documents);
    CU_add_test(s, "top level must be a mapping", test_top_level_must_be_mapping);
    CU_add_test(s, "duplicate keys", test_duplicate_keys);
    CU_add_test(s, "anchors, aliases and tags refused", test_anchors_aliases_tags_refused);
    CU_add_test(s, "depth cap", test_depth_cap);
    CU_add_test(s, "node cap", test_node_cap);
    CU_add_test(s, "syntax errors and other refusals", test_syntax_and_other_refusals);
    CU_add_test(s, "size cap on strings", test_size_cap_from_string);
    CU_add_test(s, "real files", test_real_files);
    CU_add_test(s, "parse_bool", test_parse_bool);
}
