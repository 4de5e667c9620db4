/* The loader against real fixture .so files: every refusal's exact line, order, fini. */
#include <CUnit/Basic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../loader.h"

static char events[1024];

static void test_vlog(pn_plugin_ctx_t *ctx, pn_log_level_t level, const char *fmt, va_list ap)
    PN_PRINTF(3, 0);
static void test_log(pn_plugin_ctx_t *ctx, pn_log_level_t level, const char *fmt, ...)
    PN_PRINTF(3, 4);

static void
test_vlog(pn_plugin_ctx_t *ctx, pn_log_level_t level, const char *fmt, va_list ap)
{
    char line[256];

    vsnprintf(line, sizeof line, fmt, ap);
    /* As the kernel's host does: an error logged during init becomes the refusal message. */
    if (level == PN_LOG_ERROR && ctx->state == PNK_PLUGIN_FOUND)
        snprintf(ctx->last_error, sizeof ctx->last_error, "%s", line);
    if (level == PN_LOG_INFO)
        snprintf(events + strlen(events), sizeof events - strlen(events), "%s;", line);
}

static void
test_log(pn_plugin_ctx_t *ctx, pn_log_level_t level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    test_vlog(ctx, level, fmt, ap);
    va_end(ap);
}

static const pn_host_t host = {
    .abi = PN_PLUGIN_ABI, .size = sizeof(pn_host_t), .log = test_log, .vlog = test_vlog};

static char err[1024];

static int
open_fx(pnk_loader_t *l, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.so", FIXTURE_DIR, name);
    return pnk_loader_open(l, path, err, sizeof err);
}

static bool
enable_all(void *ud, const char *name, pn_kind_t kind, bool *optional)
{
    (void)ud;
    (void)kind;
    *optional = strcmp(name, "init_fails") == 0 && getenv("FX_OPTIONAL");
    return true;
}

static bool
namespaces_only(void *ud, const char *name, pn_kind_t kind, bool *optional)
{
    (void)ud;
    (void)name;
    *optional = false;
    return kind == PN_KIND_NAMESPACE;
}

static void
test_loader_missing_file(void)
{
    pnk_loader_t *l = pnk_loader_new();
    CU_ASSERT_EQUAL(open_fx(l, "nope"), -1);
    CU_ASSERT_STRING_EQUAL(err, "plugin " FIXTURE_DIR "/nope.so: file not found");
    pnk_loader_free(l);
}

static void
test_loader_not_shared_object(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/text.so", FIXTURE_DIR);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("not an ELF file\n", f);
    fclose(f);
    pnk_loader_t *l = pnk_loader_new();
    CU_ASSERT_EQUAL(open_fx(l, "text"), -1);
    CU_ASSERT_STRING_EQUAL(err, "plugin " FIXTURE_DIR "/text.so: not a shared object");
    pnk_loader_free(l);
    unlink(path);
}

static void
test_loader_no_entry(void)
{
    pnk_loader_t *l = pnk_loader_new();
    CU_ASSERT_EQUAL(open_fx(l, "no_entry"), -1);
    CU_ASSERT_STRING_EQUAL(err, "plugin " FIXTURE_DIR
                                "/no_entry.so: not a Powernode plugin (no pn_plugin_entry)");
    pnk_loader_free(l);
}

static void
test_loader_abi_mismatch(void)
{
    pnk_loader_t *l = pnk_loader_new();
    CU_ASSERT_EQUAL(open_fx(l, "abi_mismatch"), -1);
    CU_ASSERT_STRING_EQUAL(err, "plugin \"abi_mismatch\" (abi_mismatch.so): built for plugin ABI "
                                "2, this server provides ABI 1; rebuild against powernode-plugin "
                                "1.x");
    pnk_loader_free(l);
}

static void
test_loader_tag_mismatch(void)
{
    pnk_loader_t *l = pnk_loader_new();
    CU_ASSERT_EQUAL(open_fx(l, "tag_mismatch"), -1);
    CU_ASSERT_STRING_EQUAL(err, "plugin \"tag_mismatch\" (tag_mismatch.so): ABI tag differs in "
                                "the Jansson major version: plugin \"jansson3\", server "
                                "\"jansson2\"");
    pnk_loader_free(l);
}

static void
test_loader_duplicate_name(void)
{
    pnk_loader_t *l = pnk_loader_new();
    CU_ASSERT_EQUAL(open_fx(l, "good"), 0);
    CU_ASSERT_EQUAL(open_fx(l, "dup_name"), -1);
    CU_ASSERT_STRING_EQUAL(err, "plugin \"good\" (dup_name.so): name already used by " FIXTURE_DIR
                                "/good.so");
    pnk_loader_free(l);
}

static void
test_loader_missing_dependency(void)
{
    pnk_loader_t *l = pnk_loader_new();
    pnk_loader_policy_t p = {enable_all, NULL};
    CU_ASSERT_EQUAL(open_fx(l, "missing_dep"), 0);
    CU_ASSERT_EQUAL(pnk_loader_resolve(l, &p, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(
        err, "plugin \"missing_dep\": needs plugin \"storage\", which is not installed");
    pnk_loader_free(l);
}

static void
test_loader_disabled_dependency(void)
{
    pnk_loader_t *l = pnk_loader_new();
    pnk_loader_policy_t p = {namespaces_only, NULL};
    CU_ASSERT_EQUAL(open_fx(l, "ext"), 0);
    CU_ASSERT_EQUAL(open_fx(l, "needs_ext"), 0);
    CU_ASSERT_EQUAL(pnk_loader_resolve(l, &p, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "plugin \"needs_ext\": needs plugin \"ext\", which is not "
                                       "enabled"));
    pnk_loader_free(l);
}

static void
test_loader_cycle(void)
{
    pnk_loader_t *l = pnk_loader_new();
    pnk_loader_policy_t p = {enable_all, NULL};
    CU_ASSERT_EQUAL(open_fx(l, "cycle_a"), 0);
    CU_ASSERT_EQUAL(open_fx(l, "cycle_b"), 0);
    CU_ASSERT_EQUAL(pnk_loader_resolve(l, &p, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err,
                           "plugin \"cycle_a\": dependency cycle: cycle_a -> cycle_b -> cycle_a");
    pnk_loader_free(l);
}

static void
test_loader_init_failure_names_plugin_message(void)
{
    pnk_loader_t *l = pnk_loader_new();
    pnk_loader_policy_t p = {enable_all, NULL};
    unsetenv("FX_OPTIONAL");
    CU_ASSERT_EQUAL(open_fx(l, "init_fails"), 0);
    CU_ASSERT_EQUAL(pnk_loader_resolve(l, &p, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_loader_init(l, &host, NULL, NULL, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "plugin \"init_fails\": init failed: plugins.init_fails.limit: 0 "
                                "is below the minimum 1");
    pnk_loader_free(l);
}

static void
test_loader_optional_failure_continues(void)
{
    pnk_loader_t *l = pnk_loader_new();
    pnk_loader_policy_t p = {enable_all, NULL};
    setenv("FX_OPTIONAL", "1", 1);
    CU_ASSERT_EQUAL(open_fx(l, "init_fails"), 0);
    CU_ASSERT_EQUAL(open_fx(l, "good"), 0);
    CU_ASSERT_EQUAL(pnk_loader_resolve(l, &p, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_loader_init(l, &host, NULL, NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_loader_find(l, "init_fails")->state, PNK_PLUGIN_FAILED);
    CU_ASSERT_EQUAL(pnk_loader_find(l, "good")->state, PNK_PLUGIN_ACTIVE);
    unsetenv("FX_OPTIONAL");
    pnk_loader_free(l);
}

static void
test_loader_orders_by_dependency_and_finis_in_reverse(void)
{
    pnk_loader_t *l = pnk_loader_new();
    pnk_loader_policy_t p = {namespaces_only, NULL};
    events[0] = '\0';
    /* Opened dependent-first on purpose: the order must come from `depends`. */
    CU_ASSERT_EQUAL(open_fx(l, "needs_good"), 0);
    CU_ASSERT_EQUAL(open_fx(l, "good"), 0);
    CU_ASSERT_EQUAL(open_fx(l, "ext"), 0);
    CU_ASSERT_EQUAL(pnk_loader_resolve(l, &p, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_loader_init(l, &host, NULL, NULL, err, sizeof err), 0);
    CU_ASSERT_FALSE(pnk_loader_extension_active(l, "ext"));
    CU_ASSERT_EQUAL(pnk_loader_find(l, "ext")->state, PNK_PLUGIN_DISABLED);
    pnk_loader_fini(l);
    CU_ASSERT_STRING_EQUAL(events, "init good;init needs_good;fini needs_good;fini good;");
    pnk_loader_free(l);
}

static void
test_loader_extension_enabled(void)
{
    pnk_loader_t *l = pnk_loader_new();
    pnk_loader_policy_t p = {enable_all, NULL};
    CU_ASSERT_EQUAL(open_fx(l, "ext"), 0);
    CU_ASSERT_EQUAL(pnk_loader_resolve(l, &p, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_loader_init(l, &host, NULL, NULL, err, sizeof err), 0);
    CU_ASSERT_TRUE(pnk_loader_extension_active(l, "ext"));
    pnk_loader_free(l);
}

int
main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("loader", NULL, NULL);
    CU_add_test(s, "missing_file", test_loader_missing_file);
    CU_add_test(s, "not_shared_object", test_loader_not_shared_object);
    CU_add_test(s, "no_entry", test_loader_no_entry);
    CU_add_test(s, "abi_mismatch", test_loader_abi_mismatch);
    CU_add_test(s, "tag_mismatch", test_loader_tag_mismatch);
    CU_add_test(s, "duplicate_name", test_loader_duplicate_name);
    CU_add_test(s, "missing_dependency", test_loader_missing_dependency);
    CU_add_test(s, "disabled_dependency", test_loader_disabled_dependency);
    CU_add_test(s, "cycle", test_loader_cycle);
    CU_add_test(s, "init_failure", test_loader_init_failure_names_plugin_message);
    CU_add_test(s, "optional_failure", test_loader_optional_failure_continues);
    CU_add_test(s, "order_and_fini", test_loader_orders_by_dependency_and_finis_in_reverse);
    CU_add_test(s, "extension_enabled", test_loader_extension_enabled);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
