/*
 * libFuzzer target for the config area: arbitrary bytes through the YAML loader, a fixed set
 * of declared sections, the getters, lists, keys and the stray-key check.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../kernel/src/config/config.h"
#include "../../kernel/src/core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const pn_config_key_t http_keys[] = {
    {"port", PN_CFG_INT, "8080", 1, 65535, ""},
    {"host", PN_CFG_STRING, "0.0.0.0", 0, 64, ""},
    {"tls", PN_CFG_BOOL, "false", 0, 0, ""},
    {"timeout_s", PN_CFG_DOUBLE, "30", 0.1, 600, ""},
    PN_CONFIG_END,
};
static const pn_config_key_t db_keys[] = {
    {"url", PN_CFG_STRING, "postgres://localhost/pn", 0, 0, ""},
    {"pool", PN_CFG_INT, "10", 1, 100, ""},
    PN_CONFIG_END,
};
static const pn_config_key_t plugin_keys[] = {
    {"max_upload_mb", PN_CFG_INT, "25", 1, 1024, ""},
    {"enabled", PN_CFG_BOOL, "true", 0, 0, ""},
    {"ratio", PN_CFG_DOUBLE, "0.5", 0, 1, ""},
    PN_CONFIG_END,
};
static const pn_config_key_t no_keys[] = {PN_CONFIG_END};
static const char *const http_reserved[] = {"cors_origins", "routes", NULL};
static const char *const plugins_reserved[] = {"enabled", "dir", NULL};
static const char *const known[] = {"worker", "fles", NULL};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Reading undeclared keys logs at error level; keep the fuzzer's output readable. */
    pnk_log_setup("text", PNK_LOG_ERROR + 1, 2);
    return 0;
}

/* Reads a value of each type; the results only need to be computed without a fault. */
static void
read_all(const pnk_config_t *c, const char *section, const pn_config_key_t *keys)
{
    volatile int64_t sink = 0;

    for (size_t i = 0; keys[i].key; i++) {
        switch (keys[i].type) {
        case PN_CFG_INT:
            sink += pnk_config_int(c, section, keys[i].key);
            break;
        case PN_CFG_BOOL:
            sink += pnk_config_bool(c, section, keys[i].key);
            break;
        case PN_CFG_DOUBLE:
            sink += (int64_t)(pnk_config_double(c, section, keys[i].key) > 0);
            break;
        default: {
            const char *s = pnk_config_string(c, section, keys[i].key);
            sink += s ? (int64_t)strlen(s) : 0;
        }
        }
    }
    (void)sink;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    const char *const *items;
    size_t n;
    pnk_config_t *c =
        pnk_config_load_string((const char *)data, size, "fuzz.yaml", err, sizeof err);

    if (c == NULL)
        return 0;
    (void)pnk_config_raw(c, "http.port");
    (void)pnk_config_raw(c, "plugins.files.max_upload_mb");
    (void)pnk_config_line(c, "plugins.files");
    (void)pnk_config_line(c, "a.b.c.d");
    (void)pnk_config_keys(c, "plugins", &items, &n);
    (void)pnk_config_keys(c, NULL, &items, &n);
    (void)pnk_config_list(c, "http.cors_origins", NULL, &items, &n, err, sizeof err);
    (void)pnk_config_list(c, "plugins.enabled", NULL, &items, &n, err, sizeof err);
    (void)pnk_config_env_alias(c, "database", "url", "PNK_FUZZ_UNSET_ALIAS");

    if (pnk_config_declare(c, "http", http_keys, sizeof http_keys[0], http_reserved, err,
                           sizeof err) == 0)
        read_all(c, "http", http_keys);
    if (pnk_config_declare(c, "database", db_keys, sizeof db_keys[0], NULL, err, sizeof err) == 0)
        read_all(c, "database", db_keys);
    (void)pnk_config_declare(c, "plugins", no_keys, sizeof no_keys[0], plugins_reserved, err,
                             sizeof err);
    if (pnk_config_declare(c, "plugins.files", plugin_keys, sizeof plugin_keys[0], NULL, err,
                           sizeof err) == 0)
        read_all(c, "plugins.files", plugin_keys);
    (void)pnk_config_check_unknown(c, known, err, sizeof err);
    pnk_config_free(c);
    return 0;
}
