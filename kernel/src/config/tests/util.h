/* Helpers shared by the config suites: load a YAML string, compare messages and show both. */
#ifndef PNK_CONFIG_TEST_UTIL_H
#define PNK_CONFIG_TEST_UTIL_H

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "../config.h"

/* CUnit prints only the expression; print both strings so a wrong message is easy to fix. */
#define EXPECT_STR(actual, expected)                                                               \
    do {                                                                                           \
        const char *a_ = (actual), *e_ = (expected);                                               \
        if (a_ == NULL || strcmp(a_, e_) != 0)                                                     \
            fprintf(stderr, "\n  %s:%d:\n    got  \"%s\"\n    want \"%s\"\n", __FILE__, __LINE__,  \
                    a_ ? a_ : "(null)", e_);                                                       \
        CU_ASSERT(a_ != NULL && strcmp(a_, e_) == 0);                                              \
    } while (0)

static inline pnk_config_t *
load(const char *yaml)
{
    char err[512] = "";
    pnk_config_t *c = pnk_config_load_string(yaml, strlen(yaml), "t.yaml", err, sizeof err);
    if (c == NULL)
        fprintf(stderr, "\n  unexpected load error: %s\n", err);
    CU_ASSERT_PTR_NOT_NULL(c);
    return c;
}

/* Loading yaml must fail with exactly `want`. */
#define EXPECT_LOAD_ERROR(yaml, want)                                                              \
    do {                                                                                           \
        char err_[512] = "";                                                                       \
        const char *y_ = (yaml);                                                                   \
        pnk_config_t *c_ = pnk_config_load_string(y_, strlen(y_), "t.yaml", err_, sizeof err_);    \
        CU_ASSERT_PTR_NULL(c_);                                                                    \
        pnk_config_free(c_);                                                                       \
        EXPECT_STR(err_, want);                                                                    \
    } while (0)

#endif
