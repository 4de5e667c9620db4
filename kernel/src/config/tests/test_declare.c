/* Declared sections: typed values, every validation message, precedence, table strides. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void register_declare_tests(void);

static const pn_config_key_t http_keys[] = {
    {"port", PN_CFG_INT, "8080", 1, 65535, "listen port"},
    {"host", PN_CFG_STRING, "0.0.0.0", 0, 255, "listen address"},
    {"tls", PN_CFG_BOOL, "false", 0, 0, "serve TLS"},
    {"timeout_s", PN_CFG_DOUBLE, "30", 0.1, 600, "request timeout"},
    {"workers", PN_CFG_INT, "4", 0, 0, "handler threads"},
    PN_CONFIG_END,
};

static const pn_config_key_t db_keys[] = {
    {"url", PN_CFG_STRING, NULL, 0, 0, "PostgreSQL URL"},
    {"pool", PN_CFG_INT, "10", 1, 100, "connections"},
    PN_CONFIG_END,
};

static const pn_config_key_t files_keys[] = {
    {"max_upload_mb", PN_CFG_INT, "25", 1, 1024, "upload limit"},
    {"bucket", PN_CFG_STRING, "files", 0, 0, "bucket"},
    PN_CONFIG_END,
};

static const pn_config_key_t no_keys[] = {PN_CONFIG_END};

/* Names a test may set; cleared before and after each test so tests do not leak. */
static const char *const env_names[] = {
    "POWERNODE_HTTP_PORT",
    "POWERNODE_HTTP_HOST",
    "POWERNODE_HTTP_TLS",
    "POWERNODE_HTTP_TIMEOUT_S",
    "POWERNODE_HTTP_WORKERS",
    "POWERNODE_DATABASE_URL",
    "POWERNODE_DATABASE_POOL",
    "DATABASE_URL",
    "PNK_TEST_DB_URL2",
    "POWERNODE_PLUGINS_FILES_MAX_UPLOAD_MB",
    "POWERNODE_EXT_BIG_THING_LEVEL",
    NULL,
};

static void
clear_env(void)
{
    for (size_t i = 0; env_names[i]; i++)
        unsetenv(env_names[i]);
}

static int
suite_init(void)
{
    clear_env();
    return 0;
}

static int
suite_clean(void)
{
    clear_env();
    return 0;
}

/* Declaring `keys` for `section` on yaml must fail with exactly `want`. */
static void
expect_declare_error(const char *yaml, const char *section, const pn_config_key_t *keys,
                     const char *want)
{
    char err[512] = "";
    pnk_config_t *c = load(yaml);
    if (c == NULL)
        return;
    CU_ASSERT_EQUAL(pnk_config_declare(c, section, keys, sizeof keys[0], NULL, err, sizeof err),
                    -1);
    EXPECT_STR(err, want);
    pnk_config_free(c);
}

static void
test_full_valid_file(void)
{
    char err[512] = "";
    pnk_config_t *c = load("# Powernode server\n"
                           "http:\n"
                           "  port: 8081\n"
                           "  host: \"127.0.0.1\"\n"
                           "  tls: off\n"
                           "  timeout_s: 2.5\n"
                           "database:\n"
                           "  url: postgres://localhost/pn\n"
                           "  pool: 4\n"
                           "plugins:\n"
                           "  enabled: [files, ai]\n"
                           "  files:\n"
                           "    max_upload_mb: 100\n"
                           "    bucket: uploads\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    static const char *const plugin_reserved[] = {"enabled", NULL};
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "http", http_keys, sizeof http_keys[0], NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "database", db_keys, sizeof db_keys[0], NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_config_declare(c, "plugins", no_keys, sizeof no_keys[0], plugin_reserved,
                                       err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(pnk_config_declare(c, "plugins.files", files_keys, sizeof files_keys[0], NULL,
                                       err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(pnk_config_check_unknown(c, NULL, err, sizeof err), 0);

    CU_ASSERT_EQUAL(pnk_config_int(c, "http", "port"), 8081);
    EXPECT_STR(pnk_config_string(c, "http", "host"), "127.0.0.1");
    CU_ASSERT_FALSE(pnk_config_bool(c, "http", "tls"));
    CU_ASSERT_DOUBLE_EQUAL(pnk_config_double(c, "http", "timeout_s"), 2.5, 1e-12);
    CU_ASSERT_EQUAL(pnk_config_int(c, "http", "workers"), 4); /* default */
    EXPECT_STR(pnk_config_string(c, "database", "url"), "postgres://localhost/pn");
    CU_ASSERT_EQUAL(pnk_config_int(c, "database", "pool"), 4);
    CU_ASSERT_EQUAL(pnk_config_int(c, "plugins.files", "max_upload_mb"), 100);
    EXPECT_STR(pnk_config_string(c, "plugins.files", "bucket"), "uploads");
    EXPECT_STR(pnk_config_raw(c, "plugins.files.bucket"), "uploads");
    CU_ASSERT_EQUAL(pnk_config_line(c, "plugins.files.max_upload_mb"), 13);

    /* Undeclared keys and wrong types read as zero (and log). */
    CU_ASSERT_EQUAL(pnk_config_int(c, "http", "nope"), 0);
    CU_ASSERT_EQUAL(pnk_config_int(c, "nope", "port"), 0);
    CU_ASSERT_PTR_NULL(pnk_config_string(c, "http", "port"));
    CU_ASSERT_FALSE(pnk_config_bool(c, "http", "host"));
    CU_ASSERT_DOUBLE_EQUAL(pnk_config_double(c, "http", "port"), 0.0, 0);
    CU_ASSERT_EQUAL(pnk_config_int(NULL, "http", "port"), 0);

    /* A section is declared once; aliases come before the declaration. */
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "http", http_keys, sizeof http_keys[0], NULL, err, sizeof err), -1);
    EXPECT_STR(err, "http: section declared twice");
    CU_ASSERT_EQUAL(pnk_config_env_alias(c, "http", "port", "PORT"), -1);
    pnk_config_free(c);
}

static void
test_defaults_without_file(void)
{
    char err[512] = "";
    pnk_config_t *c = pnk_config_load(NULL, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "http", http_keys, sizeof http_keys[0], NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_config_int(c, "http", "port"), 8080);
    EXPECT_STR(pnk_config_string(c, "http", "host"), "0.0.0.0");
    CU_ASSERT_DOUBLE_EQUAL(pnk_config_double(c, "http", "timeout_s"), 30.0, 0);
    /* The required URL is missing: there is no file to point at. */
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "database", db_keys, sizeof db_keys[0], NULL, err, sizeof err), -1);
    EXPECT_STR(err, "database.url: required setting is missing (set it in the file or with "
                    "POWERNODE_DATABASE_URL)");
    pnk_config_free(c);
}

static void
test_value_errors(void)
{
    expect_declare_error("http:\n  port: abc\n", "http", http_keys,
                         "t.yaml:2: http.port: \"abc\" is not an integer");
    expect_declare_error("http:\n  port: 0\n", "http", http_keys,
                         "t.yaml:2: http.port: 0 is below the minimum 1");
    expect_declare_error("http:\n  port: 99999\n", "http", http_keys,
                         "t.yaml:2: http.port: 99999 is above the maximum 65535");
    expect_declare_error("http:\n  port: -5\n", "http", http_keys,
                         "t.yaml:2: http.port: -5 is below the minimum 1");
    expect_declare_error("http:\n  port: 99999999999999999999\n", "http", http_keys,
                         "t.yaml:2: http.port: \"99999999999999999999\" is out of the 64-bit "
                         "integer range");
    expect_declare_error("http:\n  port: 80.5\n", "http", http_keys,
                         "t.yaml:2: http.port: \"80.5\" is not an integer");
    expect_declare_error("http:\n  port: 0x50\n", "http", http_keys,
                         "t.yaml:2: http.port: \"0x50\" is not an integer");
    expect_declare_error("http:\n  port: \"\"\n", "http", http_keys,
                         "t.yaml:2: http.port: \"\" is not an integer");
    expect_declare_error("http:\n\n  tls: maybe\n", "http", http_keys,
                         "t.yaml:3: http.tls: \"maybe\" is not a boolean (use true or false)");
    expect_declare_error("http:\n  timeout_s: fast\n", "http", http_keys,
                         "t.yaml:2: http.timeout_s: \"fast\" is not a finite number");
    expect_declare_error("http:\n  timeout_s: 1e999\n", "http", http_keys,
                         "t.yaml:2: http.timeout_s: \"1e999\" is not a finite number");
    expect_declare_error("http:\n  timeout_s: nan\n", "http", http_keys,
                         "t.yaml:2: http.timeout_s: \"nan\" is not a finite number");
    expect_declare_error("http:\n  timeout_s: 0.05\n", "http", http_keys,
                         "t.yaml:2: http.timeout_s: 0.05 is below the minimum 0.1");
    expect_declare_error("http:\n  timeout_s: 600.5\n", "http", http_keys,
                         "t.yaml:2: http.timeout_s: 600.5 is above the maximum 600");
    /* Long junk is cut short in the message. */
    expect_declare_error("http:\n  port: aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeee\n", "http",
                         http_keys,
                         "t.yaml:2: http.port: \"aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd...\" "
                         "is not an integer");

    char yaml[400] = "http:\n  host: ";
    size_t k = strlen(yaml);
    memset(yaml + k, 'h', 300);
    strcpy(yaml + k + 300, "\n");
    expect_declare_error(yaml, "http", http_keys,
                         "t.yaml:2: http.host: the value is 300 characters long, above the "
                         "maximum 255");

    expect_declare_error("http:\n  port: 1\n  prot: 2\n", "http", http_keys,
                         "t.yaml:3: http.prot: unknown setting");
    expect_declare_error("http:\n  port: [1, 2]\n", "http", http_keys,
                         "t.yaml:2: http.port: expected a single value, found a sequence");
    expect_declare_error("http:\n  port:\n    x: 1\n", "http", http_keys,
                         "t.yaml:2: http.port: expected a single value, found a mapping");
    expect_declare_error("# c\nhttp: 8080\n", "http", http_keys,
                         "t.yaml:2: http: expected a mapping of settings, found a scalar");
    expect_declare_error("http: [a]\n", "http", http_keys,
                         "t.yaml:1: http: expected a mapping of settings, found a sequence");
    expect_declare_error("plugins: [files]\n", "plugins.files", files_keys,
                         "t.yaml:1: plugins: expected a mapping of settings, found a sequence");
    expect_declare_error("plugins:\n  files: yes\n", "plugins.files", files_keys,
                         "t.yaml:2: plugins.files: expected a mapping of settings, found a "
                         "scalar");
    expect_declare_error("plugins:\n  files:\n    max_upload_mb: 0\n", "plugins.files", files_keys,
                         "t.yaml:3: plugins.files.max_upload_mb: 0 is below the minimum 1");
}

static void
test_accepted_forms(void)
{
    char err[512] = "";
    pnk_config_t *c = load("http:\n"
                           "  port: \"+443\"\n"
                           "  host: ''\n"
                           "  tls: YES\n"
                           "  timeout_s: 1e2\n"
                           "  workers: -9223372036854775808\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "http", http_keys, sizeof http_keys[0], NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_config_int(c, "http", "port"), 443);
    EXPECT_STR(pnk_config_string(c, "http", "host"), "");
    CU_ASSERT_TRUE(pnk_config_bool(c, "http", "tls"));
    CU_ASSERT_DOUBLE_EQUAL(pnk_config_double(c, "http", "timeout_s"), 100.0, 0);
    CU_ASSERT_EQUAL(pnk_config_int(c, "http", "workers"), INT64_MIN);
    pnk_config_free(c);

    /* A null value (key with nothing after it) means "not set": the default applies. */
    c = load("http:\n  port:\n  workers: ~\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "http", http_keys, sizeof http_keys[0], NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_config_int(c, "http", "port"), 8080);
    CU_ASSERT_EQUAL(pnk_config_int(c, "http", "workers"), 4);
    pnk_config_free(c);

    /* An empty section is a section with nothing set. */
    c = load("http:\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "http", http_keys, sizeof http_keys[0], NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_config_int(c, "http", "port"), 8080);
    pnk_config_free(c);
}

static void
test_required_missing(void)
{
    expect_declare_error("http:\n  port: 1\n", "database", db_keys,
                         "t.yaml: database.url: required setting is missing (set it in the file "
                         "or with POWERNODE_DATABASE_URL)");
    expect_declare_error("http:\n  port: 1\ndatabase:\n  pool: 3\n", "database", db_keys,
                         "t.yaml:3: database.url: required setting is missing (set it in the "
                         "file or with POWERNODE_DATABASE_URL)");
    expect_declare_error("database:\n  pool: 3\n  url:\n", "database", db_keys,
                         "t.yaml:3: database.url: required setting is missing (set it in the "
                         "file or with POWERNODE_DATABASE_URL)");

    char err[512] = "";
    pnk_config_t *c = load("database:\n  pool: 3\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(pnk_config_env_alias(c, "database", "url", "DATABASE_URL"), 0);
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "database", db_keys, sizeof db_keys[0], NULL, err, sizeof err), -1);
    EXPECT_STR(err, "t.yaml:1: database.url: required setting is missing (set it in the file or "
                    "with POWERNODE_DATABASE_URL or DATABASE_URL)");
    pnk_config_free(c);
}

/* Declares database on yaml with the DATABASE_URL alias and returns the URL it got. */
static const char *
db_url(pnk_config_t *c)
{
    char err[512] = "";
    if (pnk_config_env_alias(c, "database", "url", "DATABASE_URL") != 0 ||
        pnk_config_declare(c, "database", db_keys, sizeof db_keys[0], NULL, err, sizeof err) != 0) {
        fprintf(stderr, "\n  declare failed: %s\n", err);
        return NULL;
    }
    return pnk_config_string(c, "database", "url");
}

static void
test_precedence(void)
{
    const char *yaml = "database:\n  url: from-file\n";
    pnk_config_t *c;

    clear_env();
    c = load(yaml);
    EXPECT_STR(db_url(c), "from-file");
    pnk_config_free(c);

    setenv("DATABASE_URL", "from-alias", 1);
    c = load(yaml);
    EXPECT_STR(db_url(c), "from-alias");
    pnk_config_free(c);

    setenv("POWERNODE_DATABASE_URL", "from-powernode", 1);
    c = load(yaml);
    EXPECT_STR(db_url(c), "from-powernode");
    pnk_config_free(c);

    /* Empty variables count as unset. */
    setenv("POWERNODE_DATABASE_URL", "", 1);
    c = load(yaml);
    EXPECT_STR(db_url(c), "from-alias");
    pnk_config_free(c);
    setenv("DATABASE_URL", "", 1);
    c = load(yaml);
    EXPECT_STR(db_url(c), "from-file");
    pnk_config_free(c);

    /* The alias satisfies a required key with no file at all. */
    setenv("DATABASE_URL", "alias-only", 1);
    char err[256];
    c = pnk_config_load(NULL, err, sizeof err);
    EXPECT_STR(db_url(c), "alias-only");
    pnk_config_free(c);

    /* The first alias given for a key wins over a later one. */
    setenv("PNK_TEST_DB_URL2", "second-alias", 1);
    c = load(yaml);
    CU_ASSERT_EQUAL(pnk_config_env_alias(c, "database", "url", "PNK_TEST_DB_URL2"), 0);
    EXPECT_STR(db_url(c), "second-alias"); /* DATABASE_URL was registered after it */
    pnk_config_free(c);
    clear_env();
}

static void
test_env_overrides(void)
{
    char err[512] = "";
    pnk_config_t *c;

    clear_env();
    setenv("POWERNODE_HTTP_PORT", "9100", 1);
    setenv("POWERNODE_HTTP_TLS", "on", 1);
    setenv("POWERNODE_HTTP_TIMEOUT_S", "0.5", 1);
    setenv("POWERNODE_PLUGINS_FILES_MAX_UPLOAD_MB", "7", 1);
    c = load("http:\n  port: 8081\n  tls: false\nplugins:\n  files:\n    max_upload_mb: 0\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "http", http_keys, sizeof http_keys[0], NULL, err, sizeof err), 0);
    /* The file's invalid 0 is never used: the environment wins before validation. */
    CU_ASSERT_EQUAL(pnk_config_declare(c, "plugins.files", files_keys, sizeof files_keys[0], NULL,
                                       err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(pnk_config_int(c, "http", "port"), 9100);
    CU_ASSERT_TRUE(pnk_config_bool(c, "http", "tls"));
    CU_ASSERT_DOUBLE_EQUAL(pnk_config_double(c, "http", "timeout_s"), 0.5, 0);
    CU_ASSERT_EQUAL(pnk_config_int(c, "plugins.files", "max_upload_mb"), 7);
    /* raw is the file only. */
    EXPECT_STR(pnk_config_raw(c, "http.port"), "8081");
    pnk_config_free(c);

    setenv("POWERNODE_HTTP_PORT", "abc", 1);
    expect_declare_error("http:\n  port: 8081\n", "http", http_keys,
                         "environment POWERNODE_HTTP_PORT: http.port: \"abc\" is not an integer");
    setenv("POWERNODE_HTTP_PORT", "70000", 1);
    expect_declare_error("", "http", http_keys,
                         "environment POWERNODE_HTTP_PORT: http.port: 70000 is above the "
                         "maximum 65535");
    setenv("POWERNODE_HTTP_PORT", " 80", 1);
    expect_declare_error("", "http", http_keys,
                         "environment POWERNODE_HTTP_PORT: http.port: \" 80\" is not an integer");
    clear_env();

    setenv("POWERNODE_DATABASE_URL", "postgres://x", 1);
    setenv("DATABASE_URL", "x", 1);
    setenv("POWERNODE_DATABASE_POOL", "0", 1);
    c = load("");
    CU_ASSERT_EQUAL(pnk_config_env_alias(c, "database", "pool", "DATABASE_URL"), 0);
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "database", db_keys, sizeof db_keys[0], NULL, err, sizeof err), -1);
    EXPECT_STR(err, "environment POWERNODE_DATABASE_POOL: database.pool: 0 is below the minimum 1");
    pnk_config_free(c);
    unsetenv("POWERNODE_DATABASE_POOL");
    c = load("");
    CU_ASSERT_EQUAL(pnk_config_env_alias(c, "database", "pool", "DATABASE_URL"), 0);
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "database", db_keys, sizeof db_keys[0], NULL, err, sizeof err), -1);
    EXPECT_STR(err, "environment DATABASE_URL: database.pool: \"x\" is not an integer");
    pnk_config_free(c);
    clear_env();

    /* Dashes and dots in a section name become underscores. */
    static const pn_config_key_t level_keys[] = {{"level", PN_CFG_INT, "1", 0, 0, ""},
                                                 PN_CONFIG_END};
    setenv("POWERNODE_EXT_BIG_THING_LEVEL", "42", 1);
    c = load("");
    CU_ASSERT_EQUAL(pnk_config_declare(c, "ext.big-thing", level_keys, sizeof level_keys[0], NULL,
                                       err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(pnk_config_int(c, "ext.big-thing", "level"), 42);
    pnk_config_free(c);
    clear_env();
}

static void
test_reserved_keys(void)
{
    static const char *const reserved[] = {"routes", "cors_origins", NULL};
    char err[512] = "";
    pnk_config_t *c = load("http:\n"
                           "  port: 81\n"
                           "  routes:\n"
                           "    - /a\n"
                           "  cors_origins: a.example, b.example\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "http", http_keys, sizeof http_keys[0], reserved, err, sizeof err),
        0);
    EXPECT_STR(pnk_config_raw(c, "http.cors_origins"), "a.example, b.example");
    CU_ASSERT_PTR_NULL(pnk_config_raw(c, "http.routes"));
    CU_ASSERT_EQUAL(pnk_config_check_unknown(c, NULL, err, sizeof err), 0);
    pnk_config_free(c);

    /* Without the reserved list the same file is refused. */
    expect_declare_error("http:\n  port: 81\n  cors_origins: a\n", "http", http_keys,
                         "t.yaml:3: http.cors_origins: unknown setting");
}

/* A newer plugin's struct (longer) and an older one (shorter) must both be walked by stride. */
typedef struct {
    pn_config_key_t k;
    int future_flag;
    const char *future_text;
} newer_key_t;

typedef struct {
    const char *key;
    pn_cfg_type_t type;
    const char *def;
} older_key_t;

static void
test_element_size_stride(void)
{
    static const newer_key_t newer[] = {
        {{"max_upload_mb", PN_CFG_INT, "25", 1, 1024, "upload limit"}, 1, "x"},
        {{"bucket", PN_CFG_STRING, "files", 0, 0, "bucket"}, 2, "y"},
        {{NULL, 0, NULL, 0, 0, NULL}, 0, NULL},
    };
    static const older_key_t older[] = {
        {"depth", PN_CFG_INT, "3"},
        {"name", PN_CFG_STRING, NULL},
        {NULL, 0, NULL},
    };
    char err[512] = "";
    pnk_config_t *c = load("plugins:\n  files:\n    bucket: b\n  old:\n    name: n\n"
                           "    depth: 99999\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "plugins.files", &newer[0].k, sizeof newer[0], NULL, err, sizeof err),
        0);
    CU_ASSERT_EQUAL(pnk_config_int(c, "plugins.files", "max_upload_mb"), 25);
    EXPECT_STR(pnk_config_string(c, "plugins.files", "bucket"), "b");
    /* The older struct has no min/max: they read as 0, unbounded. */
    CU_ASSERT_EQUAL(pnk_config_declare(c, "plugins.old",
                                       (const pn_config_key_t *)(const void *)older,
                                       sizeof older[0], NULL, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(pnk_config_int(c, "plugins.old", "depth"), 99999);
    EXPECT_STR(pnk_config_string(c, "plugins.old", "name"), "n");
    CU_ASSERT_EQUAL(pnk_config_check_unknown(c, NULL, err, sizeof err), 0);
    pnk_config_free(c);
}

static void
test_bad_tables(void)
{
    static const pn_config_key_t bad_name[] = {{"Port", PN_CFG_INT, "1", 0, 0, ""}, PN_CONFIG_END};
    static const pn_config_key_t bad_type[] = {{"port", 9, "1", 0, 0, ""}, PN_CONFIG_END};
    static const pn_config_key_t bad_range[] = {{"port", PN_CFG_INT, "1", 5, 0, ""}, PN_CONFIG_END};
    static const pn_config_key_t twice[] = {
        {"port", PN_CFG_INT, "1", 0, 0, ""}, {"port", PN_CFG_INT, "2", 0, 0, ""}, PN_CONFIG_END};
    static const pn_config_key_t bad_default[] = {{"port", PN_CFG_INT, "abc", 0, 0, ""},
                                                  PN_CONFIG_END};
    static const pn_config_key_t low_default[] = {{"port", PN_CFG_INT, "0", 1, 10, ""},
                                                  PN_CONFIG_END};
    char err[512];

    expect_declare_error("", "http", bad_name,
                         "http: declared key \"Port\" is not a valid name ([a-z][a-z0-9_]*)");
    expect_declare_error("", "http", bad_type, "http.port: declared with unknown type 9");
    expect_declare_error("", "http", bad_range,
                         "http.port: declared with a minimum above its maximum");
    expect_declare_error("", "http", twice, "http.port: declared twice");
    expect_declare_error("", "http", bad_default,
                         "built-in default of http.port: \"abc\" is not an integer");
    expect_declare_error("", "http", low_default,
                         "built-in default of http.port: 0 is below the minimum 1");
    expect_declare_error("", "Http", http_keys, "config: \"Http\" is not a valid section name");
    expect_declare_error("", "a..b", http_keys, "config: \"a..b\" is not a valid section name");
    expect_declare_error("", "a.", http_keys, "config: \"a.\" is not a valid section name");

    pnk_config_t *c = load("");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(pnk_config_declare(c, "http", http_keys, 4, NULL, err, sizeof err), -1);
    EXPECT_STR(err, "http: element size 4 is not a pn_config_key_t");
    CU_ASSERT_EQUAL(pnk_config_declare(c, "http", NULL, sizeof http_keys[0], NULL, err, sizeof err),
                    -1);
    CU_ASSERT_EQUAL(pnk_config_env_alias(c, "http", "port", ""), -1);
    /* A failed declaration leaves the section undeclared. */
    CU_ASSERT_EQUAL(
        pnk_config_declare(c, "http", http_keys, sizeof http_keys[0], NULL, err, sizeof err), 0);
    pnk_config_free(c);
}

void
register_declare_tests(void)
{
    CU_pSuite s = CU_add_suite("config_declare", suite_init, suite_clean);
    CU_add_test(s, "full valid file", test_full_valid_file);
    CU_add_test(s, "defaults without a file", test_defaults_without_file);
    CU_add_test(s, "value errors name file:line:key", test_value_errors);
    CU_add_test(s, "accepted forms and nulls", test_accepted_forms);
    CU_add_test(s, "required key missing", test_required_missing);
    CU_add_test(s, "precedence env > alias > file > default", test_precedence);
    CU_add_test(s, "environment overrides", test_env_overrides);
    CU_add_test(s, "reserved keys", test_reserved_keys);
    CU_add_test(s, "element size stride", test_element_size_stride);
    CU_add_test(s, "bad key tables", test_bad_tables);
}
